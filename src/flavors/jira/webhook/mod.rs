//! Inbound: `POST /webhooks/jira`, the Jira admin webhook.
//!
//! A delivery must carry `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret,
//! raw body)>` (401 otherwise). A delivery is claimed atomically by
//! `X-Atlassian-Webhook-Identifier`: of concurrent or repeated copies one is
//! handled, the others answer `duplicate`. Changes made by the integration's
//! own account, and changes whose value equals the last one we synced (§7),
//! are ignored. Handled: `jira:issue_updated` (each changelog item of a
//! two-way field), `comment_created` / `comment_updated` (the comment text),
//! `jira:issue_deleted` (the link goes stale). Each becomes one
//! `external_ticket.changed` event with origin channel JIRA, so the outbound
//! side never sends it back, and the payload's `ext_version` = the issue's
//! (or comment's) `updated` time in ms: a delivery older than a change
//! already applied to the same field is ignored. The envelope's
//! `aggregate_version` stays a case version: 0 (unknown) here, as a delivery
//! has no triggering case event (ARCHITECTURE.md, "What `aggregate_version`
//! means"). The answer is 2xx only after the broker acknowledged every event;
//! anything else makes Jira deliver again.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

mod changes;
pub(crate) mod payload;

use self::changes::Target;
use self::payload::Delivery;
use super::links;
use super::sync::{Project, SyncState, CASE};
use crate::event::CaseEvent;
use crate::flavors::kit::{EventPublisher, FlavorCounter, MetricKind, MetricSpec, RouteSpec};
use crate::store::Store;

/// The route's path.
pub const PATH: &str = "/webhooks/jira";

/// The route, as the registry row declares it.
pub static ROUTE: RouteSpec = RouteSpec {
    path: "/webhooks/jira",
    summary: "Jira admin webhook",
};

/// What the route needs.
pub struct Inbound {
    pub projects: Arc<HashMap<String, Arc<Project>>>,
    pub store: Store,
    /// The sync's intents (the case ↔ issue links) and field digests.
    pub st: SyncState,
    pub publisher: EventPublisher,
    /// `ceh_jira_webhook_deliveries{result}`.
    pub deliveries: FlavorCounter,
}

/// Webhook deliveries by what became of them.
pub static DELIVERIES: MetricSpec = MetricSpec {
    name: "jira_webhook_deliveries",
    help: "Jira webhook deliveries by result: produced, ignored, duplicate, bad_signature, malformed, unavailable",
    kind: MetricKind::Counter,
    labels: &["result"],
};

/// The webhook route, with its body limit (larger bodies get 413).
pub fn router(inbound: Arc<Inbound>, body_limit: usize) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(inbound)
}

/// `sha256=<hex>` of a body, as Jira signs it.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    #[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is a valid signature of `body` (constant-time compare).
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let (Ok(sig), Ok(mut mac)) = (hex::decode(sig), Hmac::<Sha256>::new_from_slice(secret)) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// Why a delivery was refused; every variant but the first two makes Jira retry.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No signature, or one no configured secret produced.
    #[error("missing or invalid X-Hub-Signature")]
    BadSignature,
    /// The body is not a Jira webhook document.
    #[error("malformed webhook body: {0}")]
    Malformed(String),
    /// The link table failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The broker did not acknowledge.
    #[error("producing to {topic}: {reason}")]
    Produce { topic: String, reason: String },
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status = match self {
            WebhookError::BadSignature => StatusCode::UNAUTHORIZED,
            WebhookError::Malformed(_) => StatusCode::BAD_REQUEST,
            WebhookError::Db(_) | WebhookError::Produce { .. } => StatusCode::SERVICE_UNAVAILABLE,
        };
        if status.is_server_error() {
            tracing::warn!(error = %self, "jira webhook refused; jira will deliver again");
        }
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

async fn receive(State(inbound): State<Arc<Inbound>>, headers: HeaderMap, body: Bytes) -> Response {
    let answer = handle(&inbound, &headers, &body).await;
    inbound.deliveries.inc(&[result_of(&answer)]);
    match answer {
        Ok(reply) => (StatusCode::OK, Json(reply)).into_response(),
        Err(err) => err.into_response(),
    }
}

/// The `result` label of a delivery (a bounded set).
fn result_of(answer: &Result<Value, WebhookError>) -> &'static str {
    match answer {
        Ok(reply) => match reply["status"].as_str() {
            Some("produced") => "produced",
            Some("duplicate") => "duplicate",
            _ => "ignored",
        },
        Err(WebhookError::BadSignature) => "bad_signature",
        Err(WebhookError::Malformed(_)) => "malformed",
        Err(WebhookError::Db(_) | WebhookError::Produce { .. }) => "unavailable",
    }
}

