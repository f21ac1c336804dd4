//! A row's ops apply in version order whatever the batch boundaries and the
//! arrival order: a comment edited then deleted keeps its edit's time, and
//! random valid case histories, split into random batches and shuffled,
//! end in the rows of applying each case's events one at a time in version
//! order (a model of the timeline, below).

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use case_event_handler::event::pb::{self, case_event::Payload};
use case_event_handler::event::{CaseEvent, Event, Timestamp};
use case_event_handler::flavors::kit::ids;
use case_event_handler::flavors::timeline::Timeline;
use case_event_handler::handler::{BatchHandler, Ctx, HandleResp};
use case_event_handler::store::rows::PlannedRows;
use case_event_handler::store::Store;

use crate::helpers::*;

/// Seconds of an event's `occurred_at`: its time is a function of its version.
const EPOCH_S: i64 = 1_700_000_000;

fn at_ms(version: u64) -> i64 {
    (EPOCH_S + version as i64) * 1000
}

/// One event of a generated history.
#[derive(Debug, Clone)]
enum Step {
    Added(String, String),
    Edited(String, String),
    Deleted(String),
    Status(String),
}

fn event(case: &str, version: u64, step: &Step) -> CaseEvent {
    let payload = match step {
        Step::Added(cell, text) => Payload::CaseCommentAdded(pb::CaseCommentAdded {
            cell_id: cell.clone(),
            markdown: text.clone(),
            ..Default::default()
        }),
        Step::Edited(cell, text) => Payload::CaseCommentEdited(pb::CaseCommentEdited {
            cell_id: cell.clone(),
            markdown: text.clone(),
        }),
        Step::Deleted(cell) => Payload::CaseCommentDeleted(pb::CaseCommentDeleted {
            cell_id: cell.clone(),
        }),
        Step::Status(to) => Payload::CaseStatusChanged(pb::CaseStatusChanged {
            to_status_name: to.clone(),
            ..Default::default()
        }),
    };
    CaseEvent {
        event_id: ids::from_parts(0, &[case, &version.to_string()]),
        event_type: Payload::event_type(&payload).as_str().to_string(),
        case_id: case.into(),
        case_key: format!("K-{case}"),
        project_id: "p1".into(),
        aggregate_version: version,
        occurred_at: Some(Timestamp {
            seconds: EPOCH_S + version as i64,
            nanos: 0,
        }),
        payload: Some(payload),
        ..CaseEvent::default()
    }
}

/// What a test compares of a cell: markdown (`"{}"` once deleted, `""` for
/// other cells), updated_version, edited_at, deleted_at.
type CellState = (String, i64, Option<i64>, Option<i64>);

async fn apply(store: &Store, events: &[CaseEvent]) {
    let writer = PlannedRows::new(Timeline);
    let ctx = Ctx::new("timeline", Some(store.clone()), 1);
    let valid = validated(events);
    let refs: Vec<&Event> = valid.iter().collect();
    for (answer, event) in writer.handle_batch(&ctx, &refs).await.iter().zip(events) {
        assert!(
            matches!(answer, HandleResp::Success | HandleResp::Skip(_)),
            "{answer:?} for {event:?}"
        );
    }
}

/// The cells of the cases whose id starts with `prefix`, by cell id.
async fn cells(store: &Store, prefix: &str) -> BTreeMap<String, CellState> {
    type Row = (String, String, i64, Option<i64>, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT cell_id, content, updated_version, edited_at, deleted_at FROM timeline_cells \
         WHERE case_id LIKE $1",
    )
    .bind(format!("{prefix}%"))
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, content, v, e, d)| {
            let doc: serde_json::Value = serde_json::from_str(&content).unwrap();
            let text = match doc["markdown"].as_str() {
                Some(text) => text.to_string(),
                None if content == "{}" => "{}".to_string(),
                None => String::new(),
            };
            (id, (text, v, e, d))
        })
        .collect()
}

/// Applies a case's events one at a time in version order, in memory.
fn model(case: &str, history: &[Step]) -> BTreeMap<String, CellState> {
    let mut cells = BTreeMap::new();
    for (i, step) in history.iter().enumerate() {
        let v = i as u64 + 1;
        match step {
            Step::Added(cell, text) => {
                cells.insert(cell.clone(), (text.clone(), v as i64, None, None));
            }
            Step::Edited(cell, text) => {
                let c: &mut CellState = cells.get_mut(cell).unwrap();
                if c.3.is_none() {
                    *c = (text.clone(), v as i64, Some(at_ms(v)), None);
                }
            }
            Step::Deleted(cell) => {
                let c = cells.get_mut(cell).unwrap();
                *c = ("{}".into(), v as i64, c.2, Some(at_ms(v)));
            }
            Step::Status(_) => {
                let id = format!("tl-{}", ids::from_parts(0, &[case, &v.to_string()]));
                cells.insert(id, (String::new(), v as i64, None, None));
            }
        }
    }
    cells
}

