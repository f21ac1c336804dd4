//! The delivery worker on SQLite with a scripted deliverer: isolation of
//! destinations (slots, holds), outcomes through the schedule (410 gone,
//! horizon), the doorbell, and the stop. Real time, short polls; the pure
//! parts (schedule, book) have their own paused-clock tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::flavors::kit::delivery::{enqueue, Enqueue};
use crate::settings::DeliverySettings;
use crate::store::rows::Planned;
use crate::store::{now_ms, Store};

const F: &str = "f";

/// Per destination: what it answers, and how long it takes.
#[derive(Clone)]
enum Script {
    Ok,
    Slow(Duration),
    Answer(DeliveryOutcome),
}

#[derive(Default)]
struct Scripted {
    scripts: Mutex<HashMap<String, Script>>,
    calls: Mutex<Vec<(String, String)>>,
    in_flight: Mutex<HashMap<String, usize>>,
    most_in_flight: Mutex<HashMap<String, usize>>,
    total: AtomicUsize,
}

impl Scripted {
    fn set(&self, destination: &str, script: Script) {
        self.scripts
            .lock()
            .unwrap()
            .insert(destination.into(), script);
    }

    fn calls_to(&self, destination: &str) -> Vec<String> {
        let calls = self.calls.lock().unwrap();
        calls
            .iter()
            .filter(|(d, _)| d == destination)
            .map(|(_, id)| id.clone())
            .collect()
    }

    fn most(&self, destination: &str) -> usize {
        self.most_in_flight
            .lock()
            .unwrap()
            .get(destination)
            .copied()
            .unwrap_or(0)
    }
}

#[async_trait]
impl Deliverer for Arc<Scripted> {
    async fn deliver(&self, d: &Delivery) -> DeliveryOutcome {
        let script =
            (self.scripts.lock().unwrap().get(&d.destination).cloned()).unwrap_or(Script::Ok);
        {
            let mut in_flight = self.in_flight.lock().unwrap();
            let n = in_flight.entry(d.destination.clone()).or_default();
            *n += 1;
            let mut most = self.most_in_flight.lock().unwrap();
            let m = most.entry(d.destination.clone()).or_default();
            *m = (*m).max(*n);
        }
        self.calls
            .lock()
            .unwrap()
            .push((d.destination.clone(), d.event_id.clone()));
        self.total.fetch_add(1, Ordering::SeqCst);
        let outcome = match script {
            Script::Ok => DeliveryOutcome::Delivered,
            Script::Slow(after) => {
                tokio::time::sleep(after).await;
                DeliveryOutcome::Delivered
            }
            Script::Answer(outcome) => outcome,
        };
        *self
            .in_flight
            .lock()
            .unwrap()
            .get_mut(&d.destination)
            .unwrap() -= 1;
        outcome
    }
}

async fn enqueue_rows(store: &Store, destination: &str, cases: usize, per_case: i64) {
    let now = now_ms();
    let payload = serde_json::json!({});
    let mut plans = Vec::new();
    for c in 0..cases {
        for seq in 1..=per_case {
            let event_id = format!("{destination}-c{c}-{seq}");
            let op = enqueue(&Enqueue {
                flavor: F,
                destination,
                case_key: &format!("c{c}"),
                seq,
                payload: &payload,
                created_at: now,
                event_id: &event_id,
                correlation_id: "",
                chain_depth: 0,
            })
            .unwrap();
            plans.push(Planned {
                event_id,
                ops: vec![op],
            });
        }
    }
    store.apply_rows(F, &plans).await.unwrap();
}

fn config(tweak: impl FnOnce(&mut DeliverySettings)) -> DeliveryConfig {
    let mut s = DeliverySettings {
        poll_ms: 20,
        per_destination: 3,
        attempt_timeout_ms: 2_000,
        backoff_base_ms: 50,
        backoff_cap_ms: 200,
        breaker_failures: 0,
        depth_check_ms: 100,
        ..DeliverySettings::default()
    };
    tweak(&mut s);
    DeliveryConfig::new(&s, Duration::from_secs(5))
}

