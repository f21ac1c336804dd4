//! `flavors.evp-indexer`: where the logs intake is and how to reach it.

use std::time::Duration;

use serde::Deserialize;

use crate::settings::SecretString;

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

/// A setting that cannot work; the message names the key.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct Invalid {
    /// The key under `flavors.evp-indexer`.
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
}

impl EvpConfig {
    /// [`Self::timeout_ms`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Checks what serde cannot: a key, an http(s) URL, limits within the
    /// intake's, and a request timeout that leaves room in the handler timeout.
    pub fn check(&self, handler_timeout: Duration) -> Result<(), Invalid> {
        let bad = |key, message: &str| {
            Err(Invalid {
                key,
                message: message.into(),
            })
        };
        if self.api_key.expose().trim().is_empty() {
            return bad("api_key", "is required (the DD-API-KEY of the intake)");
        }
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            return bad("url", "must be an http(s) URL");
        }
        if !(1..=MAX_ENTRIES).contains(&self.max_entries) {
            return bad("max_entries", "must be within 1..=1000");
        }
        if !(1024..=MAX_BODY_BYTES).contains(&self.max_body_bytes) {
            return bad("max_body_bytes", "must be within 1024..=5000000");
        }
        if self.timeout_ms == 0 || self.timeout() >= handler_timeout {
            return bad(
                "timeout_ms",
                "must be above 0 and below the runtime's handler_timeout_ms",
            );
        }
        Ok(())
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
        assert_eq!(EvpConfig::default().check(t).unwrap_err().key, "api_key");
        assert_eq!(ok().check(t), Ok(()));
    }

    #[test]
    fn limits_past_the_intake_and_timeouts_past_the_handler_are_rejected() {
        let t = Duration::from_secs(30);
        let over = EvpConfig {
            max_entries: 1001,
            ..ok()
        };
        assert_eq!(over.check(t).unwrap_err().key, "max_entries");
        let big = EvpConfig {
            max_body_bytes: MAX_BODY_BYTES + 1,
            ..ok()
        };
        assert_eq!(big.check(t).unwrap_err().key, "max_body_bytes");
        let slow = EvpConfig {
            timeout_ms: 30_000,
            ..ok()
        };
        assert_eq!(slow.check(t).unwrap_err().key, "timeout_ms");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let yaml: serde_yaml::Value = serde_yaml::from_str("api_key: k\nbogus: 1\n").unwrap();
        let err = crate::flavors::parse_section::<EvpConfig>("evp-indexer", &yaml)
            .expect_err("bogus is not a key")
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }
}
