//! The store side of durable timers (Kit III-b) on both backends: schedule,
//! move and cancel through the batch writer, the due lookup on owned
//! partitions, the atomic claim (exactly once among concurrent claimers,
//! taken over after its lease) and deterministic firing ids.

use std::collections::HashMap;
use std::time::Duration;

use case_event_handler::flavors::kit::timers::{
    cancel, claim_due, due, fired, firing_id, move_to, schedule, Schedule, Timer,
};
use case_event_handler::store::rows::{Planned, RowOp};
use case_event_handler::store::Store;

use crate::helpers::*;

const F: &str = "timers_it";
const LEASE: Duration = Duration::from_secs(30);

fn at(case_key: &str, timer_id: &str, due_at: i64, partition: i32, version: i64) -> RowOp {
    let payload = serde_json::json!({ "kind": timer_id });
    let event_id = format!("ev-{case_key}-{version}");
    schedule(&Schedule {
        flavor: F,
        case_key,
        timer_id,
        due_at,
        topic: "cases",
        partition,
        event_id: &event_id,
        correlation_id: "corr",
        chain_depth: 2,
        payload: &payload,
        version,
    })
    .unwrap()
}

async fn apply(store: &Store, id: &str, ops: Vec<RowOp>) {
    let plan = Planned {
        event_id: id.into(),
        ops,
    };
    store.apply_rows(F, &[plan]).await.unwrap();
}

async fn due_keys(store: &Store, owned: &[(&str, i32)], now: i64) -> Vec<(String, i64)> {
    (due(store.pool(), F, owned, now, 100)
        .await
        .unwrap()
        .into_iter())
    .map(|t| (format!("{}/{}", t.case_key, t.timer_id), t.due_at))
    .collect()
}

async fn schedule_move_cancel(store: Store) {
    apply(
        &store,
        "e1",
        vec![at("c1", "sla", 1_000, 0, 1), at("c2", "nag", 500, 1, 1)],
    )
    .await;
    let both = [("cases", 0), ("cases", 1)];
    assert!(due_keys(&store, &both, 499).await.is_empty());
    assert_eq!(due_keys(&store, &both, 500).await, [("c2/nag".into(), 500)]);
    assert_eq!(
        due_keys(&store, &[("cases", 0)], 5_000).await,
        [("c1/sla".into(), 1_000)]
    );
    assert!(due_keys(&store, &[("other", 0), ("cases", 2)], 5_000)
        .await
        .is_empty());
    assert!(due_keys(&store, &[], 5_000).await.is_empty());
    let all = due(store.pool(), F, &both, 5_000, 100).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].partition, all[0].chain_depth), (1, 2));
    assert_eq!(all[0].payload, serde_json::json!({ "kind": "nag" }));
    assert_eq!(
        (all[0].event_id.as_str(), all[0].correlation_id.as_str()),
        ("ev-c2-1", "corr")
    );

    // A move: the old due time is not due any more, the new one is.
    apply(
        &store,
        "e2",
        vec![move_to(F, "c1", "sla", 3_000, 2).unwrap()],
    )
    .await;
    assert!(due_keys(&store, &both, 2_999)
        .await
        .iter()
        .all(|(k, _)| k != "c1/sla"));
    assert!(due_keys(&store, &both, 3_000)
        .await
        .contains(&("c1/sla".into(), 3_000)));
    // A late older move changes nothing.
    apply(&store, "e1b", vec![move_to(F, "c1", "sla", 10, 1).unwrap()]).await;
    assert!(due_keys(&store, &both, 2_999)
        .await
        .iter()
        .all(|(k, _)| k != "c1/sla"));

    // A cancel: never due; a late older schedule does not resurrect it.
    apply(&store, "e3", vec![cancel(F, "c2", "nag", 3).unwrap()]).await;
    apply(&store, "e0", vec![at("c2", "nag", 100, 1, 2)]).await;
    assert!(due_keys(&store, &both, i64::MAX)
        .await
        .iter()
        .all(|(k, _)| k != "c2/nag"));
    // A newer schedule re-arms it.
    apply(&store, "e4", vec![at("c2", "nag", 200, 1, 4)]).await;
    assert!(due_keys(&store, &both, 200)
        .await
        .contains(&("c2/nag".into(), 200)));
}

