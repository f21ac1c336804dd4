//! Retries: when they start, what they pause, and when the budget ends.

use std::time::Duration;

use super::script::{now, slow, Answer, Script, Step};
use super::*;

/// The timer wheel fires on whole milliseconds: a jittered delay may end up
/// to one later.
const TICK: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn retries_start_within_the_exponential_backoff_ceilings() {
    let mut cfg = config();
    cfg.retry.max_attempts = 5;
    // Twenty keys, each failing four times and then succeeding.
    let evs: Vec<CaseEvent> = (0..20).map(|i| event(&format!("c{i}"), i)).collect();
    let retry = now(Answer::Retry(None));
    let ok = now(Answer::Success);
    let script = evs.iter().fold(Script::default(), |s, e| {
        s.on(&e.event_id, &[retry, retry, retry, retry, ok])
    });
    let mut run = Run::single(script, cfg);
    run.send(&tp(0), &evs);
    let calls = run.calls.clone();
    let summary = run.finish().await.expect("a clean run");
    assert_eq!(summary.succeeded, 20, "{summary}");
    assert_eq!(summary.retries, 80, "{summary}");
    let ceilings = [ms(100), ms(200), ms(400), ms(400)];
    let mut first_gaps = Vec::new();
    for e in &evs {
        let calls = calls.of(&e.event_id);
        let attempts: Vec<u32> = calls.iter().map(|c| c.attempt).collect();
        assert_eq!(attempts, [1, 2, 3, 4, 5], "{}", e.event_id);
        for (k, pair) in calls.windows(2).enumerate() {
            let gap = pair[1].started - pair[0].ended.unwrap();
            assert!(
                gap <= ceilings[k] + TICK,
                "retry {} of {} waited {gap:?}, past its ceiling {:?}",
                k + 1,
                e.event_id,
                ceilings[k]
            );
        }
        first_gaps.push(calls[1].started - calls[0].ended.unwrap());
    }
    first_gaps.sort();
    first_gaps.dedup();
    assert!(first_gaps.len() > 1, "full jitter spreads the delays");
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_above_the_backoff_ceiling_is_the_delay() {
    let e = event("a", 1);
    let script = Script::default().on(
        &e.event_id,
        &[
            now(Answer::Retry(Some(Duration::from_secs(3)))),
            now(Answer::Retry(Some(Duration::from_secs(5)))),
            now(Answer::Success),
        ],
    );
    let mut run = Run::single(script, config());
    run.send(&tp(0), std::slice::from_ref(&e));
    let t0 = run.t0;
    let calls = run.calls.clone();
    let summary = run.finish().await.expect("a clean run");
    let starts: Vec<Duration> = calls
        .of(&e.event_id)
        .iter()
        .map(|c| c.started - t0)
        .collect();
    assert_eq!(starts, [ms(0), ms(3000), ms(8000)]);
    assert_eq!((summary.succeeded, summary.retries), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn a_backoff_pauses_its_partition_while_other_partitions_flow() {
    let a = event("a", 1);
    let others = events("b", 10, 5);
    let script = Script::default()
        .on(
            &a.event_id,
            &[
                now(Answer::Retry(Some(Duration::from_secs(2)))),
                now(Answer::Success),
            ],
        )
        .otherwise(slow(ms(100)));
    let mut run = Run::single(script, config());
    run.send(&tp(0), std::slice::from_ref(&a));
    run.send(&tp(1), &others);
    run.at(ms(1000)).await;
    assert!(run.control.is_paused(&tp(0)), "paused during the backoff");
    assert_eq!(
        run.control.stored(&tp(0)),
        None,
        "nothing of tp 0 completed"
    );
    assert!(!run.control.is_paused(&tp(1)));
    assert_eq!(
        run.control.stored(&tp(1)),
        Some(5),
        "tp 1's five events (100 ms each, one key) completed meanwhile"
    );
    let control = run.control.clone();
    let t0 = run.t0;
    run.finish().await.expect("a clean run");
    let paused: Vec<(Duration, Option<Duration>)> = control
        .paused(&tp(0))
        .into_iter()
        .map(|(from, to)| (from - t0, to.map(|t| t - t0)))
        .collect();
    assert_eq!(
        paused,
        [(ms(0), Some(ms(2000)))],
        "paused for the backoff only"
    );
    assert!(control.paused(&tp(1)).is_empty());
    assert_eq!(control.stored(&tp(0)), Some(1));
}

#[tokio::test(start_paused = true)]
async fn the_retry_budget_ends_on_elapsed_time() {
    let mut cfg = config();
    cfg.retry.max_attempts = 100;
    cfg.retry.max_elapsed = ms(2500);
    let e = event("a", 1);
    let script = Script::default().on(&e.event_id, &[now(Answer::Retry(Some(ms(1000))))]);
    let mut run = Run::single(script, cfg);
    run.send(&tp(0), std::slice::from_ref(&e));
    let (t0, calls, dlq) = (run.t0, run.calls.clone(), run.dlq.clone());
    run.finish().await.expect("a clean run");
    let starts: Vec<Duration> = calls
        .of(&e.event_id)
        .iter()
        .map(|c| c.started - t0)
        .collect();
    // After the attempt at 3 s, 3 s have passed since the first: no more.
    assert_eq!(starts, [ms(0), ms(1000), ms(2000), ms(3000)]);
    let entries = dlq.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].1.attempts, 4);
}

#[tokio::test(start_paused = true)]
async fn the_partition_resumes_when_the_backoff_ends_not_when_the_retry_does() {
    let a = event("a", 1);
    let script = Script::default().on(
        &a.event_id,
        &[
            now(Answer::Retry(Some(Duration::from_secs(2)))),
            Step {
                work: Duration::from_secs(10),
                answer: Answer::Success,
            },
        ],
    );
    let mut run = Run::single(script, config());
    run.send(&tp(0), std::slice::from_ref(&a));
    run.at(ms(5000)).await;
    let retry = run.calls.of(&a.event_id)[1].clone();
    assert_eq!(run.since(retry.started), ms(2000), "the retry runs");
    assert!(
        !run.control.is_paused(&tp(0)),
        "the backoff is over: its partition fetches again while the retry runs"
    );
    run.finish().await.expect("a clean run");
}

#[tokio::test(start_paused = true)]
async fn a_backoff_does_not_hold_a_running_slot() {
    let mut cfg = config();
    cfg.max_in_flight = 1;
    let (a, b) = (event("a", 1), event("b", 2));
    let script = Script::default().on(
        &a.event_id,
        &[
            now(Answer::Retry(Some(Duration::from_secs(2)))),
            now(Answer::Success),
        ],
    );
    let mut run = Run::single(script, cfg);
    run.send(&tp(0), &[a.clone(), b.clone()]);
    let (t0, calls) = (run.t0, run.calls.clone());
    run.finish().await.expect("a clean run");
    let b_started = calls.of(&b.event_id)[0].started - t0;
    assert_eq!(
        b_started,
        ms(0),
        "max_in_flight bounds handler calls: b runs while a waits out its backoff"
    );
}

#[tokio::test(start_paused = true)]
async fn a_deferred_failure_counts_no_attempt_and_never_exhausts_the_budget() {
    let mut cfg = config();
    cfg.retry.max_attempts = 3;
    let e = event("a", 1);
    let defer = now(Answer::Defer(Some(Duration::from_secs(2))));
    let steps = [
        defer,
        defer,
        defer,
        defer,
        defer,
        now(Answer::Retry(None)),
        now(Answer::Success),
    ];
    let mut run = Run::single(Script::default().on(&e.event_id, &steps), cfg);
    run.send(&tp(0), std::slice::from_ref(&e));
    let calls = run.calls.clone();
    let summary = run.finish().await.expect("a clean run");
    assert_eq!(
        summary.succeeded, 1,
        "five deferrals and a failure within 3 attempts: {summary}"
    );
    let calls = calls.of(&e.event_id);
    let attempts: Vec<u32> = calls.iter().map(|c| c.attempt).collect();
    assert_eq!(
        attempts,
        [1, 1, 1, 1, 1, 1, 2],
        "deferrals count no attempt"
    );
    for pair in calls.windows(2).take(5) {
        assert!(pair[1].started - pair[0].ended.unwrap() >= Duration::from_secs(2));
    }
}
