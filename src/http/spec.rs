//! One declaration per external dependency: its name (metrics, logs,
//! `breakers.<name>`, `rate_limits.<name>`, maintenance windows), what it is,
//! and its client's defaults. The flavor's registry row, its client and the
//! process-wide breaker and rate-limit registries all take the name from here.

use std::time::Duration;

use super::HttpConfig;

/// An external dependency, declared once as a `static`.
#[derive(Debug)]
pub struct DependencySpec {
    /// The name everything keys on (`jira`, `logs-intake`).
    pub name: &'static str,
    /// One line for operators.
    pub summary: &'static str,
    /// Whole-request timeout unless the flavor's config sets one.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Idle pooled connections kept per host.
    pub pool_idle_per_host: usize,
}

impl DependencySpec {
    /// A declaration with the HTTP base's defaults.
    pub const fn new(name: &'static str, summary: &'static str) -> Self {
        Self {
            name,
            summary,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            pool_idle_per_host: 16,
        }
    }

    /// The client settings, with `timeout` when the flavor's config sets one.
    pub fn http(&self, timeout: Option<Duration>) -> HttpConfig {
        HttpConfig {
            timeout: timeout.unwrap_or(self.timeout),
            connect_timeout: self.connect_timeout,
            pool_idle_per_host: self.pool_idle_per_host,
        }
    }
}
