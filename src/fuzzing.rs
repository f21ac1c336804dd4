//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz; `make fuzz`),
//! for code paths that are not public otherwise. Each runs the same
//! functions the service runs, without IO; none is used by the service.

use axum::http::HeaderMap;

use crate::flavors::jira::webhook::{self, payload};
use crate::settings::{ConfigError, Settings};

/// The settings loader over YAML texts: `environment` = `env`, then each
/// `(origin, text)` layer, merged, deserialized and validated as
/// [`crate::settings::load`] does with files.
pub fn config_load(env: &str, layers: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    crate::settings::load_texts(env, layers)
}

/// What [`jira_webhook`] found, for the fuzz target's checks.
#[derive(Debug, PartialEq, Eq)]
pub enum JiraWebhook {
    /// 401: no configured secret signed the body.
    BadSignature,
    /// 400: signed, but not a Jira webhook document.
    Malformed,
    /// Signed and parsed: the projects that signed it and the delivery id.
    Accepted {
        verified: Vec<String>,
        delivery_id: String,
    },
}

/// The Jira webhook route's checks before any IO (signature against each
/// `(project id, secret)`, body parsing, delivery id), then every value the
/// handlers read from a parsed delivery: times, comment text and editor,
/// and each changelog item's comparable value.
pub fn jira_webhook(secrets: &[(&str, &[u8])], headers: &HeaderMap, body: &[u8]) -> JiraWebhook {
    let accepted = match webhook::accept(secrets.iter().copied(), headers, body) {
        Ok(accepted) => accepted,
        Err(webhook::WebhookError::BadSignature) => return JiraWebhook::BadSignature,
        Err(_) => return JiraWebhook::Malformed,
    };
    let delivery = &accepted.delivery;
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
        verified: accepted.verified.iter().map(|id| id.to_string()).collect(),
        delivery_id: accepted.delivery_id,
    }
}
