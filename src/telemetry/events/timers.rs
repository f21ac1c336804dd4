//! Events of durable timers' firings (`runtime/dispatch/timers.rs`).

use std::time::Duration;

use crate::telemetry::metrics::{metrics, FlavorLabels, TimerLabels};

/// A timer's firing attempt starts: its lateness (due → start), logged and
/// observed in `ceh_timer_lateness_seconds`.
pub fn timer_started(flavor: &'static str, case_key: &str, timer_id: &str, lateness: Duration) {
    let lateness_ms = u64::try_from(lateness.as_millis()).unwrap_or(u64::MAX);
    tracing::debug!(flavor, case_key, timer_id, lateness_ms, "timer firing");
    metrics()
        .timer_lateness
        .get_or_create(&FlavorLabels { flavor })
        .observe(lateness.as_secs_f64());
}

/// What came of a firing (`ceh_timer_firings_total{result}`), logged at a
/// level fitting the result; `error` for a retry or a dead timer.
pub fn timer_settled(
    flavor: &'static str,
    case_key: &str,
    timer_id: &str,
    result: &'static str,
    error: Option<&str>,
) {
    match (result, error) {
        ("dead", e) => tracing::error!(
            flavor,
            case_key,
            timer_id,
            error = e.unwrap_or(""),
            "timer dead: it will not fire"
        ),
        ("retry", e) => tracing::warn!(
            flavor,
            case_key,
            timer_id,
            error = e.unwrap_or(""),
            "timer firing failed; retrying"
        ),
        _ => tracing::debug!(flavor, case_key, timer_id, result, "timer settled"),
    }
    metrics()
        .timer_firings
        .get_or_create(&TimerLabels { flavor, result })
        .inc();
}

/// A store operation on timers failed (a poll, or recording an outcome);
/// the claims' leases make it good later.
pub fn timer_store_failed(flavor: &'static str, what: &'static str, error: &str) {
    tracing::warn!(flavor, what, error, "timer store operation failed");
}
