//! The schedule with explicit times: the backoff's ceilings and jitter, the
//! `Retry-After` floor, the horizon and the auto-disable horizon.

use std::time::Duration;

use super::schedule::*;

const T0: i64 = 1_800_000_000_000;
const SEC: i64 = 1_000;
const DAY: i64 = 86_400 * SEC;

fn failed(error: &str) -> Attempt<'_> {
    Attempt::Transient {
        error,
        retry_after: None,
    }
}

fn at(now_ms: i64, attempt: u32) -> Context {
    Context {
        now_ms,
        created_at: T0,
        attempt,
        failing_since: now_ms,
    }
}

#[test]
fn ceilings_double_from_the_base_up_to_the_cap() {
    let p = DeliveryPolicy::default();
    let ceilings: Vec<i64> = (1..=14).map(|n| p.ceiling(n)).collect();
    assert_eq!(
        ceilings,
        [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600].map(|s| s * SEC)
    );
    assert_eq!(p.ceiling(0), SEC, "attempt 0 is read as the first");
    assert_eq!(p.ceiling(u32::MAX), 3_600 * SEC, "no overflow");
}

#[test]
fn full_jitter_spans_zero_to_the_ceiling() {
    let p = DeliveryPolicy::default();
    assert_eq!(p.delay(4, 0.0), 1, "at least 1 ms");
    assert_eq!(p.delay(4, 0.5), 4 * SEC);
    assert_eq!(p.delay(4, 0.999_999), 8 * SEC - 1);
    assert_eq!(p.delay(4, 7.0), 8 * SEC, "a draw out of range is clamped");
    assert_eq!(p.delay(4, f64::NAN), 1);
    // Transient failures retry at now + delay.
    let v = p.decide(failed("503"), at(T0 + 10 * SEC, 3), 0.25);
    assert_eq!(v, Verdict::RetryAt(T0 + 10 * SEC + SEC));
}

#[test]
fn the_deterministic_jitter_is_stable_spread_and_in_range() {
    let draws: Vec<f64> = (1..=200).map(|n| jitter("0190-abc", n)).collect();
    assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
    assert_eq!(
        jitter("0190-abc", 7),
        draws[6],
        "the same inputs, the same draw"
    );
    assert_ne!(jitter("0190-abd", 7), draws[6]);
    let low = draws.iter().filter(|d| **d < 0.5).count();
    assert!(
        (60..=140).contains(&low),
        "roughly uniform: {low} of 200 below 0.5"
    );
}

#[test]
fn a_retry_after_hint_is_a_floor_not_a_ceiling() {
    let p = DeliveryPolicy::default();
    let now = T0 + DAY;
    let hinted = |secs, draw| {
        let attempt = Attempt::Transient {
            error: "429",
            retry_after: Some(Duration::from_secs(secs)),
        };
        p.decide(attempt, at(now, 2), draw)
    };
    assert_eq!(hinted(120, 0.5), Verdict::RetryAt(now + 120 * SEC));
    // A backoff longer than the hint wins (attempt 2: ceiling 2 s).
    assert_eq!(hinted(0, 0.75), Verdict::RetryAt(now + 1_500));
}

#[test]
fn past_the_horizon_the_row_is_dead_with_the_reason() {
    let p = DeliveryPolicy::default();
    // Replays a row failing at every retry, jitter at its top: the retries
    // stay inside 3 days, then the row is dead.
    let (mut now, mut attempt, mut retries) = (T0, 1, 0);
    let dead = loop {
        match p.decide(failed("connect refused"), at(now, attempt), 0.999) {
            Verdict::RetryAt(next) => {
                assert!(next > now && next <= T0 + 3 * DAY, "{next}");
                (now, attempt, retries) = (next, attempt + 1, retries + 1);
            }
            other => break other,
        }
    };
    // 1+2+…+2048 s ≈ 68 min, then hourly retries up to 3 days.
    assert!((80..=84).contains(&retries), "{retries} retries");
    let Verdict::Dead(reason) = dead else {
        panic!("{dead:?}");
    };
    assert_eq!(
        reason,
        format!("gave up after {attempt} attempts over 259200 s: connect refused")
    );
    // A hint that points past the horizon ends it too.
    let far = Attempt::Transient {
        error: "429",
        retry_after: Some(Duration::from_secs(3 * 86_400)),
    };
    assert!(matches!(
        p.decide(far, at(T0 + 1, 1), 0.1),
        Verdict::Dead(_)
    ));
    // A shorter horizon, configured.
    let short = DeliveryPolicy {
        horizon: Duration::from_secs(60),
        ..p
    };
    assert_eq!(
        short.decide(failed("x"), at(T0 + 59 * SEC, 1), 0.5),
        Verdict::RetryAt(T0 + 59 * SEC + 500)
    );
    assert!(matches!(
        short.decide(failed("x"), at(T0 + 60 * SEC, 1), 0.5),
        Verdict::Dead(_)
    ));
}

#[test]
fn a_destination_failing_past_disable_after_is_disabled() {
    let p = DeliveryPolicy {
        disable_after: Duration::from_secs(3_600),
        ..DeliveryPolicy::default()
    };
    let since = T0;
    let ctx = |now_ms| Context {
        now_ms,
        created_at: now_ms - SEC,
        attempt: 1,
        failing_since: since,
    };
    assert!(matches!(
        p.decide(failed("503"), ctx(since + 3_600 * SEC - 1), 0.5),
        Verdict::RetryAt(_)
    ));
    assert_eq!(
        p.decide(failed("503"), ctx(since + 3_600 * SEC), 0.5),
        Verdict::DisableDestination("failing for 3600 s: 503".into())
    );
    // Healthy until now (failing_since unset): never disabled by time.
    let fresh = Context {
        failing_since: 0,
        ..ctx(since + 100 * DAY)
    };
    assert!(matches!(
        p.decide(failed("503"), fresh, 0.5),
        Verdict::RetryAt(_)
    ));
    // A success is delivered whatever the destination's history.
    assert_eq!(
        p.decide(Attempt::Delivered, ctx(since + 100 * DAY), 0.5),
        Verdict::Delivered
    );
}

#[test]
fn gone_disables_at_once_and_a_refusal_is_dead_at_once() {
    let p = DeliveryPolicy::default();
    assert_eq!(
        p.decide(Attempt::Gone { error: "410" }, at(T0, 1), 0.5),
        Verdict::DisableDestination("gone: 410".into())
    );
    assert_eq!(
        p.decide(Attempt::Permanent { error: "400 bad" }, at(T0, 1), 0.5),
        Verdict::Dead("refused: 400 bad".into())
    );
}
