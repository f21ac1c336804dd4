//! `flavors.evp-indexer`: where the logs intake is and how to reach it.

use std::time::Duration;

use serde::Deserialize;

use crate::flavors::kit::{Checks, FlavorConfig};
use crate::settings::{Problem, SecretString, Settings};

/// Most entries the intake takes in one request.
pub const MAX_ENTRIES: usize = 1_000;
/// Most uncompressed body bytes the intake takes in one request (5 MB).
pub const MAX_BODY_BYTES: usize = 5_000_000;

/// The flavor's own settings (everything under `flavors.evp-indexer` but `runtime`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvpConfig {
    /// The logs intake endpoint, site specific.
    pub url: String,
    /// Sent as `DD-API-KEY`. Required.
    pub api_key: SecretString,
    /// The `service` attribute of every document.
    pub service: String,
    /// The `ddsource` attribute of every document.
    pub ddsource: String,
    /// Whole-request timeout of one intake call.
    pub timeout_ms: u64,
    /// Most entries per request, at most [`MAX_ENTRIES`].
    pub max_entries: usize,
    /// Most uncompressed bytes per request, at most [`MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
}

impl Default for EvpConfig {
    fn default() -> Self {
        Self {
            url: "https://http-intake.logs.datadoghq.com/api/v2/logs".into(),
            api_key: SecretString::default(),
            service: "case-management".into(),
            ddsource: "case-event-handler".into(),
            timeout_ms: 10_000,
            max_entries: MAX_ENTRIES,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

impl EvpConfig {
    /// [`Self::timeout_ms`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Checks what serde cannot: a key, an http(s) URL, limits within the
    /// intake's, and a request timeout that leaves room in the handler
    /// timeout. Every problem, each under its key.
    pub fn check(&self, handler_timeout: Duration) -> Vec<Problem> {
        let entries = (1..=MAX_ENTRIES).contains(&self.max_entries);
        let bytes = (1024..=MAX_BODY_BYTES).contains(&self.max_body_bytes);
        Checks::default()
            .required_secret("api_key", &self.api_key, "the DD-API-KEY of the intake")
            .http_url("url", &self.url)
            .expect(entries, "max_entries", "must be within 1..=1000")
            .expect(bytes, "max_body_bytes", "must be within 1024..=5000000")
            .request_timeout("timeout_ms", self.timeout_ms, handler_timeout)
            .done()
    }
}

impl FlavorConfig for EvpConfig {
    fn problems(&self, settings: &Settings, flavor: &'static str) -> Vec<Problem> {
        self.check(settings.runtime_for(flavor).handler_timeout())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> EvpConfig {
        EvpConfig {
            api_key: "k".into(),
            ..EvpConfig::default()
        }
    }

    #[test]
    fn defaults_need_only_a_key() {
        let t = Duration::from_secs(30);
        let problems = EvpConfig::default().check(t);
        assert_eq!(
            problems,
            vec![Problem::new(
                "api_key",
                "is required (the DD-API-KEY of the intake)"
            )]
        );
        assert_eq!(ok().check(t), vec![]);
    }

    #[test]
    fn limits_past_the_intake_and_timeouts_past_the_handler_are_rejected() {
        let t = Duration::from_secs(30);
        let over = EvpConfig {
            max_entries: 1001,
            ..ok()
        };
        assert_eq!(paths(over.check(t)), ["max_entries"]);
        let big = EvpConfig {
            max_body_bytes: MAX_BODY_BYTES + 1,
            ..ok()
        };
        assert_eq!(paths(big.check(t)), ["max_body_bytes"]);
        let slow = EvpConfig {
            timeout_ms: 30_000,
            ..ok()
        };
        assert_eq!(paths(slow.check(t)), ["timeout_ms"]);
    }

    fn paths(problems: Vec<Problem>) -> Vec<String> {
        problems.into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_full_path() {
        let mut settings = Settings::default();
        let section = "url: ftp://x\nmax_entries: 0\nbogus: 1\nservice: [1]\n";
        let section: serde_yaml::Value = serde_yaml::from_str(section).unwrap();
        settings.flavors.insert("evp-indexer".into(), section);
        let err = crate::flavors::kit::load_config::<EvpConfig>(&settings, "evp-indexer")
            .expect_err("four problems");
        let found = paths(err);
        for path in ["flavors.evp-indexer.bogus", "flavors.evp-indexer.service"] {
            assert!(found.iter().any(|p| p == path), "{path}: {found:?}");
        }
        // Unknown keys and types first; the semantic checks need a parsed value.
        let mut settings = Settings::default();
        let section = serde_yaml::from_str("url: ftp://x\nmax_entries: 0\n").unwrap();
        settings.flavors.insert("evp-indexer".into(), section);
        let err = crate::flavors::kit::load_config::<EvpConfig>(&settings, "evp-indexer")
            .expect_err("three problems");
        assert_eq!(
            paths(err),
            [
                "flavors.evp-indexer.api_key",
                "flavors.evp-indexer.url",
                "flavors.evp-indexer.max_entries"
            ]
        );
    }
}
