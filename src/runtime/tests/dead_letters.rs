//! Dead letters: one per event that gives up, with its reason; the offset
//! moves past it once written; the circuit stops a run that dead-letters
//! too much; a sink that cannot write stops the run.

use super::script::{now, Answer, Script};
use super::*;
use crate::runtime::dlq::DlqReason;
use crate::source::memory::raw_record;
use crate::source::record::{CONTENT_TYPE, EVENT_TYPE, PROTOBUF};

#[tokio::test(start_paused = true)]
async fn spent_retries_write_one_dead_letter_and_the_offset_moves_past_it() {
    let (a, b) = (event("a", 1), event("b", 2));
    let script = Script::default().on(&a.event_id, &[now(Answer::Retry(None))]);
    let mut run = Run::single(script, config());
    run.send(&tp(0), &[a.clone(), b.clone()]);
    let (calls, dlq, control) = (run.calls.clone(), run.dlq.clone(), run.control.clone());
    let summary = run.finish().await.expect("a clean run");
    assert_eq!(calls.of(&a.event_id).len(), 4, "max_attempts in all");
    let entries = dlq.entries();
    assert_eq!(entries.len(), 1, "exactly one dead letter");
    let (record, entry) = &entries[0];
    assert_eq!((record.tp.clone(), record.offset), (tp(0), 0));
    assert_eq!(
        record.key.as_deref(),
        Some(b"a".as_slice()),
        "the original key"
    );
    assert_eq!(entry.reason, DlqReason::RetriesExhausted);
    assert_eq!(entry.attempts, 4);
    assert!(
        entry.error.contains("attempt 4"),
        "the last error: {}",
        entry.error
    );
    assert_eq!(summary.dead_lettered("retries-exhausted"), 1, "{summary}");
    assert_eq!(summary.succeeded, 1, "{summary}");
    assert_eq!(control.stored(&tp(0)), Some(2), "past the dead letter");
}

#[tokio::test(start_paused = true)]
async fn a_discard_is_dead_lettered_without_a_retry() {
    let a = event("a", 1);
    let script = Script::default().on(&a.event_id, &[now(Answer::Discard)]);
    let mut run = Run::single(script, config());
    run.send(&tp(0), std::slice::from_ref(&a));
    let (calls, dlq, control) = (run.calls.clone(), run.dlq.clone(), run.control.clone());
    let summary = run.finish().await.expect("a clean run");
    assert_eq!(calls.of(&a.event_id).len(), 1);
    let entries = dlq.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].1.reason, DlqReason::Discarded);
    assert_eq!(entries[0].1.attempts, 1);
    assert_eq!(summary.dead_lettered("discarded"), 1, "{summary}");
    assert_eq!(summary.retries, 0);
    assert_eq!(control.stored(&tp(0)), Some(1));
}

#[tokio::test(start_paused = true)]
async fn garbage_is_dead_lettered_as_invalid_without_a_handler_call() {
    let mut run = Run::single(Script::default(), config());
    let headers = [
        (EVENT_TYPE, "case.status_changed"),
        (CONTENT_TYPE, PROTOBUF),
    ];
    let garbage = raw_record(
        &tp(0),
        0,
        Some("a"),
        &b"\xff\xfe not protobuf"[..],
        &headers,
    );
    run.source
        .send_records(vec![garbage])
        .expect("the run reads");
    let (calls, dlq) = (run.calls.clone(), run.dlq.clone());
    let summary = run.finish().await.expect("a clean run");
    assert!(calls.all().is_empty());
    let entries = dlq.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].1.reason, entries[0].1.attempts),
        (DlqReason::Invalid, 0)
    );
    assert_eq!(summary.dead_lettered("invalid"), 1, "{summary}");
}

/// A circuit judging the last 10 outcomes from the 4th on, past half.
fn tight_circuit() -> RuntimeConfig {
    let mut cfg = config();
    cfg.dlq.window = 10;
    cfg.dlq.min_events = 4;
    cfg.dlq.max_ratio = 0.5;
    cfg
}

#[tokio::test(start_paused = true)]
async fn the_dlq_circuit_stops_the_run_past_its_ratio() {
    // One key: events go one at a time, so the 4th discard is the one that
    // trips the circuit and nothing after it starts.
    let evs = events("a", 1, 20);
    let script = Script::default().otherwise(now(Answer::Discard));
    let mut run = Run::single(script, tight_circuit());
    run.send(&tp(0), &evs);
    let (calls, dlq, control) = (run.calls.clone(), run.dlq.clone(), run.control.clone());
    let err = run.finish().await.expect_err("the circuit stops the run");
    assert!(
        matches!(err, RunError::DlqCircuitOpen { ratio } if ratio > 0.5),
        "{err}"
    );
    assert_eq!(calls.all().len(), 4, "nothing starts after the trip");
    assert_eq!(dlq.entries().len(), 4);
    assert_eq!(control.stored(&tp(0)), Some(4), "the written ones complete");
    assert!(control.closed());
}

#[tokio::test(start_paused = true)]
async fn the_dlq_circuit_holds_at_its_ratio() {
    // Every other event discarded, a success first: never past half.
    let evs = events("a", 1, 20);
    let script = evs
        .iter()
        .skip(1)
        .step_by(2)
        .fold(Script::default(), |s, e| {
            s.on(&e.event_id, &[now(Answer::Discard)])
        });
    let mut run = Run::single(script, tight_circuit());
    run.send(&tp(0), &evs);
    let summary = run.finish().await.expect("half is tolerated");
    assert_eq!(summary.dead_lettered("discarded"), 10, "{summary}");
    assert_eq!(summary.succeeded, 10, "{summary}");
}

#[tokio::test(start_paused = true)]
async fn a_dead_letter_that_cannot_be_written_stops_the_run_with_the_offset_held() {
    let (a, b) = (event("a", 1), event("a", 2));
    let script = Script::default().on(&a.event_id, &[now(Answer::Discard)]);
    let mut run = Run::single(script, config());
    run.dlq.set_failing(true);
    run.send(&tp(0), &[a, b.clone()]);
    let (calls, control) = (run.calls.clone(), run.control.clone());
    let err = run.finish().await.expect_err("no silent drop");
    assert!(
        matches!(err, RunError::DeadLetterFailed { offset: 0, .. }),
        "{err}"
    );
    assert!(
        calls.of(&b.event_id).is_empty(),
        "the key's next event waits"
    );
    assert_eq!(control.stored(&tp(0)), None, "offset 0 is not passed");
}

#[tokio::test(start_paused = true)]
async fn progress_counts_dead_letters_as_final_outcomes() {
    let evs = events("a", 1, 3);
    let script = Script::default().on(&evs[1].event_id, &[now(Answer::Discard)]);
    let mut run = Run::single(script, config());
    run.send(&tp(0), &evs);
    let progress = run.progress.clone();
    let summary = run.finish().await.expect("a clean run");
    assert_eq!(summary.total(), 3, "{summary}");
    assert_eq!(progress.completed(), 3, "every final outcome counts");
    assert_eq!(progress.dead_lettered(), 1);
}
