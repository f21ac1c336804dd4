//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz; `make fuzz`),
//! for code paths that are not public otherwise. Each runs the same
//! functions the service runs, without IO; none is used by the service.

use axum::http::HeaderMap;

use crate::flavors::jira::webhook::{self, payload};
use crate::flavors::kit::inbound::{Key, Keyring, Verifier};
use crate::settings::{ConfigError, Layers, Settings};

/// The settings loader over YAML texts: `environment` = `env`, then each
/// `(origin, text)` layer, merged, deserialized and validated as
/// [`crate::settings::load`] does with files.
pub fn config_load(env: &str, layers: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    crate::settings::load_texts(env, layers)
}

/// Layers merged once ([`ConfigLayers::new`]), to load many texts over.
#[derive(Clone)]
pub struct ConfigLayers(Layers);

impl ConfigLayers {
    /// `environment` = `env`, then each `(origin, text)` layer.
    pub fn new(env: &str, layers: &[(&str, &str)]) -> Result<Self, ConfigError> {
        Layers::of(env, layers).map(Self)
    }

    /// [`config_load`] of these layers and then `text`: the same result,
    /// without parsing the earlier layers again.
    pub fn load(&self, origin: &str, text: &str) -> Result<Settings, ConfigError> {
        let mut merged = self.0.clone();
        merged.add(origin, text)?;
        merged.settings()
    }
}

/// What [`jira_webhook`] found, for the fuzz target's checks.
#[derive(Debug, PartialEq, Eq)]
pub enum JiraWebhook {
    /// 401: no configured secret signed the body.
    BadSignature,
    /// 400: signed, but not a Jira webhook document.
    Malformed,
    /// Signed and parsed: the projects that signed it and Jira's delivery
    /// id (without one the kit claims the body's SHA-256).
    Accepted {
        verified: Vec<String>,
        delivery_id: Option<String>,
    },
}

/// The Jira webhook route's checks before any IO (the kit's verifier with
/// Jira's scheme against each `(project id, secret)`, Jira's delivery id,
/// body parsing), then every value the handlers read from a parsed
/// delivery: times, comment text and editor, and each changelog item's
/// comparable value.
pub fn jira_webhook(secrets: &[(&str, &[u8])], headers: &HeaderMap, body: &[u8]) -> JiraWebhook {
    let keys = Keyring::new(secrets.iter().map(|(id, secret)| Key::new(*id, *secret)));
    let Ok(verified) = webhook::verifier(keys).verify(headers, body, 0) else {
        return JiraWebhook::BadSignature;
    };
    let Ok(delivery) = webhook::parse(body) else {
        return JiraWebhook::Malformed;
    };
    let delivery = &delivery;
    let _ = delivery.user.as_ref().map(payload::User::shown);
    if let Some(comment) = &delivery.comment {
        let _ = (comment.text(), comment.updated_ms());
        let _ = comment.editor().map(payload::User::shown);
    }
    if let Some(issue) = &delivery.issue {
        let _ = issue.updated_ms();
        let items = delivery
            .changelog
            .as_ref()
            .map_or(&[][..], |c| &c.items[..]);
        for item in items {
            let field = (item.field_id.clone()).unwrap_or_else(|| item.field.to_lowercase());
            let _ = payload::comparable(&field, item, issue, "duedate");
        }
    }
    JiraWebhook::Accepted {
        verified: verified.signers,
        delivery_id: webhook::delivery_id(headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = include_str!("../config/base.yaml");

    #[test]
    fn loading_over_merged_layers_is_loading_all_layers() {
        let base = ConfigLayers::new("fuzz", &[("base.yaml", BASE)]).unwrap();
        let layer = "runtime:\n  max_in_flight: 7\nkafka:\n  client:\n    a.b: c\n";
        let whole = config_load("fuzz", &[("base.yaml", BASE), ("x.yaml", layer)]).unwrap();
        let over = base.load("x.yaml", layer).unwrap();
        assert_eq!(over.render_masked(), whole.render_masked());
        assert!(over.render_masked().contains("max_in_flight: 7"));
        let bad = "runtime:\n  max_in_flight: -1\n";
        let (whole, over) = (
            config_load("fuzz", &[("base.yaml", BASE), ("x.yaml", bad)]),
            base.load("x.yaml", bad),
        );
        assert_eq!(format!("{whole:?}"), format!("{over:?}"));
        assert!(matches!(over, Err(ConfigError::Invalid(_))), "{over:?}");
    }

    #[test]
    fn a_log_filter_tracing_would_panic_on_is_a_config_problem() {
        let crash = include_str!(
            "../fuzz/artifacts/config_load/crash-2d8e86375b5d4a5b9345a17d299d68c4d898d31e"
        );
        let loaded = config_load("fuzz", &[("base.yaml", BASE), ("crash.yaml", crash)]);
        let Err(ConfigError::Invalid(problems)) = loaded else {
            panic!("{loaded:?}");
        };
        assert!(
            problems.iter().any(|p| p.path == "telemetry.log_level"),
            "{problems:?}"
        );
    }
}
