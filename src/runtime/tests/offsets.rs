//! The stored watermark, and revokes.

use std::time::Duration;

use super::script::{slow, Script};
use super::*;

#[tokio::test(start_paused = true)]
async fn a_slow_event_holds_the_stored_offset_then_it_jumps() {
    // Offset 0 takes 5 s; offsets 1..=4 (other keys) are done at once.
    let evs: Vec<CaseEvent> = (0..5).map(|i| event(&format!("c{i}"), i)).collect();
    let script = Script::default().on(&evs[0].event_id, &[slow(Duration::from_secs(5))]);
    let mut run = Run::single(script, config());
    run.send(&tp(0), &evs);
    run.at(ms(1000)).await;
    let done = run.calls.all().iter().filter(|c| c.ended.is_some()).count();
    assert_eq!(done, 4, "the later events completed");
    assert_eq!(
        run.control.stored(&tp(0)),
        None,
        "nothing past offset 0 is stored"
    );
    let (t0, control) = (run.t0, run.control.clone());
    run.finish().await.expect("a clean run");
    let stores: Vec<(Duration, i64)> = control
        .stores(&tp(0))
        .into_iter()
        .map(|(at, offset)| (at - t0, offset))
        .collect();
    assert_eq!(
        stores,
        [(ms(5000), 5)],
        "one store, when the slow event completes, past all five"
    );
}

#[tokio::test(start_paused = true)]
async fn the_watermark_moves_with_each_contiguous_completion() {
    // One key: offsets complete in order, 100 ms apart, each stored.
    let evs = events("a", 1, 3);
    let script = Script::default().otherwise(slow(ms(100)));
    let mut run = Run::single(script, config());
    run.send(&tp(0), &evs);
    let (t0, control, progress) = (run.t0, run.control.clone(), run.progress.clone());
    run.finish().await.expect("a clean run");
    let stores: Vec<(Duration, i64)> = control
        .stores(&tp(0))
        .into_iter()
        .map(|(at, offset)| (at - t0, offset))
        .collect();
    assert_eq!(stores, [(ms(100), 1), (ms(200), 2), (ms(300), 3)]);
    assert_eq!(progress.completed(), 3);
    assert!(control.closed(), "the source is closed at the end");
}

#[tokio::test(start_paused = true)]
async fn a_revoke_waits_for_running_events_and_answers_the_watermarks() {
    // tp 0: offset 0 (key a) runs 2 s, offset 1 (key a) waits behind it,
    // offset 2 (key b) is done at once. tp 1 is not revoked.
    let evs = [event("a", 1), event("a", 2), event("b", 3)];
    let script = Script::default().on(&evs[0].event_id, &[slow(ms(2000))]);
    let mut run = Run::single(script, config());
    run.send(&tp(0), &evs);
    run.at(ms(500)).await;
    let revoked = run.source.revoke(vec![tp(0)]).expect("the run reads");
    run.at(ms(1000)).await;
    assert!(revoked.try_answer().is_none(), "offset 0 still runs");
    run.send(&tp(1), &[event("c", 4)]);
    let marks = revoked.answer().await.expect("answered");
    answered_about(&run, ms(2000));
    assert_eq!(
        marks,
        [(tp(0), 1)],
        "offset 0 done; offset 1 was dropped unstarted, so the new owner starts there"
    );
    let (t0, calls, control) = (run.t0, run.calls.clone(), run.control.clone());
    run.finish().await.expect("a clean run");
    assert!(
        calls.of(&evs[1].event_id).is_empty(),
        "a revoked waiting event never starts"
    );
    let c = calls
        .all()
        .into_iter()
        .find(|c| c.case_id == "c")
        .expect("tp 1 flows");
    assert_eq!(
        c.started - t0,
        ms(1000),
        "tp 1 runs at once during the revoke"
    );
    assert_eq!(control.stored(&tp(1)), Some(1));
}

#[tokio::test(start_paused = true)]
async fn a_revoke_of_an_idle_partition_is_answered_at_once() {
    let mut run = Run::single(Script::default(), config());
    run.send(&tp(0), &events("a", 1, 3));
    run.at(ms(10)).await;
    let revoked = run.source.revoke(vec![tp(0)]).expect("the run reads");
    let marks = revoked.answer().await.expect("answered");
    answered_about(&run, ms(10));
    assert_eq!(marks, [(tp(0), 3)]);
    run.finish().await.expect("a clean run");
}

#[tokio::test(start_paused = true)]
async fn a_revoke_answers_at_the_drain_timeout_when_an_event_outlasts_it() {
    let mut cfg = config();
    cfg.drain_timeout = ms(1500);
    let e = event("a", 1);
    let script = Script::default().on(&e.event_id, &[slow(Duration::from_secs(10))]);
    let mut run = Run::single(script, cfg);
    run.send(&tp(0), std::slice::from_ref(&e));
    run.at(ms(100)).await;
    let marks = run.source.revoke(vec![tp(0)]).unwrap().answer().await;
    answered_about(&run, ms(1600));
    assert_eq!(
        marks,
        Some(vec![(tp(0), 0)]),
        "the unfinished event is not passed"
    );
    let control = run.control.clone();
    run.finish().await.expect("a clean run");
    assert_eq!(control.stored(&tp(0)), None, "nor stored after it ends");
}

/// The answer came at `at` (a revoke's answer is looked for every millisecond).
fn answered_about(run: &Run, at: Duration) {
    let now = run.since(tokio::time::Instant::now());
    assert!(
        at <= now && now <= at + ms(1),
        "answered at {now:?}, expected {at:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_revoke_during_a_backoff_is_answered_at_once_and_the_event_never_retried() {
    let e = event("a", 1);
    let backoff = super::script::now(super::script::Answer::Retry(Some(ms(10_000))));
    let script = Script::default().on(&e.event_id, &[backoff]);
    let mut run = Run::single(script, config());
    run.send(&tp(0), std::slice::from_ref(&e));
    run.at(ms(1000)).await;
    let marks = run.source.revoke(vec![tp(0)]).unwrap().answer().await;
    answered_about(&run, ms(1000));
    assert_eq!(marks, Some(vec![(tp(0), 0)]), "the new owner starts at it");
    let (t0, calls) = (run.t0, run.calls.clone());
    run.finish().await.expect("a clean run");
    assert_eq!(calls.of(&e.event_id).len(), 1, "not retried here");
    assert!(
        tokio::time::Instant::now() - t0 < ms(1100),
        "the backoff is not waited out"
    );
}
