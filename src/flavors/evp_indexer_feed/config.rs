//! `flavors.evp-indexer-feed`: where the events intake is and what every
//! event carries.

use std::time::Duration;

use serde::Deserialize;

use crate::flavors::kit::{Checks, FlavorConfig};
use crate::settings::{Problem, SecretString, Settings};

/// Most tags the intake takes on one event.
pub const MAX_TAGS: usize = 100;

/// The flavor's own settings (everything under `flavors.evp-indexer-feed` but `runtime`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedConfig {
    /// The event-management intake endpoint, site specific.
    pub url: String,
    /// Sent as `DD-API-KEY`. Required.
    pub api_key: SecretString,
    /// Whole-request timeout of one intake call.
    pub timeout_ms: u64,
    /// `key:value` tags added to every event (e.g. `env:prod`).
    pub tags: Vec<String>,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            url: "https://event-management-intake.datadoghq.com/api/v2/events".into(),
            api_key: SecretString::default(),
            timeout_ms: 5_000,
            tags: Vec::new(),
        }
    }
}

impl FeedConfig {
    /// [`Self::timeout_ms`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl FlavorConfig for FeedConfig {
    fn problems(&self, settings: &Settings, flavor: &'static str) -> Vec<Problem> {
        let handler_timeout = settings.runtime_for(flavor).handler_timeout();
        let tags_ok = self.tags.len() <= MAX_TAGS / 2
            && (self.tags.iter()).all(|t| t.contains(':') && (1..=200).contains(&t.len()));
        let why = "at most 50 `key:value` tags of at most 200 characters";
        Checks::default()
            .required_secret("api_key", &self.api_key, "the DD-API-KEY of the intake")
            .http_url("url", &self.url)
            .request_timeout("timeout_ms", self.timeout_ms, handler_timeout)
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
        let ok = FeedConfig {
            api_key: "k".into(),
            ..FeedConfig::default()
        };
        assert!(problems(&ok).is_empty());
        let bad = FeedConfig {
            url: "ftp://x".into(),
            timeout_ms: 0,
            tags: vec!["no-colon".into()],
            ..ok
        };
        assert_eq!(problems(&bad), ["url", "timeout_ms", "tags"]);
    }
}
