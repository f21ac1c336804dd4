//! The delivery queue on SQLite: enqueue through the batch writer, order per
//! (destination, case), isolation of destinations, leases and their fences
//! (the same on PostgreSQL, with concurrent leasers and the plan, in
//! tests/it/delivery.rs).

use std::time::Duration;

use super::*;
use crate::store::rows::{PlanError, Planned, RowOp};
use crate::store::Store;

const F: &str = "f";
const LEASE: Duration = Duration::from_secs(30);

fn op(destination: &str, case_key: &str, seq: i64, event_id: &str) -> RowOp {
    let payload = serde_json::json!({ "case": case_key, "seq": seq });
    enqueue(&Enqueue {
        flavor: F,
        destination,
        case_key,
        seq,
        payload: &payload,
        created_at: 1_000 + seq,
        event_id,
        correlation_id: "corr",
        chain_depth: 1,
    })
    .unwrap()
}

async fn apply(store: &Store, ledger_id: &str, ops: Vec<RowOp>) {
    let plan = Planned {
        event_id: ledger_id.into(),
        ops,
    };
    store.apply_rows(F, &[plan]).await.unwrap();
}

async fn lease(store: &Store, only: &[&str], now: i64) -> Vec<(String, String, i64)> {
    let leased = lease_due(store.pool(), F, Destinations::Only(only), now, 100, LEASE)
        .await
        .unwrap();
    (leased.into_iter())
        .map(|d| (d.destination, d.case_key, d.seq))
        .collect()
}

fn row(destination: &str, case_key: &str, seq: i64) -> (String, String, i64) {
    (destination.into(), case_key.into(), seq)
}

#[test]
fn an_enqueue_without_a_destination_is_refused_and_the_id_is_stable() {
    let payload = serde_json::json!(null);
    let e = Enqueue {
        flavor: F,
        destination: "",
        case_key: "c",
        seq: 1,
        payload: &payload,
        created_at: 1,
        event_id: "ev",
        correlation_id: "",
        chain_depth: 0,
    };
    assert!(matches!(enqueue(&e), Err(PlanError::Invalid(_))));
    let id = delivery_id(F, "ev", "webhook:ep-1", 1_700_000_000_000);
    assert_eq!(id, delivery_id(F, "ev", "webhook:ep-1", 1_700_000_000_000));
    assert_ne!(id, delivery_id(F, "ev", "webhook:ep-2", 1_700_000_000_000));
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
}

#[tokio::test]
async fn rows_of_a_destination_and_case_are_leased_in_seq_order() {
    let (_dir, store) = Store::temp_sqlite(1).await;
    // Out of order on arrival: seq 3 and 1 first, then 2.
    apply(
        &store,
        "e3",
        vec![op("a", "c1", 3, "e3"), op("a", "c2", 1, "x")],
    )
    .await;
    apply(&store, "e1", vec![op("a", "c1", 1, "e1")]).await;
    apply(&store, "e2", vec![op("a", "c1", 2, "e2")]).await;
    let pool = store.pool();
    let now = 10_000;
    let first = lease_due(pool, F, Destinations::Only(&["a"]), now, 100, LEASE)
        .await
        .unwrap();
    let heads: Vec<_> = first.iter().map(|d| (d.case_key.as_str(), d.seq)).collect();
    assert_eq!(heads, [("c1", 1), ("c2", 1)], "one head per case");
    assert_eq!(first[0].leased_until, now + 30_000);
    assert!(
        lease(&store, &["a"], now).await.is_empty(),
        "heads are leased"
    );
    assert!(delivered(pool, &first[0], now).await.unwrap());
    let second = lease_due(pool, F, Destinations::Only(&["a"]), now, 100, LEASE)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].seq, 2);
    // A retry keeps seq 3 waiting behind seq 2, until seq 2 is done.
    assert!(retry_at(pool, &second[0], now + 500, "503", true)
        .await
        .unwrap());
    assert!(lease(&store, &["a"], now).await.is_empty());
    let waiting: i64 = sqlx::query_scalar("SELECT next_at FROM deliveries WHERE seq = 3")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(waiting, now + 500, "the row behind is due no earlier");
    let again = lease_due(pool, F, Destinations::Only(&["a"]), now + 500, 100, LEASE)
        .await
        .unwrap();
    assert_eq!((again[0].seq, again[0].attempts), (2, 1));
    assert_eq!(again[0].last_error, "503");
    // A dead row holds nothing up.
    assert!(bury(pool, &again[0], "refused: 400").await.unwrap());
    assert_eq!(lease(&store, &["a"], now + 500).await, [row("a", "c1", 3)]);
}

