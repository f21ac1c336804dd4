//! Batch processing: per-item outcomes, batch retries of the failed items
//! only, and their dead letters.

use std::time::Duration;

use super::script::{now, slow, Answer, Script};
use super::*;
use crate::runtime::dlq::DlqReason;

/// Ten events of ten keys: one full batch (`max_events` = 10).
fn ten() -> Vec<CaseEvent> {
    (0..10).map(|i| event(&format!("c{i}"), i)).collect()
}

#[tokio::test(start_paused = true)]
async fn a_batch_retries_only_its_failed_items_after_the_backoff() {
    let evs = ten();
    let again = [
        now(Answer::Retry(Some(Duration::from_secs(1)))),
        now(Answer::Success),
    ];
    let script = Script::default()
        .on(&evs[2].event_id, &again)
        .on(&evs[7].event_id, &again);
    let mut run = Run::batch(script, config(), 1);
    run.send(&tp(0), &evs);
    run.at(ms(500)).await;
    assert!(run.control.is_paused(&tp(0)), "paused during the backoff");
    assert_eq!(
        run.control.stored(&tp(0)),
        Some(2),
        "up to the first failed item"
    );
    let (t0, calls, control) = (run.t0, run.calls.clone(), run.control.clone());
    let summary = run.finish().await.expect("a clean run");
    let all = calls.all();
    let first: Vec<&str> = all
        .iter()
        .filter(|c| c.batch == Some(0))
        .map(|c| c.event_id.as_str())
        .collect();
    assert_eq!(first.len(), 10, "one batch of ten");
    let second: Vec<_> = all.iter().filter(|c| c.batch == Some(1)).collect();
    let ids: Vec<&str> = second.iter().map(|c| c.event_id.as_str()).collect();
    assert_eq!(ids, [evs[2].event_id.as_str(), evs[7].event_id.as_str()]);
    assert!(second
        .iter()
        .all(|c| c.started - t0 == ms(1000) && c.attempt == 2));
    assert_eq!(all.len(), 12, "no third batch");
    assert_eq!((summary.succeeded, summary.retries), (10, 2), "{summary}");
    assert_eq!(control.stored(&tp(0)), Some(10));
    let paused: Vec<_> = control
        .paused(&tp(0))
        .into_iter()
        .map(|(a, b)| (a - t0, b.map(|b| b - t0)))
        .collect();
    assert_eq!(paused, [(ms(0), Some(ms(1000)))]);
}

#[tokio::test(start_paused = true)]
async fn each_item_of_a_batch_is_settled_by_its_own_outcome() {
    let evs = ten();
    let script = Script::default()
        .on(&evs[3].event_id, &[now(Answer::Discard)])
        .on(&evs[5].event_id, &[now(Answer::Skip)]);
    let mut run = Run::batch(script, config(), 1);
    run.send(&tp(0), &evs);
    let (calls, dlq, control) = (run.calls.clone(), run.dlq.clone(), run.control.clone());
    let summary = run.finish().await.expect("a clean run");
    assert_eq!(calls.all().len(), 10, "one batch, nothing retried");
    assert_eq!(summary.succeeded, 8, "{summary}");
    assert_eq!(summary.skipped("other:scripted"), 1, "{summary}");
    let entries = dlq.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0.offset, 3);
    assert_eq!(
        (entries[0].1.reason, entries[0].1.attempts),
        (DlqReason::Discarded, 1)
    );
    assert_eq!(control.stored(&tp(0)), Some(10));
}

