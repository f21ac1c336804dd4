//! The 2,000 timers the replica tests fire, and the exactly-once check.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use case_event_handler::flavors::kit::timers::{
    cancel, firing_id, move_to, schedule, Schedule, Timer,
};
use case_event_handler::store::rows::{Planned, RowOp};
use case_event_handler::store::Store;

use super::{CASES, FLAVOR, PARTITIONS, PER_CASE};

/// The id the firing of `(case, timer)` scheduled by `event_id` at `due_at`
/// must get, computed from the schedule, not read back.
fn expected_id(case_key: &str, timer_id: &str, event_id: &str, due_at: i64) -> String {
    firing_id(&Timer {
        flavor: FLAVOR.into(),
        case_key: case_key.into(),
        timer_id: timer_id.into(),
        due_at,
        event_id: event_id.into(),
        state: String::new(),
        topic: String::new(),
        partition: 0,
        correlation_id: String::new(),
        chain_depth: 0,
        payload: serde_json::Value::Null,
        version: 0,
        claimed_until: 0,
        fired_at: 0,
        attempts: 0,
        last_error: String::new(),
        failing_since: 0,
    })
}

/// What was scheduled: the ids that must fire, and the cancelled timers.
pub struct Seeded {
    pub expected: HashSet<String>,
    pub cancelled: Vec<(String, String)>,
}

/// Schedules 2,000 timers of 400 cases over the topic's 4 partitions, due
/// from 1 s ago over the next 6 s; cancels every 10th, moves every 7th
/// later, and for every 50th moves it (v3) and then cancels it with an
/// older version (v2), which must still cancel.
pub async fn seed(store: &Store, topic: &str) -> Seeded {
    let now = chrono::Utc::now().timestamp_millis();
    let mut first = Vec::new();
    let mut later: Vec<(String, Vec<RowOp>)> = Vec::new();
    let (mut expected, mut cancelled) = (HashSet::new(), Vec::new());
    let payload = serde_json::json!({ "kind": "nag" });
    for i in 0..CASES * PER_CASE {
        let (case_key, timer_id) = (
            format!("case-{}", i / PER_CASE),
            format!("t{}", i % PER_CASE),
        );
        let event_id = format!("ev-{case_key}-1");
        let due = now - 1_000 + 3 * i as i64;
        first.push(
            schedule(&Schedule {
                flavor: FLAVOR,
                case_key: &case_key,
                timer_id: &timer_id,
                due_at: due,
                topic,
                partition: ((i / PER_CASE) % PARTITIONS as usize) as i32,
                event_id: &event_id,
                correlation_id: "corr",
                chain_depth: 0,
                payload: &payload,
                version: 1,
            })
            .unwrap(),
        );
        let moved = due + 500;
        let ops = match i {
            i if i % 50 == 3 => vec![
                move_to(FLAVOR, &case_key, &timer_id, moved, 3).unwrap(),
                cancel(FLAVOR, &case_key, &timer_id, 2).unwrap(),
            ],
            i if i % 10 == 0 => vec![cancel(FLAVOR, &case_key, &timer_id, 2).unwrap()],
            i if i % 7 == 0 => vec![move_to(FLAVOR, &case_key, &timer_id, moved, 2).unwrap()],
            _ => Vec::new(),
        };
        match (i % 50 == 3 || i % 10 == 0, i % 7 == 0) {
            (true, _) => cancelled.push((case_key.clone(), timer_id.clone())),
            (false, true) => {
                expected.insert(expected_id(&case_key, &timer_id, &event_id, moved));
            }
            (false, false) => {
                expected.insert(expected_id(&case_key, &timer_id, &event_id, due));
            }
        }
        if !ops.is_empty() {
            later.push((format!("ev-{case_key}-{timer_id}-later"), ops));
        }
    }
    let plan = |event_id: String, ops| Planned { event_id, ops };
    store
        .apply_rows(FLAVOR, &[plan("seed".into(), first)])
        .await
        .unwrap();
    // One event each, in the order given: a move at v3 lands before the
    // cancel at v2 of the same timer.
    for (id, ops) in later {
        for (n, op) in ops.into_iter().enumerate() {
            let batch = [plan(format!("{id}-{n}"), vec![op])];
            store.apply_rows(FLAVOR, &batch).await.unwrap();
        }
    }
    Seeded {
        expected,
        cancelled,
    }
}

/// Every expected id fired exactly once, nothing else fired, cancelled
/// timers stayed cancelled; returns the firings per replica.
pub async fn assert_exactly_once(store: &Store, seeded: &Seeded) -> HashMap<String, i64> {
    // Late duplicates would arrive within a poll or two.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT firing_id, COUNT(*) FROM fired_log GROUP BY firing_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let twice: Vec<&(String, i64)> = rows.iter().filter(|(_, n)| *n != 1).collect();
    assert!(twice.is_empty(), "fired more than once: {twice:?}");
    let fired: HashSet<String> = rows.into_iter().map(|(id, _)| id).collect();
    let missing = seeded.expected.difference(&fired).count();
    let unexpected: Vec<&String> = fired.difference(&seeded.expected).collect();
    assert_eq!(missing, 0, "expected firings missing");
    assert!(unexpected.is_empty(), "unexpected firings: {unexpected:?}");
    for (case_key, timer_id) in &seeded.cancelled {
        let state: String =
            sqlx::query_scalar("SELECT state FROM timers WHERE case_key = $1 AND timer_id = $2")
                .bind(case_key)
                .bind(timer_id)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(state, "cancelled", "{case_key}/{timer_id}");
    }
    let per_replica: Vec<(String, i64)> =
        sqlx::query_as("SELECT replica, COUNT(*) FROM fired_log GROUP BY replica")
            .fetch_all(store.pool())
            .await
            .unwrap();
    per_replica.into_iter().collect()
}
