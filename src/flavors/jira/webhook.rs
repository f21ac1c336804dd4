//! Inbound: `POST /webhooks/jira`, the Jira admin webhook.
//!
//! A delivery must carry `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret,
//! raw body)>` (401 otherwise). Deliveries are deduplicated on
//! `X-Atlassian-Webhook-Identifier`. Changes made by the integration's own
//! account, and changes whose value equals the last one we synced (§7), are
//! ignored. Every other changelog item of a two-way field becomes one
//! `external_ticket.changed` event with origin channel JIRA, so the outbound
//! side never sends it back. The answer is 2xx only after the broker
//! acknowledged every event; anything else makes Jira deliver again.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::links::{self, Link};
use super::plan::digest;
use super::sync::Project;
use crate::event::pb::{
    Actor, ActorKind, ExternalSystem, ExternalTicketChanged, Origin, OriginChannel,
};
use crate::event::{CaseEvent, EventType, Payload, SCHEMA_VERSION};
use crate::flavors::kit::EventPublisher;
use crate::store::{now_ms, Store};

/// The route's path.
pub const PATH: &str = "/webhooks/jira";

/// What the route needs.
pub struct Inbound {
    pub projects: Arc<HashMap<String, Arc<Project>>>,
    pub store: Store,
    pub publisher: EventPublisher,
}

/// The webhook route, with its body limit (larger bodies get 413).
pub fn router(inbound: Arc<Inbound>, body_limit: usize) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(inbound)
}

/// `sha256=<hex>` of a body, as Jira signs it.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
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

#[derive(Deserialize)]
struct Delivery {
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    user: Option<User>,
    #[serde(default)]
    issue: Option<Issue>,
    #[serde(default)]
    changelog: Option<Changelog>,
}

#[derive(Deserialize, Default, Clone)]
struct User {
    #[serde(rename = "accountId", default)]
    account_id: String,
    #[serde(rename = "displayName", default)]
    display_name: String,
}

#[derive(Deserialize)]
struct Issue {
    id: String,
    #[serde(default)]
    fields: Value,
}

#[derive(Deserialize)]
struct Changelog {
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    field: String,
    #[serde(rename = "fieldId", default)]
    field_id: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(rename = "fromString", default)]
    from_string: Option<String>,
    #[serde(rename = "toString", default)]
    to_string: Option<String>,
}

async fn receive(State(inbound): State<Arc<Inbound>>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(&inbound, &headers, &body).await {
        Ok(reply) => (StatusCode::OK, Json(reply)).into_response(),
        Err(err) => err.into_response(),
    }
}

fn ignored(reason: &str) -> Value {
    json!({ "status": "ignored", "reason": reason })
}

async fn handle(s: &Inbound, headers: &HeaderMap, body: &[u8]) -> Result<Value, WebhookError> {
    let signature = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    let verified: Vec<&str> = (s.projects.iter())
        .filter(|(_, p)| verify(p.cfg.webhook_secret.expose().as_bytes(), body, signature))
        .map(|(id, _)| id.as_str())
        .collect();
    if verified.is_empty() {
        return Err(WebhookError::BadSignature);
    }
    let delivery: Delivery =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let delivery_id = headers
        .get("x-atlassian-webhook-identifier")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| hex::encode(Sha256::digest(body)), str::to_string);
    let Some(issue) = delivery.issue.as_ref() else {
        return Ok(ignored("no issue in the delivery"));
    };
    let pool = s.store.pool();
    // One atomic claim: of concurrent copies, exactly one goes on.
    if links::claim_delivery(pool, &delivery_id, &issue.id).await? == links::Claim::Taken {
        return Ok(json!({ "status": "duplicate" }));
    }
    let handled = apply(s, &verified, &delivery, issue, &delivery_id).await;
    match &handled {
        Ok(_) => links::finish_delivery(pool, &delivery_id).await?,
        // Jira delivers again: that copy must be able to claim it.
        Err(_) => links::release_delivery(pool, &delivery_id).await?,
    }
    handled
}

/// Handles a claimed delivery: its changes of two-way fields become events.
async fn apply(
    s: &Inbound,
    verified: &[&str],
    delivery: &Delivery,
    issue: &Issue,
    delivery_id: &str,
) -> Result<Value, WebhookError> {
    let pool = s.store.pool();
    let Some(link) = links::by_issue(pool, &issue.id).await? else {
        return Ok(ignored("issue is not linked to a case"));
    };
    let Some(project) = s.projects.get(&link.project_id) else {
        return Ok(ignored("the case's project is not synced"));
    };
    if !verified.contains(&link.project_id.as_str()) {
        return Err(WebhookError::BadSignature);
    }
    let user = delivery.user.as_ref();
    if link.stale || user.is_some_and(|u| u.account_id == project.cfg.account_id) {
        return Ok(ignored(
            "stale link, or a change made by the integration's account",
        ));
    }
    let hashes = links::hashes(pool, &link.case_id).await?;
    let items = delivery
        .changelog
        .as_ref()
        .map_or(&[][..], |c| &c.items[..]);
    let mut changes = Vec::new();
    for item in items {
        let field = item
            .field_id
            .clone()
            .unwrap_or_else(|| item.field.to_lowercase());
        if !project.cfg.mode_of_jira_field(&field).inbound() {
            continue;
        }
        let comparable = comparable(&field, item, issue, &project.cfg.due_date_field);
        let hash = digest(&field, &comparable);
        if hashes.get(&field) == Some(&hash) {
            continue; // the value we wrote last: an echo of our own change
        }
        changes.push((field, hash, item));
    }
    if changes.is_empty() {
        return Ok(ignored("no change to a two-way field"));
    }
    let at_ms = delivery.timestamp.unwrap_or_else(now_ms);
    let events: Vec<CaseEvent> = changes
        .iter()
        .map(|(field, _, item)| changed_event(&link, issue, delivery_id, field, item, at_ms, user))
        .collect();
    produce(s, &events).await?;
    for (field, hash, _) in &changes {
        links::set_hash(pool, &link.case_id, field, hash).await?;
    }
    Ok(json!({ "status": "produced", "events": events.len() }))
}