fn ignored(reason: &str) -> Value {
    json!({ "status": "ignored", "reason": reason })
}

/// The events a delivery can be about.
const HANDLED: [&str; 5] = [
    "jira:issue_updated",
    "jira:issue_created",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
];

/// A delivery that passed the signature check and parsed.
pub(crate) struct Accepted<'a> {
    /// The projects whose webhook secret signed the body.
    pub verified: Vec<&'a str>,
    pub delivery: Delivery,
    /// `X-Atlassian-Webhook-Identifier`, else the body's SHA-256.
    pub delivery_id: String,
}

/// The checks before any IO: the signature against each `(project id,
/// secret)`, then the body as a Jira webhook document.
pub(crate) fn accept<'a>(
    secrets: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Accepted<'a>, WebhookError> {
    let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    let verified: Vec<&str> = (secrets.into_iter())
        .filter(|(_, secret)| verify(secret, body, signature))
        .map(|(id, _)| id)
        .collect();
    if verified.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    // JSON is UTF-8 (RFC 8259); serde_json would not check the strings of
    // fields it skips, so the whole body is checked first.
    let text = std::str::from_utf8(body)
        .map_err(|e| WebhookError::Malformed(format!("the body is not UTF-8: {e}")))?;
    // A delivery is an object (serde would also fill the struct from an array).
    if !text.trim_start().starts_with('{') {
        return Err(WebhookError::Malformed(
            "the body is not a JSON object".into(),
        ));
    }
    let delivery: Delivery =
        serde_json::from_str(text).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let delivery_id = headers
        .get("x-atlassian-webhook-identifier")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| hex::encode(Sha256::digest(body)), str::to_string);
    Ok(Accepted {
        verified,
        delivery,
        delivery_id,
    })
}

async fn handle(s: &Inbound, headers: &HeaderMap, body: &[u8]) -> Result<Value, WebhookError> {
    let secrets =
        (s.projects.iter()).map(|(id, p)| (id.as_str(), p.cfg.webhook_secret.expose().as_bytes()));
    let Accepted {
        verified,
        delivery,
        delivery_id,
    } = accept(secrets, headers, body)?;
    let Some(issue) = delivery.issue.as_ref() else {
        return Ok(ignored("no issue in the delivery"));
    };
    let pool = s.store.pool();
    // One atomic claim: of concurrent copies, exactly one goes on.
    if links::claim_delivery(pool, &delivery_id, &issue.id).await? == links::Claim::Taken {
        return Ok(json!({ "status": "duplicate" }));
    }
    let handled = apply(s, &verified, &delivery, &delivery_id).await;
    match &handled {
        Ok(_) => links::finish_delivery(pool, &delivery_id).await?,
        // Jira delivers again: that copy must be able to claim it.
        Err(_) => links::release_delivery(pool, &delivery_id).await?,
    }
    handled
}

/// Handles a claimed delivery.
async fn apply(
    s: &Inbound,
    verified: &[&str],
    delivery: &Delivery,
    delivery_id: &str,
) -> Result<Value, WebhookError> {
    let Some(issue) = delivery.issue.as_ref() else {
        return Ok(ignored("no issue in the delivery"));
    };
    if !HANDLED.contains(&delivery.webhook_event.as_str()) && !delivery.webhook_event.is_empty() {
        return Ok(ignored("not an issue or comment change"));
    }
    let Some(link) = s.st.intents.by_ext(CASE, &issue.id).await? else {
        return Ok(ignored("issue is not linked to a case"));
    };
    let project_id = link.subject.project_id.as_str();
    let Some(project) = s.projects.get(project_id) else {
        return Ok(ignored("the case's project is not synced"));
    };
    if !verified.contains(&project_id) {
        return Err(WebhookError::BadSignature);
    }
    if link.stale {
        return Ok(ignored(
            "stale link: the issue was deleted or the case left the project",
        ));
    }
    let target = Target {
        s,
        delivery,
        delivery_id,
        issue,
        link: &link,
        project,
    };
    match delivery.webhook_event.as_str() {
        "jira:issue_deleted" => target.deleted().await,
        "comment_created" | "comment_updated" => target.comment().await,
        _ => target.issue_updated().await,
    }
}

/// Publishes every event (changes from outside: no cause) and waits for
/// every acknowledgement.
async fn produce(s: &Inbound, events: &[CaseEvent]) -> Result<(), WebhookError> {
    s.publisher
        .publish(None, events.to_vec())
        .await
        .map_err(|err| WebhookError::Produce {
            topic: s.publisher.events_topic().to_string(),
            reason: err.to_string(),
        })
}

#[cfg(test)]
pub(crate) mod tests;