fn worker(
    store: &Store,
    deliverer: &Arc<Scripted>,
    config: DeliveryConfig,
) -> (Queue, CancellationToken, tokio::task::JoinHandle<()>) {
    let queue = Queue::default();
    let w = Deliveries {
        flavor: F,
        pool: store.pool().clone(),
        deliverer: Arc::new(deliverer.clone()),
        queue: queue.clone(),
        config,
        clock: Arc::new(crate::resilience::maintenance::SystemClock),
    };
    let stop = CancellationToken::new();
    let task = tokio::spawn(w.run(stop.clone()));
    (queue, stop, task)
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn depth_of(store: &Store, destination: &str) -> delivery::Depth {
    let all = delivery::depth(store.pool(), F).await.unwrap();
    all.into_iter()
        .find(|d| d.destination == destination)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_destination_keeps_to_its_slots_and_the_others_flow_in_case_order() {
    let (_dir, store) = Store::temp_sqlite(4).await;
    let d = Arc::new(Scripted::default());
    d.set("slow", Script::Slow(Duration::from_millis(300)));
    enqueue_rows(&store, "slow", 10, 2).await;
    enqueue_rows(&store, "fast", 10, 5).await;
    let (_queue, stop, task) = worker(&store, &d, config(|_| {}));
    until("fast delivered", || d.calls_to("fast").len() == 50).await;
    assert!(d.calls_to("slow").len() < 20, "fast did not wait for slow");
    assert!(
        d.most("slow") <= 3,
        "per_destination slots: {}",
        d.most("slow")
    );
    let fast = d.calls_to("fast");
    for c in 0..10 {
        let order: Vec<&String> = fast
            .iter()
            .filter(|id| id.starts_with(&format!("fast-c{c}-")))
            .collect();
        let want: Vec<String> = (1..=5).map(|s| format!("fast-c{c}-{s}")).collect();
        assert_eq!(order, want.iter().collect::<Vec<_>>(), "case c{c} in order");
    }
    until("slow delivered", || d.calls_to("slow").len() == 20).await;
    stop.cancel();
    task.await.unwrap();
    let slow = depth_of(&store, "slow").await;
    assert_eq!(
        (slow.pending, slow.leased, slow.dead),
        (0, 0, 0),
        "{slow:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_holds_only_its_destination_and_is_not_charged_an_attempt() {
    let (_dir, store) = Store::temp_sqlite(4).await;
    let d = Arc::new(Scripted::default());
    d.set(
        "busy",
        Script::Answer(DeliveryOutcome::Transient {
            error: "HTTP 429".into(),
            retry_after: Some(Duration::from_secs(30)),
        }),
    );
    enqueue_rows(&store, "busy", 3, 1).await;
    enqueue_rows(&store, "calm", 3, 1).await;
    let before = now_ms();
    let (_queue, stop, task) = worker(&store, &d, config(|_| {}));
    until("calm delivered", || d.calls_to("calm").len() == 3).await;
    until("busy tried", || !d.calls_to("busy").is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    task.await.unwrap();
    let busy = depth_of(&store, "busy").await;
    assert!(
        busy.hold_until >= before + 30_000,
        "held for its Retry-After: {busy:?}"
    );
    assert!(
        d.calls_to("busy").len() <= 3,
        "no call inside the hold: {:?}",
        d.calls_to("busy")
    );
    let rows = delivery::recent(store.pool(), F, "busy", 10).await.unwrap();
    assert!(
        rows.iter().all(|r| r.attempts == 0 && r.state == "pending"),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_makes_the_destination_gone_and_its_rows_dead_and_refusals_are_dead_alone() {
    let (_dir, store) = Store::temp_sqlite(4).await;
    let d = Arc::new(Scripted::default());
    d.set(
        "old",
        Script::Answer(DeliveryOutcome::Gone {
            error: "HTTP 410".into(),
        }),
    );
    d.set(
        "picky",
        Script::Answer(DeliveryOutcome::Permanent {
            error: "HTTP 400".into(),
        }),
    );
    enqueue_rows(&store, "old", 5, 2).await;
    enqueue_rows(&store, "picky", 2, 2).await;
    let (queue, stop, task) = worker(&store, &d, config(|_| {}));
    let dead = |store: Store, destination: &'static str, n: i64| async move {
        for _ in 0..250 {
            if depth_of(&store, destination).await.dead == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "{destination}: {n} dead rows: {:?}",
            depth_of(&store, destination).await
        );
    };
    dead(store.clone(), "old", 10).await;
    // Rows enqueued after the 410 die too (the depth check), never called.
    let calls = d.calls_to("old").len();
    enqueue_rows(&store, "old", 1, 1).await;
    queue.doorbell.ring();
    dead(store.clone(), "old", 10).await;
    dead(store.clone(), "picky", 4).await;
    stop.cancel();
    task.await.unwrap();
    let old = depth_of(&store, "old").await;
    assert_eq!(old.state, "gone", "{old:?}");
    assert_eq!(d.calls_to("old").len(), calls, "no call once gone");
    assert!(calls <= 3, "the first leases only: {calls}");
    let rows = delivery::recent(store.pool(), F, "picky", 10)
        .await
        .unwrap();
    assert!(
        rows.iter()
            .all(|r| r.last_error.contains("refused: HTTP 400")),
        "{rows:?}"
    );
    assert_eq!(
        depth_of(&store, "picky").await.state,
        "active",
        "a refusal says nothing of its destination"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doorbell_leases_at_once_and_a_stop_waits_for_attempts_in_flight() {
    let (_dir, store) = Store::temp_sqlite(4).await;
    let d = Arc::new(Scripted::default());
    d.set("d", Script::Slow(Duration::from_millis(400)));
    let (queue, stop, task) = worker(&store, &d, config(|s| s.poll_ms = 60_000));
    tokio::time::sleep(Duration::from_millis(100)).await;
    enqueue_rows(&store, "d", 2, 1).await;
    queue.doorbell.ring();
    until("rung and leased", || d.total.load(Ordering::SeqCst) == 2).await;
    stop.cancel();
    task.await.unwrap();
    let depth = depth_of(&store, "d").await;
    assert_eq!(
        (depth.pending, depth.leased),
        (0, 0),
        "the stop waited for both: {depth:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_depth_a_queue_drops_its_oldest_or_refuses_as_configured() {
    let (_dir, store) = Store::temp_sqlite(4).await;
    let d = Arc::new(Scripted::default());
    // Disabled: nothing is leased, the queue only grows.
    delivery::disable(store.pool(), F, "stuck", "test", now_ms())
        .await
        .unwrap();
    delivery::disable(store.pool(), F, "held", "test", now_ms())
        .await
        .unwrap();
    enqueue_rows(&store, "stuck", 12, 1).await;
    enqueue_rows(&store, "held", 3, 1).await;
    let drop_oldest = config(|s| s.max_depth = 5);
    let (queue, stop, task) = worker(&store, &d, drop_oldest);
    for _ in 0..250 {
        if depth_of(&store, "stuck").await.dead == 7 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    task.await.unwrap();
    let stuck = depth_of(&store, "stuck").await;
    assert_eq!((stuck.pending, stuck.dead), (5, 7), "{stuck:?}");
    let rows = delivery::recent(store.pool(), F, "stuck", 20)
        .await
        .unwrap();
    let dropped: Vec<_> = rows.iter().filter(|r| r.state == "dead").collect();
    assert!(
        dropped
            .iter()
            .all(|r| r.last_error.contains("over max_depth 5")),
        "{rows:?}"
    );
    assert!(!queue.full.contains("stuck"), "drop_oldest refuses nothing");
    assert_eq!(
        depth_of(&store, "held").await.dead,
        0,
        "a queue under depth keeps all"
    );

    let refuse = config(|s| {
        s.max_depth = 4;
        s.on_full = crate::settings::OnFull::Refuse;
    });
    let (queue, stop, task) = worker(&store, &d, refuse);
    until("stuck refuses new rows", || queue.full.contains("stuck")).await;
    stop.cancel();
    task.await.unwrap();
    assert!(!queue.full.contains("held"));
    assert_eq!(
        depth_of(&store, "stuck").await.pending,
        5,
        "refuse drops nothing"
    );
}