async fn claims(store: Store, claimers: usize) {
    let ops = (0..200)
        .map(|i| at(&format!("k{i:03}"), "t", 1_000 + i, 0, 1))
        .collect();
    apply(&store, "bulk", ops).await;
    let owned = [("cases", 0)];
    let found = due(store.pool(), F, &owned, 10_000, 500).await.unwrap();
    assert_eq!(found.len(), 200);
    assert!(
        found.windows(2).all(|w| w[0].due_at <= w[1].due_at),
        "oldest first"
    );
    // All spawned before any is awaited: each polls the same partition.
    let start = tokio::sync::Barrier::new(claimers);
    let start = std::sync::Arc::new(start);
    let tasks: Vec<_> = (0..claimers)
        .map(|_| {
            let (store, start) = (store.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                claim_due(store.pool(), F, &owned, 10_000, 500, LEASE)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut count: HashMap<String, usize> = HashMap::new();
    for task in tasks {
        for t in task.await.unwrap() {
            *count.entry(t.case_key).or_default() += 1;
        }
    }
    assert_eq!(count.len(), 200, "every timer claimed");
    assert!(count.values().all(|n| *n == 1), "each exactly once");
    assert!(due(store.pool(), F, &owned, 10_000, 500)
        .await
        .unwrap()
        .is_empty());

    // A lease that ran out is taken over; the first claimer's fence fails.
    let first = claim_due(store.pool(), F, &owned, 20_000, 500, LEASE).await;
    assert!(first.unwrap().is_empty(), "still leased");
    let later = 10_000 + LEASE.as_millis() as i64 + 1;
    assert_eq!(
        due(store.pool(), F, &owned, later, 500)
            .await
            .unwrap()
            .len(),
        200
    );
    let taken = claim_due(store.pool(), F, &owned, later, 500, LEASE).await;
    let taken = taken.unwrap();
    assert_eq!(taken.len(), 200);
    let k000 = taken.iter().find(|t| t.case_key == "k000").unwrap();
    let mut stale = k000.clone();
    stale.claimed_until = 10_000 + LEASE.as_millis() as i64;
    let mut conn = store.pool().acquire().await.unwrap();
    assert!(!fired(&mut conn, &stale, later).await.unwrap());
    assert!(fired(&mut conn, k000, later).await.unwrap());
    assert!(!fired(&mut conn, k000, later).await.unwrap(), "once");
    let far = claim_due(store.pool(), F, &owned, i64::MAX / 2, 500, LEASE)
        .await
        .unwrap();
    assert!(
        far.iter().all(|t| t.case_key != "k000"),
        "a fired timer is never claimed again"
    );
}

async fn firing_ids(store: Store) {
    apply(&store, "f1", vec![at("c9", "sla", 1_000, 0, 1)]).await;
    let get = || async {
        due(store.pool(), F, &[("cases", 0)], i64::MAX / 2, 10)
            .await
            .unwrap()
    };
    let one: Vec<Timer> = get().await;
    let id = firing_id(&one[0]);
    assert_eq!(id, firing_id(&get().await[0]), "stable across calls");
    apply(
        &store,
        "f2",
        vec![move_to(F, "c9", "sla", 2_000, 2).unwrap()],
    )
    .await;
    let moved = firing_id(&get().await[0]);
    assert_ne!(id, moved, "another due time, another id");
    assert_eq!(uuid::Uuid::parse_str(&moved).unwrap().get_version_num(), 7);
}

#[tokio::test]
async fn timers_postgres_schedule_move_cancel() {
    schedule_move_cancel(pg_store().await).await;
}

#[tokio::test]
async fn timers_sqlite_schedule_move_cancel() {
    let (_dir, store) = sqlite_store("smc.db", 1).await;
    schedule_move_cancel(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timers_postgres_concurrent_claims_take_each_timer_once() {
    claims(pg_store().await, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timers_sqlite_concurrent_claims_take_each_timer_once() {
    let (_dir, store) = sqlite_store("claims.db", 4).await;
    claims(store, 8).await;
}

#[tokio::test]
async fn timers_postgres_firing_ids_are_deterministic() {
    firing_ids(pg_store().await).await;
}

#[tokio::test]
async fn timers_sqlite_firing_ids_are_deterministic() {
    let (_dir, store) = sqlite_store("ids.db", 1).await;
    firing_ids(store).await;
}
