//! The timeline flavor end to end: real Kafka, real PostgreSQL.

use std::collections::HashMap;
use std::time::Duration;

use case_event_handler::event::{CaseEvent, Payload};

use crate::kit::spawn_flavor;

use crate::helpers::*;

/// What each comment cell must hold after all events: its last markdown, or gone.
fn final_comments(events: &[CaseEvent]) -> HashMap<String, Option<String>> {
    let mut out = HashMap::new();
    for e in events {
        match &e.payload {
            Some(Payload::CaseCommentAdded(c)) => {
                out.insert(c.cell_id.clone(), Some(c.markdown.clone()));
            }
            Some(Payload::CaseCommentEdited(c)) => {
                out.insert(c.cell_id.clone(), Some(c.markdown.clone()));
            }
            Some(Payload::CaseCommentDeleted(c)) => {
                out.insert(c.cell_id.clone(), None);
            }
            _ => {}
        }
    }
    out
}

fn cells_per_event(events: &[CaseEvent]) -> usize {
    events
        .iter()
        .filter(|e| {
            !matches!(
                e.payload,
                Some(Payload::CaseCommentEdited(_) | Payload::CaseCommentDeleted(_))
            )
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeline_5000_events_for_200_cases_exactly_once_in_case_order() {
    // Through the production wiring: settings, app::run, the Kafka group.
    let mut run = spawn_flavor("timeline", "flavors: { timeline: {} }\n", 4).await;
    let events = synth(41, 200, 25);
    publish(&run.topic, &events).await;
    run.caught_up(4, Duration::from_secs(180)).await;
    let store = run.store.clone();
    let summary = run.stop().await;
    assert_eq!(summary.total(), 5_000, "{summary}");

    let rows: Vec<(String, String, i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT case_id, cell_id, aggregate_version, content, deleted_at FROM timeline_cells",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        rows.len(),
        cells_per_event(&events),
        "one cell per event (edits and deletes update their comment)"
    );
    let mut per_case: HashMap<&str, Vec<i64>> = HashMap::new();
    for (case, _, version, _, _) in &rows {
        per_case.entry(case).or_default().push(*version);
    }
    assert_eq!(per_case.len(), 200);
    for e in &events {
        let expected_cell = !matches!(
            e.payload,
            Some(Payload::CaseCommentEdited(_) | Payload::CaseCommentDeleted(_))
        );
        let has = per_case[e.case_id.as_str()].contains(&(e.aggregate_version as i64));
        assert_eq!(
            has, expected_cell,
            "case {} v{}",
            e.case_key, e.aggregate_version
        );
    }
    // Applying edits and deletions in case order leaves each comment's last state.
    let by_cell: HashMap<&str, (&str, Option<i64>)> = rows
        .iter()
        .map(|(_, id, _, c, d)| (id.as_str(), (c.as_str(), *d)))
        .collect();
    for (cell, want) in final_comments(&events) {
        let (content, deleted) = by_cell[cell.as_str()];
        match want {
            Some(markdown) => {
                let doc: serde_json::Value = serde_json::from_str(content).unwrap();
                assert_eq!(
                    doc["markdown"].as_str(),
                    Some(markdown.as_str()),
                    "comment {cell}"
                );
                assert!(deleted.is_none());
            }
            None => assert!(deleted.is_some(), "comment {cell} is tombstoned"),
        }
    }

    // The same events again (a new group re-reads the topic): nothing changes.
    let mut again = run.again().await;
    again.caught_up(4, Duration::from_secs(180)).await;
    let summary = again.stop().await;
    assert_eq!(summary.skipped("duplicate"), 5_000, "{summary}");
    let count: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM timeline_cells")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count.0 as usize, cells_per_event(&events));
}