/// A random valid history: comments added, edited several times, deleted
/// at most once and never edited after; status changes between.
fn history(rng: &mut StdRng, case: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let (mut live, mut made) = (Vec::<String>::new(), 0);
    for _ in 0..rng.random_range(2..14) {
        let roll = rng.random_range(0..10);
        let step = if live.is_empty() || roll < 2 {
            made += 1;
            let cell = format!("{case}-cm{made}");
            live.push(cell.clone());
            Step::Added(cell, format!("v{}", steps.len() + 1))
        } else if roll < 6 {
            let cell = live[rng.random_range(0..live.len())].clone();
            Step::Edited(cell, format!("v{}", steps.len() + 1))
        } else if roll < 8 {
            Step::Deleted(live.swap_remove(rng.random_range(0..live.len())))
        } else {
            Step::Status(format!("s{}", steps.len() + 1))
        };
        steps.push(step);
    }
    steps
}

async fn random_histories_end_as_in_version_order(store: Store, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let rounds = std::env::var("ROWS_PROP_ROUNDS").ok();
    for round in 0..rounds.and_then(|n| n.parse().ok()).unwrap_or(150) {
        let prefix = format!("r{seed}-{round}-");
        let mut want = BTreeMap::new();
        let mut events = Vec::new();
        for c in 0..rng.random_range(1..5) {
            let case = format!("{prefix}{c}");
            let steps = history(&mut rng, &case);
            want.extend(model(&case, &steps));
            (steps.iter().enumerate())
                .for_each(|(i, s)| events.push(event(&case, i as u64 + 1, s)));
        }
        events.shuffle(&mut rng);
        if rng.random_bool(0.3) {
            let again = events[rng.random_range(0..events.len())].clone();
            events.insert(rng.random_range(0..=events.len()), again); // a redelivery
        }
        let mut rest = events.as_slice();
        while !rest.is_empty() {
            let n = rng.random_range(1..=rest.len().min(12));
            apply(&store, &rest[..n]).await;
            rest = &rest[n..];
        }
        assert_eq!(
            cells(&store, &prefix).await,
            want,
            "seed {seed}, round {round}: {events:#?}"
        );
    }
}

/// A tombstone of another comment earlier in the batch, then an edit and
/// a delete of one comment: the edit's time is kept (the tombstones ran
/// before every edit once, and the edit's condition failed).
async fn an_edit_then_delete_keeps_the_edit_time(store: Store) {
    let case = "case-ed";
    let a = || "cm-a".to_string();
    let b = || "cm-b".to_string();
    apply(
        &store,
        &[
            event(case, 1, &Step::Added(a(), "a".into())),
            event(case, 2, &Step::Added(b(), "b".into())),
        ],
    )
    .await;
    apply(
        &store,
        &[
            event(case, 3, &Step::Deleted(a())),
            event(case, 5, &Step::Edited(b(), "b2".into())),
            event(case, 6, &Step::Deleted(b())),
        ],
    )
    .await;
    let rows = cells(&store, case).await;
    assert_eq!(
        rows["cm-b"],
        ("{}".into(), 6, Some(at_ms(5)), Some(at_ms(6))),
        "{rows:?}"
    );
    // Across batches: the delete first, the edit in a later batch.
    let case = "case-late";
    let c = || "cm-c".to_string();
    apply(&store, &[event(case, 1, &Step::Added(c(), "c".into()))]).await;
    apply(&store, &[event(case, 3, &Step::Deleted(c()))]).await;
    apply(&store, &[event(case, 2, &Step::Edited(c(), "c2".into()))]).await;
    let rows = cells(&store, case).await;
    assert_eq!(
        rows["cm-c"],
        ("{}".into(), 3, Some(at_ms(2)), Some(at_ms(3))),
        "{rows:?}"
    );
}

async fn sqlite(dir: &tempfile::TempDir) -> Store {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("order.db").display()
    );
    Store::connect(&url, 2).await.expect("sqlite store")
}

#[tokio::test]
async fn rows_postgres_edit_then_delete_keeps_the_edit_time() {
    an_edit_then_delete_keeps_the_edit_time(pg_store().await).await;
}

#[tokio::test]
async fn rows_sqlite_edit_then_delete_keeps_the_edit_time() {
    let dir = tempfile::tempdir().unwrap();
    an_edit_then_delete_keeps_the_edit_time(sqlite(&dir).await).await;
}

#[tokio::test]
async fn rows_postgres_random_histories_end_as_in_version_order() {
    let store = Store::connect(&fresh_pg().await, 4).await.expect("store");
    random_histories_end_as_in_version_order(store, 22).await;
}

#[tokio::test]
async fn rows_sqlite_random_histories_end_as_in_version_order() {
    let dir = tempfile::tempdir().unwrap();
    random_histories_end_as_in_version_order(sqlite(&dir).await, 23).await;
}