#[tokio::test]
async fn a_disabled_or_held_destination_does_not_hold_up_another() {
    let (_dir, store) = Store::temp_sqlite(1).await;
    let ops = (1..=5)
        .flat_map(|s| [op("dead", "c1", s, "e"), op("ok", "c1", s, "e")])
        .collect();
    apply(&store, "e", ops).await;
    let pool = store.pool();
    let both = ["dead", "ok"];
    disable(pool, F, "dead", "gone: 410", 1).await.unwrap();
    assert_eq!(lease(&store, &both, 10_000).await, [row("ok", "c1", 1)]);
    // A hold until 20,000: nothing before it, the head after it.
    enable(pool, F, "dead", 2).await.unwrap();
    hold(pool, F, "dead", 20_000, "429", 3).await.unwrap();
    hold(pool, F, "dead", 15_000, "429", 4).await.unwrap();
    assert!(lease(&store, &both, 19_999).await.is_empty());
    assert_eq!(
        lease(&store, &["dead"], 20_000).await,
        [row("dead", "c1", 1)]
    );
    let depths = depth(pool, F).await.unwrap();
    assert_eq!(depths.len(), 2);
    assert_eq!(
        (
            depths[0].destination.as_str(),
            depths[0].pending,
            depths[0].leased
        ),
        ("dead", 4, 1)
    );
    assert_eq!(
        (depths[0].hold_until, depths[0].reason.as_str()),
        (20_000, "429")
    );
    assert_eq!((depths[1].state.as_str(), depths[1].pending), ("active", 4));
    // Disabled for good: its queued rows are dead letters with the reason.
    disable(pool, F, "dead", "gone: 410", 5).await.unwrap();
    assert_eq!(bury_queued(pool, F, "dead", "gone: 410").await.unwrap(), 4);
    let depths = depth(pool, F).await.unwrap();
    assert_eq!((depths[0].state.as_str(), depths[0].dead), ("disabled", 4));
    assert_eq!(destinations(pool, F).await.unwrap(), ["dead", "ok"]);
}

#[tokio::test]
async fn a_lease_that_ran_out_is_taken_over_and_the_stale_outcome_refused() {
    let (_dir, store) = Store::temp_sqlite(1).await;
    apply(
        &store,
        "e1",
        vec![op("a", "c1", 1, "e1"), op("a", "c1", 2, "e2")],
    )
    .await;
    let pool = store.pool();
    let all = Destinations::All;
    let first = lease_due(pool, F, all, 5_000, 10, LEASE).await.unwrap();
    assert_eq!(first.len(), 1);
    let expiry = first[0].leased_until;
    assert!(lease_due(pool, F, all, expiry, 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    let taken = lease_due(pool, F, all, expiry + 1, 10, LEASE)
        .await
        .unwrap();
    assert_eq!(
        (taken[0].seq, taken[0].leased_until),
        (1, expiry + 1 + 30_000)
    );
    assert!(
        !delivered(pool, &first[0], expiry + 2).await.unwrap(),
        "stale"
    );
    assert!(!retry_at(pool, &first[0], 0, "x", true).await.unwrap());
    assert!(!bury(pool, &first[0], "x").await.unwrap());
    assert!(delivered(pool, &taken[0], expiry + 2).await.unwrap());
    assert!(
        !delivered(pool, &taken[0], expiry + 3).await.unwrap(),
        "once"
    );
    // The auto-disable clock: the first failure starts it, later ones keep it.
    assert_eq!(failing(pool, F, "a", 100).await.unwrap(), 100);
    assert_eq!(failing(pool, F, "a", 200).await.unwrap(), 100);
    healthy(pool, F, "a", 300).await.unwrap();
    assert_eq!(failing(pool, F, "a", 400).await.unwrap(), 400);
}

#[tokio::test]
async fn a_redelivered_enqueue_changes_nothing() {
    let (_dir, store) = Store::temp_sqlite(1).await;
    apply(&store, "e1", vec![op("a", "c1", 1, "e1")]).await;
    let pool = store.pool();
    let leased = lease_due(pool, F, Destinations::All, 5_000, 10, LEASE)
        .await
        .unwrap();
    assert!(delivered(pool, &leased[0], 5_001).await.unwrap());
    // The same op under another ledger id (a replay the ledger missed).
    apply(&store, "e1-again", vec![op("a", "c1", 1, "e1")]).await;
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, delivered_at FROM deliveries")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(rows, [("delivered".to_string(), 5_001)]);
    assert_eq!(
        leased[0].payload,
        serde_json::json!({ "case": "c1", "seq": 1 })
    );
    assert_eq!(
        leased[0].delivery_id,
        delivery_id(F, "e1", "a", leased[0].created_at)
    );
}
