//! The batch writer on both backends: one transaction per batch, duplicates
//! skipped by the ledger claim, version guards making any arrival order and
//! any replay end in the same rows, a bad event discarded alone.

use std::collections::HashMap;

use case_event_handler::event::pb::{self, case_event::Payload};
use case_event_handler::event::{CaseEvent, Event};
use case_event_handler::flavors::kit::ids;
use case_event_handler::flavors::timeline::Timeline;
use case_event_handler::handler::{BatchHandler, Ctx, HandleResp, SkipReason};
use case_event_handler::store::rows::PlannedRows;
use case_event_handler::store::Store;

use crate::helpers::*;

mod kinds;
mod migrations;
mod order;
mod schema;

fn event(id: &str, version: u64, payload: Payload) -> CaseEvent {
    let event_type = Payload::event_type(&payload).as_str().to_string();
    CaseEvent {
        event_id: ids::from_parts(0, &[id]),
        event_type,
        case_id: "case-1".into(),
        case_key: "SEC-1".into(),
        project_id: "p1".into(),
        aggregate_version: version,
        payload: Some(payload),
        ..CaseEvent::default()
    }
}

fn added(id: &str, v: u64, text: &str) -> CaseEvent {
    let p = pb::CaseCommentAdded {
        cell_id: "cm-1".into(),
        markdown: text.into(),
        ..Default::default()
    };
    event(id, v, Payload::CaseCommentAdded(p))
}

fn edited(id: &str, v: u64, text: &str) -> CaseEvent {
    let p = pb::CaseCommentEdited {
        cell_id: "cm-1".into(),
        markdown: text.into(),
    };
    event(id, v, Payload::CaseCommentEdited(p))
}

fn deleted(id: &str, v: u64) -> CaseEvent {
    let p = pb::CaseCommentDeleted {
        cell_id: "cm-1".into(),
    };
    event(id, v, Payload::CaseCommentDeleted(p))
}

fn status(id: &str, v: u64, to: &str) -> CaseEvent {
    let p = pb::CaseStatusChanged {
        to_status_name: to.into(),
        ..Default::default()
    };
    event(id, v, Payload::CaseStatusChanged(p))
}

async fn apply(store: &Store, events: &[CaseEvent]) -> Vec<HandleResp> {
    let writer = PlannedRows::new(Timeline);
    let ctx = Ctx::new("timeline", Some(store.clone()), 1);
    let valid = validated(events);
    let refs: Vec<&Event> = valid.iter().collect();
    writer.handle_batch(&ctx, &refs).await
}

/// cell id → (content, updated_version, deleted)
async fn cells(store: &Store) -> HashMap<String, (String, i64, bool)> {
    let rows: Vec<(String, String, i64, Option<i64>)> =
        sqlx::query_as("SELECT cell_id, content, updated_version, deleted_at FROM timeline_cells")
            .fetch_all(store.pool())
            .await
            .unwrap();
    rows.into_iter()
        .map(|(id, c, v, d)| (id, (c, v, d.is_some())))
        .collect()
}

async fn ledger(store: &Store) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM processed_events WHERE flavor = 'timeline'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    n
}

fn kinds(answers: &[HandleResp]) -> Vec<&'static str> {
    answers
        .iter()
        .map(|a| match a {
            HandleResp::Success => "ok",
            HandleResp::Skip(SkipReason::Duplicate) => "dup",
            HandleResp::Skip(_) => "skip",
            HandleResp::Retry(_) => "retry",
            HandleResp::Discard(_) => "discard",
        })
        .collect()
}

async fn one_batch_with_duplicates_and_comment_lifecycle(store: Store) {
    // A to-group this build does not know: canonical JSON cannot name it,
    // so the plan fails (a payload-less event never reaches a handler).
    let bad = event(
        "e-bad",
        4,
        Payload::CaseStatusChanged(pb::CaseStatusChanged {
            to_group: 999,
            ..Default::default()
        }),
    );
    let batch = vec![
        edited("e-3", 3, "second"),
        added("e-2", 2, "first"),
        status("e-1", 1, "Open"),
        bad,
        added("e-2", 2, "first"),
        deleted("e-5", 5),
        edited("e-4", 4, "third"),
    ];
    let answers = apply(&store, &batch).await;
    assert_eq!(
        kinds(&answers),
        ["ok", "ok", "ok", "discard", "dup", "ok", "ok"],
        "the bad event alone is discarded; the second copy is a duplicate"
    );
    let rows = cells(&store).await;
    assert_eq!(rows.len(), 2, "a status cell and the comment: {rows:?}");
    let (content, version, gone) = &rows["cm-1"];
    assert_eq!(
        (content.as_str(), *version, *gone),
        ("{}", 5, true),
        "deleted last"
    );
    assert_eq!(
        ledger(&store).await,
        5,
        "one ledger row per applied event, none for the bad one"
    );

    // The same batch again: every event is a duplicate, nothing changes.
    let again = apply(&store, &batch).await;
    assert_eq!(
        kinds(&again),
        ["dup", "dup", "dup", "discard", "dup", "dup", "dup"]
    );
    assert_eq!(cells(&store).await, rows);
    assert_eq!(ledger(&store).await, 5);
}

