//! A firing on its case's lane; a failed firing's retry and a dead one.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use case_event_handler::event::Event;
use case_event_handler::flavors::kit::timers::Firing;
use case_event_handler::handler::{Ctx, HandleResp, Handler, Processor};
use case_event_handler::store::rows::RowOp;

use super::{apply, config, one_timer, prepared, FLAVOR};
use crate::helpers::*;

/// Records whether a firing ever ran while an event of its case did.
#[derive(Default)]
struct Overlaps {
    busy: std::sync::Mutex<HashSet<String>>,
    overlaps: std::sync::atomic::AtomicUsize,
    handled: std::sync::atomic::AtomicUsize,
    fired: std::sync::atomic::AtomicUsize,
}

struct LaneCheck(Arc<Overlaps>);

#[async_trait]
impl Handler for LaneCheck {
    async fn handle(&self, _: &Ctx, event: &Event) -> HandleResp {
        let (this, case) = (&self.0, event.case_id.clone());
        if !this.busy.lock().unwrap().insert(case.clone()) {
            this.overlaps
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        this.busy.lock().unwrap().remove(&case);
        this.handled
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        HandleResp::Success
    }

    async fn fire(&self, ctx: &Ctx, firing: &Firing) -> HandleResp {
        // Both ways: an event starting during the firing is caught too.
        let (this, case) = (&self.0, firing.timer.case_key.clone());
        if !this.busy.lock().unwrap().insert(case.clone()) {
            this.overlaps
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        this.busy.lock().unwrap().remove(&case);
        let tx = match ctx.begin_firing(firing).await {
            Ok(tx) => tx,
            Err(err) => return HandleResp::classify(Err(err.into())),
        };
        let done = ctx.commit(tx).await;
        this.fired.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        HandleResp::classify(done.map_err(Into::into))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_never_runs_while_an_event_of_its_case_does() {
    let (store, topic, group) = prepared("timers-lane").await;
    // 60 events of one case, 40 ms each: its lane is busy for 2.4 s.
    let events = synth(7, 1, 60);
    let case_key = events[0].case_id.clone();
    publish_to(&topic, 0, &events).await;
    let seen = Arc::new(Overlaps::default());
    let handler = Processor::Single(Arc::new(LaneCheck(seen.clone())));
    let props = group_props(&group);
    let p = spawn_pipeline(
        FLAVOR,
        handler,
        Some(store.clone()),
        &topic,
        config(),
        props,
    );
    let count = |n: &std::sync::atomic::AtomicUsize| n.load(std::sync::atomic::Ordering::SeqCst);
    eventually("events under way", Duration::from_secs(30), || {
        count(&seen.handled) >= 2
    })
    .await;
    // 20 timers of that case come due while its events still run.
    let now = chrono::Utc::now().timestamp_millis();
    let ops: Vec<RowOp> = (0..20)
        .map(|i| one_timer(&topic, &case_key, &format!("t{i}"), now + 40 * i, 0))
        .collect();
    apply(&store, ops).await;
    assert!(
        count(&seen.handled) < 50,
        "the timers came due while the lane was busy"
    );
    // They wait behind the events the lane already holds (first in, first out).
    eventually("20 firings", Duration::from_secs(30), || {
        count(&seen.fired) == 20
    })
    .await;
    let summary = p.stop().await.expect("clean stop");
    assert_eq!(summary.succeeded, 60, "{summary:?}");
    assert_eq!(
        count(&seen.overlaps),
        0,
        "a firing ran beside its case's event"
    );
}

/// Fails a firing's first attempt (transient), and every attempt of `bad`.
struct Flaky;

#[async_trait]
impl Handler for Flaky {
    async fn handle(&self, _: &Ctx, _: &Event) -> HandleResp {
        HandleResp::Success
    }

    async fn fire(&self, _: &Ctx, firing: &Firing) -> HandleResp {
        use case_event_handler::handler::{HandlerError, SkipReason};
        match (firing.timer.timer_id.as_str(), firing.timer.attempts) {
            ("bad", _) => HandleResp::Discard(HandlerError::permanent("422 rejected")),
            ("skip", _) => HandleResp::Skip(SkipReason::Other("not for us".into())),
            (_, 0) => HandleResp::Retry(HandlerError::transient("503 unavailable")),
            _ => HandleResp::Success,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_firing_is_retried_after_its_backoff_and_a_rejected_one_ends_dead() {
    let (store, topic, group) = prepared("timers-retry").await;
    let now = chrono::Utc::now().timestamp_millis();
    let ops = ["good", "bad", "skip"]
        .iter()
        .map(|timer_id| one_timer(&topic, "case-1", timer_id, now, 1))
        .collect();
    apply(&store, ops).await;
    let props = group_props(&group);
    let flaky = Processor::Single(Arc::new(Flaky));
    let p = spawn_pipeline(FLAVOR, flaky, Some(store.clone()), &topic, config(), props);
    let row = |timer_id: &'static str| {
        let pool = store.pool().clone();
        async move {
            sqlx::query_as::<_, (String, i64, String)>(
                "SELECT state, attempts, last_error FROM timers WHERE timer_id = $1",
            )
            .bind(timer_id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let skipped_done = || async { row("skip").await.0 == "fired" };
    while row("good").await.0 != "fired" || row("bad").await.0 != "dead" || !skipped_done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            row("good").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        row("good").await,
        ("fired".into(), 1, "503 unavailable".into())
    );
    assert_eq!(row("bad").await, ("dead".into(), 1, "422 rejected".into()));
    // A skip is done (marked by the runtime), not claimed again at its lease's end.
    assert_eq!(row("skip").await, ("fired".into(), 0, String::new()));
    p.stop().await.expect("clean stop");
}
