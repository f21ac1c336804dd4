//! The delivery queue of the kit (Kit II-d, part 1) on both backends:
//! enqueue through the batch writer (a redelivered enqueue is a no-op),
//! order per (destination, case), a dead destination's rows never hold up
//! another's, concurrent leasers never both get a row, a lease that ran out
//! is taken over and the stale outcome refused; on PostgreSQL, the lease
//! reads each destination from the index (no sequential scan).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use case_event_handler::flavors::kit::delivery::{
    bury, delivered, depth, destinations, disable, enqueue, lease_due, lease_sql, retry_at,
    Delivery, Destinations, Enqueue,
};
use case_event_handler::store::rows::{Planned, RowOp};
use case_event_handler::store::Store;

use crate::helpers::*;

const F: &str = "delivery_it";
const LEASE: Duration = Duration::from_secs(30);
const NOW: i64 = 1_000_000;

fn op(destination: &str, case_key: &str, seq: i64) -> RowOp {
    let payload = serde_json::json!({ "case": case_key, "seq": seq });
    let event_id = format!("ev-{case_key}-{seq}");
    enqueue(&Enqueue {
        flavor: F,
        destination,
        case_key,
        seq,
        payload: &payload,
        created_at: 1_000 + seq,
        event_id: &event_id,
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

async fn lease(store: &Store, only: &[&str], now: i64, limit: usize) -> Vec<Delivery> {
    lease_due(store.pool(), F, Destinations::Only(only), now, limit, LEASE)
        .await
        .unwrap()
}

fn seqs(leased: &[Delivery]) -> Vec<(String, String, i64)> {
    (leased.iter())
        .map(|d| (d.destination.clone(), d.case_key.clone(), d.seq))
        .collect()
}

async fn order_and_redelivery(store: Store) {
    // Seqs of c1 arrive 3, 1, 2; c2 has one row.
    apply(&store, "e3", vec![op("a", "c1", 3), op("a", "c2", 1)]).await;
    apply(&store, "e1", vec![op("a", "c1", 1)]).await;
    apply(&store, "e2", vec![op("a", "c1", 2)]).await;
    let pool = store.pool();
    let mut log = Vec::new();
    // A worker that fails each row's first attempt: the case's next row
    // still waits for it.
    let mut now = NOW;
    for _ in 0..20 {
        for d in lease(&store, &["a"], now, 10).await {
            if d.attempts == 0 {
                assert!(retry_at(pool, &d, now + 10, "503", true).await.unwrap());
            } else {
                log.push((d.case_key.clone(), d.seq));
                assert!(delivered(pool, &d, now).await.unwrap());
            }
        }
        now += 10;
    }
    let c1: Vec<i64> = (log.iter().filter(|(c, _)| c == "c1"))
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(c1, [1, 2, 3], "{log:?}");
    assert_eq!(log.len(), 4);
    // Enqueued again (a replay under another ledger id): nothing new.
    apply(&store, "e1-again", vec![op("a", "c1", 1), op("a", "c1", 2)]).await;
    assert!(lease(&store, &["a"], i64::MAX / 2, 10).await.is_empty());
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(count, 4);
}

async fn dead_destination_blocks_nothing(store: Store) {
    let ops = (0..20)
        .flat_map(|c| (1..=3).map(move |s| (c, s)))
        .flat_map(|(c, s)| {
            [
                op("dead", &format!("c{c}"), s),
                op("ok", &format!("c{c}"), s),
            ]
        })
        .collect();
    apply(&store, "bulk", ops).await;
    let pool = store.pool();
    // The dead destination times out on every attempt; the healthy one
    // takes everything in three rounds (one head per case per round).
    let mut ok = 0;
    for round in 0..3 {
        let now = NOW + round;
        for d in lease(&store, &["dead", "ok"], now, 1_000).await {
            if d.destination == "dead" {
                assert!(retry_at(pool, &d, now, "timeout", true).await.unwrap());
            } else {
                assert_eq!(d.seq, round + 1, "in order");
                assert!(delivered(pool, &d, now).await.unwrap());
                ok += 1;
            }
        }
    }
    assert_eq!(ok, 60, "the healthy destination got every row");
    // Disabled, its heads are not leased; its dead letters free the next.
    disable(pool, F, "dead", "gone: 410", NOW).await.unwrap();
    assert!(lease(&store, &["dead", "ok"], NOW + 10, 1_000)
        .await
        .is_empty());
    case_event_handler::flavors::kit::delivery::enable(pool, F, "dead", NOW)
        .await
        .unwrap();
    let heads = lease(&store, &["dead"], NOW + 10, 1_000).await;
    assert_eq!(heads.len(), 20);
    for d in &heads {
        assert!(bury(pool, d, "refused: 400").await.unwrap());
    }
    let all = Destinations::All;
    let next = lease_due(pool, F, all, NOW + 10, 1_000, LEASE)
        .await
        .unwrap();
    assert!(next.iter().all(|d| d.seq == 2 && d.destination == "dead") && next.len() == 20);
    assert_eq!(destinations(pool, F).await.unwrap(), ["dead", "ok"]);
    let depths = depth(pool, F).await.unwrap();
    let seen: Vec<_> = (depths.iter())
        .map(|d| {
            (
                d.destination.as_str(),
                d.state.as_str(),
                d.pending,
                d.leased,
                d.dead,
            )
        })
        .collect();
    // Destinations with rows still to deliver, or with state, only.
    assert_eq!(seen, [("dead", "active", 20, 20, 20)]);
    // Seq 3 of each case, made due with its head's last retry.
    assert_eq!(depths[0].oldest_next_at, NOW + 2);
}

async fn concurrent_leasers(store: Store, workers: usize) {
    let ops: Vec<RowOp> = (0..50)
        .flat_map(|c| (1..=4).map(move |s| (c, s)))
        .flat_map(|(c, s)| {
            [
                op("a", &format!("c{c:02}"), s),
                op("b", &format!("c{c:02}"), s),
            ]
        })
        .collect();
    apply(&store, "bulk", ops).await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let start = Arc::new(tokio::sync::Barrier::new(workers));
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (store, log, start) = (store.clone(), log.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let mut idle = 0;
                while idle < 50 {
                    let leased = lease(&store, &["a", "b"], NOW, 7).await;
                    idle = if leased.is_empty() { idle + 1 } else { 0 };
                    for d in leased {
                        log.lock().unwrap().push(d.clone());
                        assert!(delivered(store.pool(), &d, NOW).await.unwrap());
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let log = log.lock().unwrap();
    let mut count: HashMap<(&str, &str), usize> = HashMap::new();
    let mut order: HashMap<(&str, &str), Vec<i64>> = HashMap::new();
    for d in log.iter() {
        *count.entry((&d.destination, &d.delivery_id)).or_default() += 1;
        (order.entry((&d.destination, &d.case_key)).or_default()).push(d.seq);
    }
    assert_eq!(count.len(), 400, "every row leased");
    assert!(count.values().all(|n| *n == 1), "each exactly once");
    assert!(order.values().all(|s| s == &[1, 2, 3, 4]), "in order");
}

async fn takeover_and_fences(store: Store) {
    apply(&store, "e", vec![op("a", "c1", 1), op("a", "c1", 2)]).await;
    let pool = store.pool();
    let first = lease(&store, &["a"], NOW, 10).await;
    assert_eq!(seqs(&first), [("a".into(), "c1".into(), 1)]);
    let expiry = first[0].leased_until;
    assert!(lease(&store, &["a"], expiry, 10).await.is_empty(), "held");
    let taken = lease(&store, &["a"], expiry + 1, 10).await;
    assert_eq!(seqs(&taken), seqs(&first), "taken over, not the next");
    assert!(!delivered(pool, &first[0], expiry + 2).await.unwrap());
    assert!(!retry_at(pool, &first[0], 0, "stale", true).await.unwrap());
    assert!(!bury(pool, &first[0], "stale").await.unwrap());
    assert!(delivered(pool, &taken[0], expiry + 2).await.unwrap());
    assert!(!bury(pool, &taken[0], "late").await.unwrap(), "once");
    let next = lease(&store, &["a"], expiry + 2, 10).await;
    assert_eq!(seqs(&next), [("a".into(), "c1".into(), 2)]);
}

#[tokio::test]
async fn delivery_postgres_order_per_case_and_redelivery() {
    order_and_redelivery(pg_store().await).await;
}

#[tokio::test]
async fn delivery_sqlite_order_per_case_and_redelivery() {
    let (_dir, store) = sqlite_store("order.db", 1).await;
    order_and_redelivery(store).await;
}

#[tokio::test]
async fn delivery_postgres_a_dead_destination_blocks_nothing() {
    dead_destination_blocks_nothing(pg_store().await).await;
}

#[tokio::test]
async fn delivery_sqlite_a_dead_destination_blocks_nothing() {
    let (_dir, store) = sqlite_store("dead.db", 1).await;
    dead_destination_blocks_nothing(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delivery_postgres_concurrent_leasers_take_each_row_once_in_order() {
    concurrent_leasers(pg_store().await, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn delivery_sqlite_concurrent_leasers_take_each_row_once_in_order() {
    let (_dir, store) = sqlite_store("leasers.db", 4).await;
    concurrent_leasers(store, 8).await;
}

#[tokio::test]
async fn delivery_postgres_a_lapsed_lease_is_taken_over_and_fenced() {
    takeover_and_fences(pg_store().await).await;
}

#[tokio::test]
async fn delivery_sqlite_a_lapsed_lease_is_taken_over_and_fenced() {
    let (_dir, store) = sqlite_store("fence.db", 1).await;
    takeover_and_fences(store).await;
}

/// The plan (and, in a rolled-back transaction, the run) of one lease of
/// `destinations` at `now`.
async fn explain(store: &Store, destinations: &[&str], now: i64, analyze: bool) -> String {
    let sql = format!(
        "EXPLAIN {}{}",
        if analyze { "(ANALYZE, BUFFERS) " } else { "" },
        lease_sql(destinations.len(), true)
    );
    let mut tx = store.pool().begin().await.unwrap();
    let mut query = sqlx::query_scalar::<_, String>(&sql)
        .bind(now + 30_000)
        .bind(F)
        .bind(now)
        .bind(100_i64);
    for d in destinations {
        query = query.bind(*d).bind(100_i64);
    }
    let lines = query.fetch_all(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    lines.join("\n")
}

#[tokio::test]
async fn delivery_postgres_the_lease_reads_each_destination_from_the_index() {
    let store = pg_store().await;
    // 20,000 rows of a busy destination (2,000 cases × 10), 50 of a quiet one.
    for batch in 0..20 {
        let ops = (0..100)
            .flat_map(|c| (1..=10).map(move |s| (batch * 100 + c, s)))
            .map(|(c, s)| op("busy", &format!("c{c:05}"), s))
            .collect();
        apply(&store, &format!("busy-{batch}"), ops).await;
    }
    let quiet = (0..50).map(|c| op("quiet", &format!("q{c}"), 1)).collect();
    apply(&store, "quiet", quiet).await;
    sqlx::query("ANALYZE deliveries")
        .execute(store.pool())
        .await
        .unwrap();
    let plan = explain(&store, &["busy", "quiet"], NOW, false).await;
    eprintln!("{plan}");
    assert!(!plan.contains("Seq Scan on deliveries"), "{plan}");
    let run = explain(&store, &["busy", "quiet"], NOW, true).await;
    eprintln!("{run}");
    // Every head of the busy destination retrying later: the quiet one's
    // lease does not read the busy one's 18,000 waiting rows.
    let mut heads = Vec::new();
    loop {
        let leased = lease(&store, &["busy"], NOW, 1_000).await;
        if leased.is_empty() {
            break;
        }
        heads.extend(leased);
    }
    // With every head in flight, the busy branch reads their followers and
    // passes over them (measured, not asserted: the runtime's to tune).
    let in_flight = explain(&store, &["busy"], NOW, true).await;
    let time = in_flight.lines().last().unwrap_or_default();
    eprintln!("busy, 2,000 heads in flight: {time}");
    for d in &heads {
        assert!(retry_at(store.pool(), d, NOW + 60_000, "timeout", true)
            .await
            .unwrap());
    }
    let heads = heads.len();
    assert_eq!(heads, 2_000, "one head per case");
    let quiet_run = explain(&store, &["quiet"], NOW, true).await;
    eprintln!("{quiet_run}");
    assert!(!quiet_run.contains("Seq Scan on deliveries"), "{quiet_run}");
    // Their 18,000 followers were made due with them (`retry_at`), so the
    // busy branch reads no row it cannot lease.
    let busy_run = explain(&store, &["busy", "quiet"], NOW, true).await;
    eprintln!("{busy_run}");
    let scanned = busy_run
        .lines()
        .find(|l| l.contains("Index Scan using deliveries_due on deliveries r "))
        .unwrap_or_else(|| panic!("{busy_run}"));
    assert!(scanned.contains("rows=0 loops=1"), "{scanned}");
}