async fn batches_in_any_order_end_in_the_same_rows(store: Store) {
    // Newer versions first, across batches: an older write never wins.
    apply(
        &store,
        &[added("a-2", 2, "first"), edited("a-4", 4, "edited")],
    )
    .await;
    apply(&store, &[edited("a-3", 3, "stale edit")]).await;
    let rows = cells(&store).await;
    let (content, version, _) = &rows["cm-1"];
    assert_eq!(*version, 4);
    let doc: serde_json::Value = serde_json::from_str(content).unwrap();
    assert_eq!(doc["markdown"], "edited", "the stale edit changed nothing");
}

/// Edits and deletes before their comment, each in its own batch: they wait
/// for the creation, then the final rows are those of version order.
async fn edits_and_deletes_before_their_comment_are_applied_when_it_comes(
    store: Store,
    fresh: Store,
) {
    apply(&store, &[edited("x-4", 4, "edited before added")]).await;
    assert!(
        cells(&store).await.is_empty(),
        "no cell before its creation"
    );
    apply(&store, &[edited("x-3", 3, "an older edit, also early")]).await;
    let answers = apply(&store, &[added("x-2", 2, "original")]).await;
    assert_eq!(kinds(&answers), ["ok"]);
    let rows = cells(&store).await;
    let (content, version, gone) = &rows["cm-1"];
    let doc: serde_json::Value = serde_json::from_str(content).unwrap();
    assert_eq!(
        doc["markdown"], "edited before added",
        "the newest edit wins"
    );
    assert_eq!((*version, *gone), (4, false));
    // A delete before the creation: the comment never shows.
    apply(&fresh, &[deleted("y-5", 5)]).await;
    apply(
        &fresh,
        &[added("y-2", 2, "original"), edited("y-3", 3, "edit")],
    )
    .await;
    let rows = cells(&fresh).await;
    assert!(rows["cm-1"].2, "deleted: {rows:?}");
    assert_eq!(rows["cm-1"].1, 5);
    let pending: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM pending_row_patches")
        .fetch_one(fresh.pool())
        .await
        .unwrap();
    assert_eq!(pending.0, 0, "applied patches are removed");
}

#[tokio::test]
async fn rows_postgres_duplicates_lifecycle_and_replay() {
    one_batch_with_duplicates_and_comment_lifecycle(pg_store().await).await;
}

#[tokio::test]
async fn rows_postgres_order_across_batches() {
    batches_in_any_order_end_in_the_same_rows(pg_store().await).await;
}

async fn sqlite_store(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("rows.db").display());
    Store::connect(&url, 2).await.expect("sqlite store")
}

#[tokio::test]
async fn rows_postgres_edits_and_deletes_before_their_comment() {
    let (a, b) = (pg_store().await, pg_store().await);
    edits_and_deletes_before_their_comment_are_applied_when_it_comes(a, b).await;
}

#[tokio::test]
async fn rows_sqlite_edits_and_deletes_before_their_comment() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (sqlite_store(&a).await, sqlite_store(&b).await);
    edits_and_deletes_before_their_comment_are_applied_when_it_comes(a, b).await;
}

#[tokio::test]
async fn rows_sqlite_duplicates_lifecycle_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    one_batch_with_duplicates_and_comment_lifecycle(sqlite_store(&dir).await).await;
}

#[tokio::test]
async fn rows_sqlite_order_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    batches_in_any_order_end_in_the_same_rows(sqlite_store(&dir).await).await;
}

#[tokio::test]
async fn rows_postgres_a_row_the_database_refuses_is_discarded_alone() {
    let store = pg_store().await;
    let mut poison = status("p-2", 2, "Open");
    poison.case_key = "SEC-\u{0}".into(); // PostgreSQL text cannot hold NUL: a permanent error
    let batch = vec![status("p-1", 1, "New"), poison, status("p-3", 3, "Done")];
    let answers = apply(&store, &batch).await;
    assert_eq!(kinds(&answers), ["ok", "discard", "ok"]);
    assert_eq!(cells(&store).await.len(), 2);
    assert_eq!(
        ledger(&store).await,
        2,
        "no ledger row for the refused event"
    );
}
