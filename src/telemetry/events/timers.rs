//! Events of durable timers' firings (`runtime/dispatch/timers.rs`). The
//! metric handles are resolved once per run ([`TimerTally::new`]), not per
//! firing.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use crate::telemetry::metrics::{metrics, FlavorLabels, TimerLabels};

/// What came of a firing: the `result` label of `ceh_timer_firings_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerResult {
    /// Fired (committed by the flavor, or marked by the runtime).
    Fired,
    /// Skipped by the flavor, or moved, cancelled or taken over since claimed.
    Skipped,
    /// Failed transiently; claimed again after the backoff.
    Retry,
    /// Failed for good, or past its retry budget: `dead` with the reason.
    Dead,
    /// Given back unstarted (revoked, stopping).
    Released,
    /// Waited in its lane until its claim could run out; claimed again.
    Expired,
}

impl TimerResult {
    const ALL: [TimerResult; 6] = [
        Self::Fired,
        Self::Skipped,
        Self::Retry,
        Self::Dead,
        Self::Released,
        Self::Expired,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fired => "fired",
            Self::Skipped => "skipped",
            Self::Retry => "retry",
            Self::Dead => "dead",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }
}

/// One run's timer metrics, resolved once.
pub struct TimerTally {
    flavor: &'static str,
    lateness: Histogram,
    results: [Counter; 6],
}

impl TimerTally {
    /// The handles of `flavor`'s series.
    pub fn new(flavor: &'static str) -> Self {
        let m = metrics();
        let lateness = m
            .timer_lateness
            .get_or_create(&FlavorLabels { flavor })
            .clone();
        let results = TimerResult::ALL.map(|r| {
            let labels = TimerLabels {
                flavor,
                result: r.as_str(),
            };
            m.timer_firings.get_or_create(&labels).clone()
        });
        Self {
            flavor,
            lateness,
            results,
        }
    }

    /// A firing attempt starts: its lateness (due → start), logged and
    /// observed in `ceh_timer_lateness_seconds`.
    pub fn started(&self, case_key: &str, timer_id: &str, lateness: Duration) {
        let lateness_ms = u64::try_from(lateness.as_millis()).unwrap_or(u64::MAX);
        let flavor = self.flavor;
        tracing::debug!(flavor, case_key, timer_id, lateness_ms, "timer firing");
        self.lateness.observe(lateness.as_secs_f64());
    }

    /// What came of a firing, counted and logged at a level fitting it;
    /// `error` for a retry or a dead timer.
    pub fn settled(
        &self,
        case_key: &str,
        timer_id: &str,
        result: TimerResult,
        error: Option<&str>,
    ) {
        let (flavor, error) = (self.flavor, error.unwrap_or(""));
        match result {
            TimerResult::Dead => tracing::error!(
                flavor,
                case_key,
                timer_id,
                error,
                "timer dead: it will not fire"
            ),
            TimerResult::Retry => tracing::warn!(
                flavor,
                case_key,
                timer_id,
                error,
                "timer firing failed; retrying"
            ),
            _ => tracing::debug!(
                flavor,
                case_key,
                timer_id,
                result = result.as_str(),
                "timer settled"
            ),
        }
        let i = TimerResult::ALL
            .iter()
            .position(|r| *r == result)
            .unwrap_or(0);
        self.results[i].inc();
    }

    /// A store operation on timers failed (a poll, or recording an
    /// outcome); the claims' leases make it good later.
    pub fn store_failed(&self, what: &'static str, error: &str) {
        let flavor = self.flavor;
        tracing::warn!(flavor, what, error, "timer store operation failed");
    }
}