/// The form of a changelog value that `plan::digest` saw when we wrote it.
fn comparable(field: &str, item: &Item, issue: &Issue, due_date_field: &str) -> String {
    let category = issue.fields.pointer("/status/statusCategory/key");
    match field {
        "assignee" => item.to.clone().unwrap_or_default(),
        f if f == due_date_field => item.to.clone().unwrap_or_default(),
        "status" => category
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| item.to_string.clone())
            .unwrap_or_default(),
        _ => item.to_string.clone().unwrap_or_default(),
    }
}

fn changed_event(
    link: &Link,
    issue: &Issue,
    delivery_id: &str,
    field: &str,
    item: &Item,
    at_ms: i64,
    user: Option<&User>,
) -> CaseEvent {
    // Deterministic ids: a re-delivery after a partial failure produces the
    // same events, which consumers deduplicate.
    let seed = Sha256::new()
        .chain_update(delivery_id)
        .chain_update([0])
        .chain_update(field)
        .finalize();
    let mut random = [0u8; 10];
    random.copy_from_slice(&seed[..10]);
    let event_id = uuid::Builder::from_unix_timestamp_millis(at_ms.max(0) as u64, &random)
        .into_uuid()
        .to_string();
    let stamp = |ms: i64| crate::event::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    };
    let user = user.cloned().unwrap_or_default();
    CaseEvent {
        event_id: event_id.clone(),
        event_type: EventType::ExternalTicketChanged.as_str().into(),
        schema_version: SCHEMA_VERSION,
        org_id: link.org_id.clone(),
        project_id: link.project_id.clone(),
        case_id: link.case_id.clone(),
        case_key: link.case_key.clone(),
        occurred_at: Some(stamp(at_ms)),
        published_at: Some(stamp(now_ms())),
        actor: Some(Actor {
            kind: ActorKind::Integration as i32,
            id: "jira".into(),
            display_name: if user.display_name.is_empty() {
                user.account_id
            } else {
                user.display_name
            },
        }),
        origin: Some(Origin {
            channel: OriginChannel::Jira as i32,
            external_ref: Some(delivery_id.into()),
        }),
        correlation_id: event_id,
        payload: Some(Payload::ExternalTicketChanged(ExternalTicketChanged {
            system: ExternalSystem::Jira as i32,
            ext_id: issue.id.clone(),
            field: field.into(),
            old: item.from_string.clone().unwrap_or_default(),
            new: item.to_string.clone().unwrap_or_default(),
            ext_event_id: delivery_id.into(),
        })),
        ..CaseEvent::default()
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
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_right_secret_and_body() {
        let body = br#"{"webhookEvent":"jira:issue_updated"}"#;
        let sig = sign(b"s3cret", body);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(verify(b"s3cret", body, Some(&sig)));
        assert!(!verify(b"other", body, Some(&sig)));
        assert!(!verify(b"s3cret", b"{}", Some(&sig)));
        assert!(!verify(b"s3cret", body, None));
        assert!(!verify(
            b"s3cret",
            body,
            Some(sig.trim_start_matches("sha256="))
        ));
        assert!(!verify(b"s3cret", body, Some("sha256=zz")));
        let mut tampered = sig.clone();
        tampered.replace_range(10..11, if &sig[10..11] == "0" { "1" } else { "0" });
        assert!(!verify(b"s3cret", body, Some(&tampered)));
    }

    #[test]
    fn status_compares_by_category_and_assignee_by_account() {
        let issue: Issue = serde_json::from_value(json!({
            "id": "1", "key": "OPS-1",
            "fields": {"status": {"name": "Done", "statusCategory": {"key": "done"}}}
        }))
        .unwrap();
        let item: Item = serde_json::from_value(json!({
            "field": "status", "fieldId": "status", "to": "10002", "toString": "Done"
        }))
        .unwrap();
        assert_eq!(comparable("status", &item, &issue, "duedate"), "done");
        let item: Item = serde_json::from_value(json!({
            "field": "assignee", "to": "acc-1", "toString": "Ann"
        }))
        .unwrap();
        assert_eq!(comparable("assignee", &item, &issue, "duedate"), "acc-1");
    }
}
