//! The pure delivery schedule: what follows one attempt, from the attempt's
//! outcome, the row's history and the destination's, at an instant the
//! caller passes in (no IO, no clock of its own, no randomness of its own:
//! the jitter draw is an argument, [`jitter`] derives one from the delivery
//! id). So the backoff and the auto-disable horizon are tested with
//! explicit times.
//!
//! Guarantees of [`DeliveryPolicy::decide`]:
//! - a transient failure retries after exponential backoff with full jitter
//!   (`[0, min(cap, base · 2^(attempt−1))]`, at least 1 ms), never before a
//!   `Retry-After` hint (a floor, so a destination's own pacing wins);
//! - no retry is scheduled past the horizon (`created_at + horizon`, default
//!   3 days): the row is dead with the reason and the attempts made;
//! - a 410 disables the destination at once; a destination failing
//!   continuously for `disable_after` is disabled on its next failure;
//! - a permanent failure (the destination refused this payload) is dead at
//!   once; a success is delivered.

use crate::store::ms_of;
use std::time::Duration;

/// How deliveries are retried and when a destination is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// The first retry's ceiling; each attempt doubles it.
    pub base: Duration,
    /// The largest ceiling of one retry's delay.
    pub cap: Duration,
    /// How long after its `created_at` a row is retried at all.
    pub horizon: Duration,
    /// How long a destination may fail continuously before it is disabled.
    pub disable_after: Duration,
}

impl Default for DeliveryPolicy {
    /// 1 s doubling to 1 h per retry, for 3 days (Svix's horizon); a
    /// destination failing for 5 days is disabled.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(3_600),
            horizon: Duration::from_secs(3 * 86_400),
            disable_after: Duration::from_secs(5 * 86_400),
        }
    }
}

/// What one attempt came to, as the destination's client judged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// Accepted (2xx, or the destination's own "already have it").
    Delivered,
    /// Worth retrying (a timeout, 5xx, 408, 429), with the destination's
    /// `Retry-After`, if it sent one.
    Transient {
        /// What went wrong.
        error: &'a str,
        /// The destination's hint: not before this long from now.
        retry_after: Option<Duration>,
    },
    /// This payload will never be accepted (another 4xx).
    Permanent {
        /// What went wrong.
        error: &'a str,
    },
    /// The destination is gone (410): disable it.
    Gone {
        /// What it said.
        error: &'a str,
    },
}

/// Where the attempt happened: the row's history and the destination's, at
/// `now_ms` (the caller's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// When the attempt ended (ms).
    pub now_ms: i64,
    /// The row's `created_at` (ms): the horizon runs from it.
    pub created_at: i64,
    /// Which attempt this was (1 for the first).
    pub attempt: u32,
    /// Since when the destination has been failing continuously, this
    /// failure included (ms; the store's `failing_since`; 0 or less: since
    /// now).
    pub failing_since: i64,
}

/// What follows the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Done.
    Delivered,
    /// Pending again, due at this instant (ms).
    RetryAt(i64),
    /// The row's dead letter, with the reason.
    Dead(String),
    /// Disable the destination (its rows wait, or are dead-lettered, as its
    /// policy says), with the reason.
    DisableDestination(String),
}

impl DeliveryPolicy {
    /// The verdict on `attempt` in `ctx`; `draw` is the jitter in `[0, 1)`
    /// (e.g. [`jitter`] of the delivery id and attempt).
    pub fn decide(&self, attempt: Attempt<'_>, ctx: Context, draw: f64) -> Verdict {
        let (error, retry_after) = match attempt {
            Attempt::Delivered => return Verdict::Delivered,
            Attempt::Gone { error } => {
                return Verdict::DisableDestination(format!("gone: {error}"));
            }
            Attempt::Permanent { error } => {
                return Verdict::Dead(format!("refused: {error}"));
            }
            Attempt::Transient { error, retry_after } => (error, retry_after),
        };
        let failing = ctx.now_ms.saturating_sub(ctx.failing_since);
        if ctx.failing_since > 0 && failing >= ms_of(self.disable_after) {
            return Verdict::DisableDestination(format!(
                "failing for {} s: {error}",
                failing / 1_000
            ));
        }
        let mut at = ctx.now_ms.saturating_add(self.delay(ctx.attempt, draw));
        if let Some(hint) = retry_after {
            at = at.max(ctx.now_ms.saturating_add(ms_of(hint)));
        }
        let deadline = ctx.created_at.saturating_add(ms_of(self.horizon));
        if at > deadline {
            return Verdict::Dead(format!(
                "gave up after {} attempts over {} s: {error}",
                ctx.attempt,
                ms_of(self.horizon) / 1_000
            ));
        }
        Verdict::RetryAt(at)
    }

    /// The backoff after failed attempt `attempt` (1-based) with draw
    /// `draw` in `[0, 1)`: full jitter under the attempt's ceiling, at
    /// least 1 ms.
    pub fn delay(&self, attempt: u32, draw: f64) -> i64 {
        let ceiling = self.ceiling(attempt);
        let draw = if draw.is_finite() {
            draw.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Exact in f64 below 2^53 ms (285,000 years).
        ((ceiling as f64 * draw) as i64).clamp(1, ceiling.max(1))
    }

    /// The ceiling of the delay after failed attempt `attempt` (1-based):
    /// `min(cap, base · 2^(attempt−1))` in ms.
    pub fn ceiling(&self, attempt: u32) -> i64 {
        let doublings = attempt.saturating_sub(1).min(62);
        let grown = ms_of(self.base).saturating_mul(1_i64 << doublings);
        grown.min(ms_of(self.cap))
    }
}

/// A deterministic jitter draw in `[0, 1)` for `attempt` of `delivery_id`:
/// workers need no random source, and replays of a schedule agree.
pub fn jitter(delivery_id: &str, attempt: u32) -> f64 {
    // FNV-1a, 64 bits.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in delivery_id.bytes().chain(attempt.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 11) as f64 / (1_u64 << 53) as f64
}
