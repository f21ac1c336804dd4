//! Events of outbound dependencies: HTTP calls, circuit breakers, maintenance
//! windows.

use std::time::Duration;

use crate::telemetry::metrics::{metrics, DependencyLabels, FlavorLabels, HttpLabels};

/// An outbound HTTP request finished.
pub struct OutboundHttp {
    /// The dependency.
    pub dependency: &'static str,
    /// The response status; `None` when no response came (transport error).
    pub status: Option<u16>,
    /// How long it took.
    pub elapsed: Duration,
}

impl OutboundHttp {
    /// The event.
    pub fn new(dependency: &'static str, status: Option<u16>, elapsed: Duration) -> Self {
        Self {
            dependency,
            status,
            elapsed,
        }
    }

    /// Logs, counts and times the request.
    pub fn emit(self) {
        let status = self
            .status
            .map_or_else(|| "error".to_string(), |s| s.to_string());
        tracing::debug!(
            dependency = self.dependency,
            status,
            elapsed_ms = self.elapsed.as_millis() as u64,
            "outbound http"
        );
        let m = metrics();
        let labels = HttpLabels {
            dependency: self.dependency,
            status,
        };
        m.http_requests.get_or_create(&labels).inc();
        let labels = DependencyLabels {
            dependency: self.dependency.to_string(),
        };
        m.http_seconds
            .get_or_create(&labels)
            .observe(self.elapsed.as_secs_f64());
    }
}

/// A circuit breaker reported its state.
pub struct BreakerChanged<'a> {
    /// The dependency it guards.
    pub dependency: &'a str,
    /// The new state's name.
    pub state: &'static str,
    /// Its gauge value (0 closed, 1 half-open, 2 open).
    pub gauge: i64,
    /// The state before, if it was known.
    pub previous: Option<&'static str>,
}

impl BreakerChanged<'_> {
    /// Logs a change and sets the gauge.
    pub fn emit(self) {
        if self.previous != Some(self.state) {
            let previous = self.previous.unwrap_or("unknown");
            tracing::info!(
                dependency = self.dependency,
                state = self.state,
                previous,
                "circuit breaker state"
            );
        }
        let labels = DependencyLabels {
            dependency: self.dependency.to_string(),
        };
        metrics().breaker.get_or_create(&labels).set(self.gauge);
    }
}

/// A flavor's maintenance window opened or closed.
pub struct MaintenanceWindow {
    /// The flavor.
    pub flavor: &'static str,
    /// Whether the window holds effects now.
    pub active: bool,
}

impl MaintenanceWindow {
    /// Logs and sets the gauge.
    pub fn emit(self) {
        tracing::info!(
            flavor = self.flavor,
            active = self.active,
            "maintenance window"
        );
        let labels = FlavorLabels {
            flavor: self.flavor,
        };
        metrics()
            .maintenance
            .get_or_create(&labels)
            .set(i64::from(self.active));
    }
}
