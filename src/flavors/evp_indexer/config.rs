//! `flavors.evp-indexer`: where the logs intake is and how to reach it.

use std::time::Duration;

use serde::Deserialize;

use crate::flavors::kit::{datadog, Endpoint, FlavorConfig};
use crate::settings::{Problem, Problems, SecretString, Settings};

/// Most entries the intake takes in one request.
pub const MAX_ENTRIES: usize = 1_000;
/// Most uncompressed body bytes the intake takes in one request (5 MB).
pub const MAX_BODY_BYTES: usize = 5_000_000;

/// The flavor's own settings (everything under `flavors.evp-indexer` but `runtime`).
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "Section")]
pub struct EvpConfig {
    /// The logs intake: `url` (site specific), `api_key` (sent as
    /// `DD-API-KEY`, required) and `timeout_ms` (one intake call).
    pub endpoint: Endpoint,
    /// The `service` attribute of every document.
    pub service: String,
    /// The `ddsource` attribute of every document.
    pub ddsource: String,
    /// Most entries per request, at most [`MAX_ENTRIES`].
    pub max_entries: usize,
    /// Most uncompressed bytes per request, at most [`MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
}

/// The section as written: the endpoint's keys flat beside the others.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Section {
    url: String,
    api_key: SecretString,
    service: String,
    ddsource: String,
    timeout_ms: u64,
    max_entries: usize,
    max_body_bytes: usize,
}

impl Default for Section {
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

impl From<Section> for EvpConfig {
    fn from(s: Section) -> Self {
        Self {
            endpoint: datadog::intake(s.url, s.api_key, s.timeout_ms),
            service: s.service,
            ddsource: s.ddsource,
            max_entries: s.max_entries,
            max_body_bytes: s.max_body_bytes,
        }
    }
}

impl Default for EvpConfig {
    fn default() -> Self {
        Section::default().into()
    }
}

impl EvpConfig {
    /// The endpoint's `timeout_ms` as a duration.
    pub fn timeout(&self) -> Duration {
        self.endpoint.timeout()
    }

    /// Checks what serde cannot: a key, an http(s) URL, limits within the
    /// intake's, and a request timeout that leaves room in the handler
    /// timeout. Every problem, each under its key.
    pub fn check(&self, handler_timeout: Duration) -> Vec<Problem> {
        let entries = (1..=MAX_ENTRIES).contains(&self.max_entries);
        let bytes = (1024..=MAX_BODY_BYTES).contains(&self.max_body_bytes);
        let mut p = Problems::new();
        datadog::check_intake(&self.endpoint, &mut p, handler_timeout)
            .expect(entries, "max_entries", "must be within 1..=1000")
            .expect(bytes, "max_body_bytes", "must be within 1024..=5000000")
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
        let mut config = EvpConfig::default();
        config.endpoint.secret = "k".into();
        config
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
        let mut slow = ok();
        slow.endpoint.timeout_ms = 30_000;
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
