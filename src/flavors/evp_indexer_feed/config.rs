//! `flavors.evp-indexer-feed`: where the events intake is and what every
//! event carries.

use std::time::Duration;

use serde::Deserialize;

use crate::flavors::kit::{datadog, Endpoint, FlavorConfig};
use crate::settings::{Problem, Problems, SecretString, Settings};

/// Most tags the intake takes on one event.
pub const MAX_TAGS: usize = 100;

/// The flavor's own settings (everything under `flavors.evp-indexer-feed` but `runtime`).
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "Section")]
pub struct FeedConfig {
    /// The event-management intake: `url` (site specific), `api_key` (sent
    /// as `DD-API-KEY`, required) and `timeout_ms` (one intake call).
    pub endpoint: Endpoint,
    /// `key:value` tags added to every event (e.g. `env:prod`).
    pub tags: Vec<String>,
}

/// The section as written: the endpoint's keys flat beside the tags.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Section {
    url: String,
    api_key: SecretString,
    timeout_ms: u64,
    tags: Vec<String>,
}

impl Default for Section {
    fn default() -> Self {
        Self {
            url: "https://event-management-intake.datadoghq.com/api/v2/events".into(),
            api_key: SecretString::default(),
            timeout_ms: 5_000,
            tags: Vec::new(),
        }
    }
}

impl From<Section> for FeedConfig {
    fn from(s: Section) -> Self {
        Self {
            endpoint: datadog::intake(s.url, s.api_key, s.timeout_ms),
            tags: s.tags,
        }
    }
}

impl Default for FeedConfig {
    fn default() -> Self {
        Section::default().into()
    }
}

impl FeedConfig {
    /// The endpoint's `timeout_ms` as a duration.
    pub fn timeout(&self) -> Duration {
        self.endpoint.timeout()
    }
}

impl FlavorConfig for FeedConfig {
    fn problems(&self, settings: &Settings, flavor: &'static str) -> Vec<Problem> {
        let handler_timeout = settings.runtime_for(flavor).handler_timeout();
        let tags_ok = self.tags.len() <= MAX_TAGS / 2
            && (self.tags.iter()).all(|t| t.contains(':') && (1..=200).contains(&t.len()));
        let why = "at most 50 `key:value` tags of at most 200 characters";
        let mut p = Problems::new();
        datadog::check_intake(&self.endpoint, &mut p, handler_timeout)
            .expect(tags_ok, "tags", why)
            .done()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(config: &FeedConfig) -> Vec<String> {
        let settings = Settings::default();
        let found = config.problems(&settings, "evp-indexer-feed");
        found.into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn defaults_need_only_a_key_and_every_problem_is_named() {
        assert_eq!(problems(&FeedConfig::default()), ["api_key"]);
        let mut ok = FeedConfig::default();
        ok.endpoint.secret = "k".into();
        assert!(problems(&ok).is_empty());
        let bad = FeedConfig {
            endpoint: Endpoint {
                url: "ftp://x".into(),
                timeout_ms: 0,
                ..ok.endpoint.clone()
            },
            tags: vec!["no-colon".into()],
        };
        assert_eq!(problems(&bad), ["url", "timeout_ms", "tags"]);
    }
}
