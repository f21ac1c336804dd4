//! `flavors.webhook`: how the flavor reaches customer endpoints (the
//! endpoints themselves, with their secrets by name, are in the rules
//! directory, per project, under `webhooks`).

use std::time::Duration;

use serde::Deserialize;

use crate::flavors::kit::FlavorConfig;
use crate::settings::{Problem, Settings};

/// The only environment where plain http and private addresses may be
/// allowed (a developer's machine, the tests).
pub const LOCAL: &str = "local";

/// The flavor's own settings (everything under `flavors.webhook` but `runtime`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Plain `http://` endpoints (only in the `local` environment).
    pub allow_http: bool,
    /// Private, loopback and link-local addresses (only in `local`).
    pub allow_private: bool,
    /// Hosts endpoints may be on (`hooks.example.com`, or
    /// `*.example.com` for its subdomains); empty: any public host.
    pub allowed_hosts: Vec<String>,
    /// One request's time limit, connect included.
    pub timeout_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_private: false,
            allowed_hosts: Vec::new(),
            timeout_ms: 10_000,
        }
    }
}

impl WebhookConfig {
    /// [`Self::timeout_ms`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl FlavorConfig for WebhookConfig {
    fn problems(&self, settings: &Settings, flavor: &'static str) -> Vec<Problem> {
        let mut problems = Vec::new();
        let local = settings.environment == LOCAL;
        for (key, on) in [
            ("allow_http", self.allow_http),
            ("allow_private", self.allow_private),
        ] {
            if on && !local {
                problems.push(Problem::new(
                    key,
                    format!(
                        "only in the `{LOCAL}` environment (this is `{}`): endpoints must be https on public addresses",
                        settings.environment
                    ),
                ));
            }
        }
        if !(100..=60_000).contains(&self.timeout_ms) {
            problems.push(Problem::new("timeout_ms", "must be between 100 and 60000"));
        }
        let attempt = settings.runtime_for(flavor).deliveries.attempt_timeout_ms;
        if self.timeout_ms > attempt {
            problems.push(Problem::new(
                "timeout_ms",
                format!("must not exceed runtime.deliveries.attempt_timeout_ms ({attempt})"),
            ));
        }
        for (i, host) in self.allowed_hosts.iter().enumerate() {
            let bare = host.strip_prefix("*.").unwrap_or(host);
            let ok = !bare.is_empty()
                && (bare.chars()).all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
            if !ok {
                problems.push(Problem::new(
                    format!("allowed_hosts[{i}]"),
                    "must be a host name, or *.<domain> for its subdomains",
                ));
            }
        }
        problems
    }
}