#[tokio::test(start_paused = true)]
async fn a_batch_item_whose_retries_are_spent_is_dead_lettered_alone() {
    let evs = ten();
    let script = Script::default().on(&evs[0].event_id, &[now(Answer::Retry(None))]);
    let mut run = Run::batch(script, config(), 1);
    run.send(&tp(0), &evs);
    let (calls, dlq, control) = (run.calls.clone(), run.dlq.clone(), run.control.clone());
    let summary = run.finish().await.expect("a clean run");
    let tries = calls.of(&evs[0].event_id);
    assert_eq!(tries.len(), 4, "max_attempts batches carried it");
    let ceilings = [ms(100), ms(200), ms(400)];
    for (pair, ceiling) in tries.windows(2).zip(ceilings) {
        let gap = pair[1].started - pair[0].ended.unwrap();
        assert!(
            gap <= ceiling + ms(1),
            "waited {gap:?}, ceiling {ceiling:?}"
        );
    }
    let entries = dlq.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].1.reason, entries[0].1.attempts),
        (DlqReason::RetriesExhausted, 4)
    );
    assert_eq!(summary.succeeded, 9, "{summary}");
    assert_eq!(control.stored(&tp(0)), Some(10));
}

#[tokio::test(start_paused = true)]
async fn batches_close_on_count_and_a_partial_one_goes_when_the_slot_frees() {
    // 25 events, batches of 10, each batch working 1 s, one at a time.
    let evs: Vec<CaseEvent> = (0..25).map(|i| event(&format!("c{i}"), i)).collect();
    let script = Script::default().otherwise(super::script::slow(ms(1000)));
    let mut run = Run::batch(script, config(), 1);
    run.send(&tp(0), &evs);
    let (t0, calls) = (run.t0, run.calls.clone());
    run.finish().await.expect("a clean run");
    let all = calls.all();
    let mut batches: Vec<(usize, Duration)> = Vec::new();
    for b in 0..3 {
        let items: Vec<_> = all.iter().filter(|c| c.batch == Some(b)).collect();
        batches.push((items.len(), items[0].started - t0));
    }
    assert_eq!(batches, [(10, ms(0)), (10, ms(1000)), (5, ms(2000))]);
}

#[tokio::test(start_paused = true)]
async fn a_key_is_never_in_two_running_batches_and_an_id_goes_once() {
    // Two slots. The first batch (case a, slow) runs; case a's later events
    // and an exact copy of one of them must wait for it, case b's go at once.
    let first = events("a", 0, 3);
    let script = Script::default()
        .on(&first[0].event_id, &[slow(ms(1000))])
        .otherwise(now(Answer::Success));
    let mut cfg = config();
    cfg.batch.max_events = 3;
    let mut run = Run::batch(script, cfg, 2);
    run.send(&tp(0), &first);
    run.at(ms(10)).await;
    let later_a = events("a", 10, 2);
    let b = events("b", 20, 2);
    let copy = later_a[0].clone();
    run.send(&tp(0), &[later_a.clone(), b.clone(), vec![copy]].concat());
    let (t0, calls) = (run.t0, run.calls.clone());
    let summary = run.finish().await.expect("a clean run");
    let all = calls.all();
    let started = |id: &str| -> Vec<Duration> {
        (all.iter())
            .filter(|c| c.event_id == id)
            .map(|c| c.started - t0)
            .collect()
    };
    for e in &b {
        assert!(
            started(&e.event_id)[0] < ms(1000),
            "case b is not held behind case a"
        );
    }
    for e in &later_a {
        let at = started(&e.event_id);
        assert!(
            at[0] >= ms(1000),
            "case a's later events wait for its running batch: {at:?}"
        );
    }
    // Without a ledger (no store here) the copy is handled again, but only
    // after the first: never in the same batch or at the same time.
    let copies: Vec<_> = (all.iter())
        .filter(|c| c.event_id == later_a[0].event_id)
        .collect();
    assert_eq!(copies.len(), 2);
    assert_ne!(
        copies[0].batch, copies[1].batch,
        "one id twice in one batch"
    );
    assert!(
        copies[1].started >= copies[0].ended.unwrap(),
        "one id in two running batches"
    );
    assert_eq!(summary.succeeded, 8, "{summary}");
}
