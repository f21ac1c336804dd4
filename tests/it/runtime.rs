//! Delivery semantics of the runtime on the real broker and PostgreSQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use case_event_handler::event::{CaseEvent, Event};
use case_event_handler::handler::{
    BatchHandler, Ctx, HandleResp, Handler, HandlerError, Processor,
};
use case_event_handler::runtime::policy::{Ordering, RuntimeConfig};
use case_event_handler::runtime::RunError;

use crate::helpers::*;

mod dead_letters;

/// Attempt numbers seen per event id.
type Attempts = Arc<Mutex<HashMap<String, Vec<u32>>>>;

/// Answers per event id from a script; counts attempts per event id.
struct Scripted {
    attempts: Attempts,
    answer: fn(&CaseEvent, u32) -> HandleResp,
}

impl Scripted {
    fn new(answer: fn(&CaseEvent, u32) -> HandleResp) -> (Self, Attempts) {
        let attempts = Arc::new(Mutex::new(HashMap::new()));
        (
            Self {
                attempts: attempts.clone(),
                answer,
            },
            attempts,
        )
    }
}

#[async_trait]
impl Handler for Scripted {
    async fn handle(&self, ctx: &Ctx, event: &Event) -> HandleResp {
        self.attempts
            .lock()
            .unwrap()
            .entry(event.event_id.clone())
            .or_default()
            .push(ctx.attempt());
        (self.answer)(event, ctx.attempt())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_order_holds_with_64_in_flight_over_100_keys() {
    let (topic, group) = (unique("it-order"), unique("g"));
    create_topic(&topic, 1).await;
    publish(&topic, &synth(11, 100, 100)).await;
    let seen = Recorded::default();
    fn jitter(e: &CaseEvent) -> Duration {
        Duration::from_micros(u64::from(e.event_id.as_bytes()[e.event_id.len() - 1]) * 20)
    }
    let handler = Recorder {
        seen: seen.clone(),
        delay: jitter,
    };
    let p = spawn_pipeline(
        "order",
        Processor::Single(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        test_config(),
        group_props(&group),
    );
    seen.wait_for(10_000, Duration::from_secs(120)).await;
    p.stop().await.expect("clean stop");
    let cases = seen.0.lock().unwrap().clone();
    assert_eq!(cases.len(), 100);
    for (case, events) in cases {
        let versions: Vec<u64> = events.iter().map(|(v, _)| *v).collect();
        assert_eq!(
            versions,
            (1..=100).collect::<Vec<u64>>(),
            "case {case} out of order"
        );
    }
    assert_eq!(committed(&group, &topic, 1), end_offsets(&topic, 1));
}

/// A [`Recorder`] whose `held` event completes only once the test releases it.
struct Held {
    inner: Recorder,
    held: String,
    release: Arc<tokio::sync::Semaphore>,
}

#[async_trait]
impl Handler for Held {
    async fn handle(&self, ctx: &Ctx, event: &Event) -> HandleResp {
        if event.event_id == self.held {
            let _released = self.release.acquire().await.expect("never closed");
        }
        self.inner.handle(ctx, event).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committed_offset_never_passes_a_slow_event() {
    let (topic, group) = (unique("it-slow"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(12, 20, 5);
    publish(&topic, &events).await;
    // The slow event (offset 0) runs until the test releases it, not for a
    // fixed time: however slow the machine, it is unfinished while the
    // commit is looked at.
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let seen = Recorded::default();
    let handler = Held {
        inner: Recorder {
            seen: seen.clone(),
            delay: no_delay,
        },
        held: events[0].event_id.clone(),
        release: release.clone(),
    };
    let mut config = test_config();
    config.handler_timeout = Duration::from_secs(600); // held, not timed out
    let p = spawn_pipeline(
        "slow",
        Processor::Single(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        config,
        group_props(&group),
    );
    // Everything but the slow event's case completes; the commit stays at offset 0.
    let other_cases = events
        .iter()
        .filter(|e| e.case_id != events[0].case_id)
        .count();
    seen.wait_for(other_cases, Duration::from_secs(60)).await;
    // Time for auto-commits (every 200 ms) to pass the slow event if they
    // would; a loaded machine may commit less often here, never wrongly.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let during = committed(&group, &topic, 1)[&0];
    assert!(
        during <= 0,
        "committed {during} past the slow event at offset 0"
    );
    release.add_permits(1);
    seen.wait_for(events.len(), Duration::from_secs(60)).await;
    p.stop().await.expect("clean stop");
    assert_eq!(committed(&group, &topic, 1)[&0], events.len() as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicated_event_id_has_one_effect() {
    let (topic, group) = (unique("it-dup"), unique("g"));
    create_topic(&topic, 2).await;
    let events = synth(16, 10, 10);
    publish(&topic, &events).await;
    publish(&topic, &events).await;
    let (handler, attempts) = Scripted::new(|_, _| HandleResp::Success);
    let p = spawn_pipeline(
        "dup",
        Processor::Single(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        test_config(),
        group_props(&group),
    );
    eventually("both copies consumed", Duration::from_secs(60), || {
        let c = committed(&group, &topic, 2);
        c == end_offsets(&topic, 2)
    })
    .await;
    let summary = p.stop().await.expect("clean stop");
    assert_eq!(summary.succeeded, 100, "{summary}");
    assert_eq!(summary.skipped("duplicate"), 100, "{summary}");
    let attempts = attempts.lock().unwrap();
    assert_eq!(attempts.len(), 100);
    assert!(
        attempts.values().all(|a| a.len() == 1),
        "an event was handled twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_panic_stops_the_run_with_the_offset_uncommitted() {
    let (topic, group) = (unique("it-panic"), unique("g"));
    create_topic(&topic, 1).await;
    publish(&topic, &synth(17, 1, 3)).await;
    let (handler, _) = Scripted::new(|e, _| {
        if e.aggregate_version == 2 {
            panic!("boom at v2")
        } else {
            HandleResp::Success
        }
    });
    let p = spawn_pipeline(
        "panic",
        Processor::Single(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        test_config(),
        group_props(&group),
    );
    let err = tokio::time::timeout(Duration::from_secs(60), p.task)
        .await
        .expect("no hang")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, RunError::HandlerPanicked { offset: 1, ref message, .. } if message.contains("boom")),
        "{err}"
    );
    assert_eq!(committed(&group, &topic, 1)[&0], 1);
}

/// Fails three chosen events once; counts calls per event.
struct FlakyBatch {
    calls: Arc<Mutex<HashMap<String, u32>>>,
    fail: Vec<String>,
    batch_sizes: Arc<Mutex<Vec<usize>>>,
}

#[async_trait]
impl BatchHandler for FlakyBatch {
    async fn handle_batch(&self, _: &Ctx, events: &[&Event]) -> Vec<HandleResp> {
        self.batch_sizes.lock().unwrap().push(events.len());
        let mut calls = self.calls.lock().unwrap();
        events
            .iter()
            .map(|e| {
                let n = calls.entry(e.event_id.clone()).or_default();
                *n += 1;
                if *n == 1 && self.fail.contains(&e.event_id) {
                    HandleResp::Retry(HandlerError::transient("item 429"))
                } else {
                    HandleResp::Success
                }
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_retries_only_its_failed_items() {
    let (topic, group) = (unique("it-batch"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(18, 10, 10);
    publish(&topic, &events).await;
    let fail: Vec<String> = [5, 50, 95]
        .iter()
        .map(|&i| events[i].event_id.clone())
        .collect();
    let calls = Arc::new(Mutex::new(HashMap::new()));
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let handler = FlakyBatch {
        calls: calls.clone(),
        fail: fail.clone(),
        batch_sizes: sizes.clone(),
    };
    let mut config = test_config();
    // Ten keys: a key's events are never in two running batches, so batches
    // of ten are what a backlog of ten keys fills.
    config.batch.max_events = 10;
    config.max_in_flight = 256;
    config.batch.max_wait = Duration::from_millis(300);
    let p = spawn_pipeline(
        "batch",
        Processor::Batch(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        config,
        group_props(&group),
    );
    eventually("all committed", Duration::from_secs(60), || {
        committed(&group, &topic, 1)[&0] == 100
    })
    .await;
    let summary = p.stop().await.expect("clean stop");
    assert_eq!(summary.succeeded, 100, "{summary}");
    let calls = calls.lock().unwrap();
    for (id, n) in calls.iter() {
        let expected = if fail.contains(id) { 2 } else { 1 };
        assert_eq!(*n, expected, "event {id} handled {n} times");
    }
    let sizes = sizes.lock().unwrap();
    assert_eq!(
        sizes.iter().sum::<usize>(),
        103,
        "100 events once plus the 3 failures again: {sizes:?}"
    );
    assert!(
        sizes.contains(&10) && sizes.iter().all(|&n| n <= 10),
        "a batch closes at max_events and never passes it: {sizes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backoff_three_times_max_poll_interval_does_not_rebalance() {
    let (topic, group) = (unique("it-backoff"), unique("g"));
    create_topic(&topic, 1).await;
    publish(&topic, &synth(19, 1, 2)).await;
    let (handler, attempts) = Scripted::new(|e, attempt| {
        if e.aggregate_version == 1 && attempt == 1 {
            HandleResp::Retry(
                HandlerError::transient("rate limited").with_retry_after(Duration::from_secs(21)),
            )
        } else {
            HandleResp::Success
        }
    });
    let mut props = group_props(&group);
    props.insert("session.timeout.ms".into(), "6000".into());
    props.insert("max.poll.interval.ms".into(), "7000".into());
    let mut config = test_config();
    config.retry.max = Duration::from_secs(30);
    let p = spawn_pipeline(
        "backoff",
        Processor::Single(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        config,
        props,
    );
    eventually("retried and committed", Duration::from_secs(90), || {
        committed(&group, &topic, 1)[&0] == 2
    })
    .await;
    p.stop().await.expect("clean stop");
    let attempts = attempts.lock().unwrap();
    let first: Vec<u32> = attempts
        .values()
        .find(|a| a.len() > 1)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        first,
        vec![1, 2],
        "one retry in the same membership, no redelivery: {attempts:?}"
    );
}

/// A [`Recorder`] that defers the `held` events (no attempt counted, nothing
/// running) until `other` has recorded one.
struct UntilOtherStarts {
    inner: Recorder,
    held: std::collections::HashSet<String>,
    other: Recorded,
}

#[async_trait]
impl Handler for UntilOtherStarts {
    async fn handle(&self, ctx: &Ctx, event: &Event) -> HandleResp {
        if self.other.total() == 0 && self.held.contains(&event.event_id) {
            let wait = HandlerError::deferred("the other member has handled nothing yet");
            return HandleResp::Retry(wait.with_retry_after(Duration::from_millis(100)));
        }
        self.inner.handle(ctx, event).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebalance_drains_revoked_partitions_so_nothing_is_handled_twice_or_lost() {
    let (topic, group) = (unique("it-rebalance"), unique("g"));
    create_topic(&topic, 4).await;
    let events = synth(26, 200, 20);
    publish(&topic, &events).await;
    let store = pg_store().await;
    fn slow(_: &CaseEvent) -> Duration {
        Duration::from_millis(3)
    }
    // One event at a time per partition: A alone needs several seconds, so B
    // normally joins mid-stream. So that a late B (a loaded machine) still
    // finds work, A holds back the last 20 events of every partition until B
    // has handled one.
    let mut tails: HashMap<i32, Vec<(i64, String)>> = HashMap::new();
    for r in read_all(&topic).await {
        let id = case_event_handler::event::decode(&r.payload)
            .expect("an event")
            .event_id;
        tails
            .entry(r.tp.partition)
            .or_default()
            .push((r.offset, id));
    }
    let held = (tails.into_values())
        .flat_map(|mut records| {
            records.sort();
            let tail = records.len().saturating_sub(20);
            records.split_off(tail).into_iter().map(|(_, id)| id)
        })
        .collect();
    let config = RuntimeConfig {
        ordering: Ordering::Partition,
        ..test_config()
    };
    let (a_seen, b_seen) = (Recorded::default(), Recorded::default());
    let a = spawn_pipeline(
        "rebalance",
        Processor::Single(Arc::new(UntilOtherStarts {
            inner: Recorder {
                seen: a_seen.clone(),
                delay: slow,
            },
            held,
            other: b_seen.clone(),
        })),
        Some(store.clone()),
        &topic,
        config.clone(),
        group_props(&group),
    );
    a_seen.wait_for(400, Duration::from_secs(60)).await;
    let b = spawn_pipeline(
        "rebalance",
        Processor::Single(Arc::new(Recorder {
            seen: b_seen.clone(),
            delay: slow,
        })),
        Some(store.clone()),
        &topic,
        config,
        group_props(&group),
    );
    eventually("all committed", Duration::from_secs(120), || {
        committed(&group, &topic, 4) == end_offsets(&topic, 4)
    })
    .await;
    let (sa, sb) = (
        a.stop().await.expect("a stops cleanly"),
        b.stop().await.expect("b stops cleanly"),
    );
    assert!(
        b_seen.total() > 0,
        "the second member got partitions and handled events"
    );
    let mut ids: Vec<String> = [&a_seen, &b_seen]
        .iter()
        .flat_map(|r| {
            r.0.lock()
                .unwrap()
                .values()
                .flatten()
                .map(|(_, id)| id.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    let calls = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "every event handled");
    assert_eq!(
        calls,
        events.len(),
        "no event handled twice across the rebalance ({} calls)",
        calls
    );
    // Events completed past the committed watermark (other keys overtaking a
    // slower one) are redelivered to the new owner and skipped by the ledger.
    assert_eq!(
        sa.succeeded + sb.succeeded,
        events.len() as u64,
        "a={sa} b={sb}"
    );
}
