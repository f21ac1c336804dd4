//! Delivering a flavor's delivery queue (`kit::delivery`, the runtime's
//! `deliveries` worker), for flavors that enqueue deliveries.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the delivery worker leases, paces and retries a flavor's queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliverySettings {
    /// Between polls for due rows (enqueues in this process ring at once).
    pub poll_ms: u64,
    /// Attempts in flight in one process.
    pub max_in_flight: u32,
    /// Attempts in flight per destination.
    pub per_destination: u32,
    /// Attempts per second per destination; 0: unlimited.
    pub rate_per_second: f64,
    /// The longest one attempt may take; then it counts as a timeout.
    pub attempt_timeout_ms: u64,
    /// How long a lease holds; more than `attempt_timeout_ms` + 5 s, or
    /// another worker may take a row over while it is being delivered.
    pub lease_ms: u64,
    /// The first retry's ceiling; each attempt doubles it (full jitter).
    pub backoff_base_ms: u64,
    /// The largest ceiling of one retry's delay.
    pub backoff_cap_ms: u64,
    /// How long after its event a row is retried at all; then it is dead.
    pub horizon_secs: u64,
    /// How long a destination may fail continuously before it is disabled.
    pub disable_after_secs: u64,
    /// Transient failures in a row that open a destination's breaker (0: no breaker).
    pub breaker_failures: u32,
    /// How long an open breaker holds its destination before one probe.
    pub breaker_cooldown_ms: u64,
    /// Rows waiting per destination above which the queue is over depth.
    pub max_depth: u64,
    /// What happens over depth.
    pub on_full: OnFull,
    /// Between checks of the queues' depths.
    pub depth_check_ms: u64,
}

/// What a destination's queue does over `max_depth` (an alert metric in
/// both cases: never silently).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    /// The oldest waiting rows become dead letters (reason: over depth).
    DropOldest,
    /// New rows for it are refused: its events wait (their partitions pause).
    Refuse,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            poll_ms: 200,
            max_in_flight: 64,
            per_destination: 8,
            rate_per_second: 0.0,
            attempt_timeout_ms: 15_000,
            lease_ms: 60_000,
            backoff_base_ms: 1_000,
            backoff_cap_ms: 3_600_000,
            horizon_secs: 3 * 86_400,
            disable_after_secs: 5 * 86_400,
            breaker_failures: 5,
            breaker_cooldown_ms: 30_000,
            max_depth: 100_000,
            on_full: OnFull::DropOldest,
            depth_check_ms: 10_000,
        }
    }
}

impl DeliverySettings {
    /// [`Self::attempt_timeout_ms`] as a duration.
    pub fn attempt_timeout(&self) -> Duration {
        Duration::from_millis(self.attempt_timeout_ms)
    }
}

/// Problems of a `deliveries` section, with paths under the runtime section.
pub(super) fn validate(d: &DeliverySettings, p: &mut super::Problems) {
    use super::rules::in_range;
    p.result(
        "deliveries.max_in_flight",
        in_range(d.max_in_flight, 1, 10_000),
    );
    p.result(
        "deliveries.per_destination",
        in_range(d.per_destination, 1, d.max_in_flight.max(1)),
    );
    p.check(d.poll_ms >= 10, "deliveries.poll_ms", || {
        "must be at least 10".into()
    });
    p.check(
        d.rate_per_second.is_finite() && d.rate_per_second >= 0.0,
        "deliveries.rate_per_second",
        || "must be 0 (unlimited) or a positive number".into(),
    );
    p.check(
        d.attempt_timeout_ms >= 1,
        "deliveries.attempt_timeout_ms",
        || "must be at least 1".into(),
    );
    p.check(
        d.lease_ms >= d.attempt_timeout_ms.saturating_add(5_000),
        "deliveries.lease_ms",
        || {
            format!(
                "must be at least attempt_timeout_ms + 5000 ({}): an attempt must end inside its lease",
                d.attempt_timeout_ms.saturating_add(5_000)
            )
        },
    );
    p.check(d.backoff_base_ms >= 1, "deliveries.backoff_base_ms", || {
        "must be at least 1".into()
    });
    p.check(
        d.backoff_cap_ms >= d.backoff_base_ms,
        "deliveries.backoff_cap_ms",
        || "must not be below backoff_base_ms".into(),
    );
    p.check(d.horizon_secs >= 1, "deliveries.horizon_secs", || {
        "must be at least 1".into()
    });
    p.check(d.max_depth >= 1, "deliveries.max_depth", || {
        "must be at least 1".into()
    });
    p.check(d.depth_check_ms >= 100, "deliveries.depth_check_ms", || {
        "must be at least 100".into()
    });
}
