//! Per-key lanes and the running limit.

use super::script::{slow, Script};
use super::*;
use crate::runtime::policy::Ordering;

#[tokio::test(start_paused = true)]
async fn one_keys_events_run_in_order_one_at_a_time() {
    let evs = events("a", 1, 5);
    let script = Script::default().otherwise(slow(ms(100)));
    let mut run = Run::single(script, config());
    run.send(&tp(0), &evs);
    let (t0, calls) = (run.t0, run.calls.clone());
    run.finish().await.expect("a clean run");
    let all = calls.all();
    let ids: Vec<&str> = all.iter().map(|c| c.event_id.as_str()).collect();
    let sent: Vec<&str> = evs.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, sent, "in offset order");
    let starts: Vec<Duration> = all.iter().map(|c| c.started - t0).collect();
    assert_eq!(
        starts,
        [ms(0), ms(100), ms(200), ms(300), ms(400)],
        "each starts when the one before it ended"
    );
}

#[tokio::test(start_paused = true)]
async fn different_keys_run_concurrently_up_to_max_in_flight() {
    let mut cfg = config();
    cfg.max_in_flight = 4;
    let evs: Vec<CaseEvent> = (0..10).map(|i| event(&format!("c{i}"), i)).collect();
    let script = Script::default().otherwise(slow(ms(1000)));
    let mut run = Run::single(script, cfg);
    run.send(&tp(0), &evs);
    run.at(ms(500)).await;
    assert_eq!(
        run.calls.running_at(run.t0 + ms(500)),
        4,
        "four keys at once"
    );
    let (t0, calls) = (run.t0, run.calls.clone());
    run.finish().await.expect("a clean run");
    let mut starts: Vec<Duration> = calls.all().iter().map(|c| c.started - t0).collect();
    starts.sort();
    let expected: Vec<Duration> = [0, 0, 0, 0, 1000, 1000, 1000, 1000, 2000, 2000]
        .into_iter()
        .map(ms)
        .collect();
    assert_eq!(starts, expected, "slots refill as calls end, never past 4");
}

#[tokio::test(start_paused = true)]
async fn keys_interleave_but_each_stays_in_order() {
    // Two keys, interleaved in the partition; one slow, one fast.
    let mut evs = Vec::new();
    for i in 0..4 {
        evs.push(event("slow", 2 * i));
        evs.push(event("fast", 2 * i + 1));
    }
    let script = evs
        .iter()
        .filter(|e| e.case_id == "slow")
        .fold(Script::default(), |s, e| {
            s.on(&e.event_id, &[slow(ms(300))])
        })
        .otherwise(slow(ms(10)));
    let mut run = Run::single(script, config());
    run.send(&tp(0), &evs);
    let (t0, calls) = (run.t0, run.calls.clone());
    run.finish().await.expect("a clean run");
    let all = calls.all();
    for case in ["slow", "fast"] {
        let mine: Vec<_> = all.iter().filter(|c| c.case_id == case).collect();
        let order: Vec<&str> = mine.iter().map(|c| c.event_id.as_str()).collect();
        let sent: Vec<&str> = evs
            .iter()
            .filter(|e| e.case_id == case)
            .map(|e| e.event_id.as_str())
            .collect();
        assert_eq!(order, sent, "{case} in order");
        for pair in mine.windows(2) {
            assert!(pair[0].ended.unwrap() <= pair[1].started, "{case} overlaps");
        }
    }
    let fast_done = all
        .iter()
        .filter(|c| c.case_id == "fast")
        .map(|c| c.ended.unwrap());
    assert_eq!(
        fast_done.max().map(|t| t - t0),
        Some(ms(40)),
        "the fast key does not wait behind the slow one"
    );
}

#[tokio::test(start_paused = true)]
async fn partition_ordering_runs_one_event_of_a_partition_at_a_time() {
    let mut cfg = config();
    cfg.ordering = Ordering::Partition;
    let evs: Vec<CaseEvent> = (0..3).map(|i| event(&format!("c{i}"), i)).collect();
    let script = Script::default().otherwise(slow(ms(100)));
    let mut run = Run::single(script, cfg);
    run.send(&tp(0), &evs);
    run.send(&tp(1), &[event("c9", 9)]);
    let (t0, calls) = (run.t0, run.calls.clone());
    run.finish().await.expect("a clean run");
    let mut starts: Vec<Duration> = calls.all().iter().map(|c| c.started - t0).collect();
    starts.sort();
    // tp 0's three keys one after another; tp 1's event beside the first.
    assert_eq!(starts, [ms(0), ms(0), ms(100), ms(200)]);
}
