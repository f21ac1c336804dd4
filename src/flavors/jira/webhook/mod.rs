//! Inbound: `POST /webhooks/jira`, the Jira admin webhook.
//!
//! A kit route (`kit::inbound`): a delivery must carry `X-Hub-Signature:
//! sha256=<hex HMAC-SHA256(secret, raw body)>` by the secret of the project
//! the issue's case belongs to (401 otherwise), and is claimed by
//! `X-Atlassian-Webhook-Identifier` (else the body's SHA-256): of concurrent
//! or repeated copies one is handled, the others answer `duplicate` (claims
//! kept 72 h). Changes made by the integration's
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
//! means"). The kit answers 2xx only after the broker acknowledged every
//! event; anything else makes Jira deliver again. The digests of the values
//! published are recorded after the acknowledgement, so the outbound side
//! sees the change as its own value and never sends it back.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::HeaderMap;

mod changes;
pub(crate) mod payload;

use self::changes::Target;
use self::payload::Delivery;
use super::projects::Projects;
use super::state::{SyncState, CASE};
use crate::flavors::kit::fieldsync::Synced;
use crate::flavors::kit::inbound::{
    self, Encoding, HmacSha256, InboundError, Keyring, Received, Receiver,
};
use crate::flavors::kit::RouteSpec;

/// The route, as the registry row declares it.
pub static ROUTE: RouteSpec = RouteSpec {
    path: "/webhooks/jira",
    summary: "Jira admin webhook",
};

/// The route's path.
pub const PATH: &str = ROUTE.path;

/// Jira's signature: `X-Hub-Signature: sha256=<hex>` over the raw body, no
/// timestamp; one key per project (labelled with the project id).
pub fn verifier(keys: Keyring) -> HmacSha256 {
    HmacSha256 {
        keys,
        header: "x-hub-signature",
        prefix: "sha256=",
        encoding: Encoding::Hex,
        timestamp: None,
    }
}

/// `sha256=<hex>` of a body, as Jira signs it (for tests and fakes).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    verifier(Keyring::new([])).sign(secret, body, None)
}

/// What deliveries become.
pub struct JiraInbound {
    /// The synced projects, following the rules.
    pub projects: Arc<Projects>,
    /// The sync's intents (the case ↔ issue links) and field digests.
    pub st: SyncState,
}

/// What to record once the broker acknowledged (never before: a delivery
/// whose events were not acknowledged is delivered again and must find
/// everything as it was).
#[derive(Debug, Default)]
pub enum Then {
    /// Nothing.
    #[default]
    Nothing,
    /// The digests of the values a case's events carry (echo suppression).
    Digests {
        case_id: String,
        synced: Vec<Synced>,
    },
    /// The case's issue was deleted: its link goes stale.
    Stale { case_id: String },
}

#[async_trait]
impl Receiver for JiraInbound {
    type Then = Then;

    fn delivery_id(&self, headers: &HeaderMap, _body: &[u8]) -> Option<String> {
        delivery_id(headers)
    }

    async fn receive(&self, d: &inbound::Delivery<'_>) -> Result<Received<Then>, InboundError> {
        let delivery = parse(d.body)?;
        apply(self, d, &delivery).await
    }

    async fn published(&self, _d: &inbound::Delivery<'_>, then: Then) -> Result<(), InboundError> {
        match then {
            Then::Nothing => {}
            Then::Digests { case_id, synced } => self.st.fields.record(&case_id, &synced).await?,
            Then::Stale { case_id } => {
                let key = self.st.issue_key(&case_id);
                self.st.intents.mark_stale(&key).await?;
            }
        }
        Ok(())
    }
}

/// Jira's delivery id: `X-Atlassian-Webhook-Identifier` (the kit falls
/// back on the body's SHA-256).
pub fn delivery_id(headers: &HeaderMap) -> Option<String> {
    let id = headers.get("x-atlassian-webhook-identifier")?;
    id.to_str().ok().map(str::to_string)
}

fn ignored<T>(reason: &str) -> Received<T> {
    Received::Ignored(reason.into())
}

/// The events a delivery can be about.
const HANDLED: [&str; 5] = [
    "jira:issue_updated",
    "jira:issue_created",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
];

/// A verified body as a Jira webhook document.
pub fn parse(body: &[u8]) -> Result<Delivery, InboundError> {
    // JSON is UTF-8 (RFC 8259); serde_json would not check the strings of
    // fields it skips, so the whole body is checked first.
    let text = std::str::from_utf8(body)
        .map_err(|e| InboundError::Malformed(format!("the body is not UTF-8: {e}")))?;
    // A delivery is an object (serde would also fill the struct from an array).
    if !text.trim_start().starts_with('{') {
        return Err(InboundError::Malformed(
            "the body is not a JSON object".into(),
        ));
    }
    serde_json::from_str(text).map_err(|e| InboundError::Malformed(e.to_string()))
}

/// Handles a verified, claimed delivery.
async fn apply(
    s: &JiraInbound,
    d: &inbound::Delivery<'_>,
    delivery: &Delivery,
) -> Result<Received<Then>, InboundError> {
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
    let synced = s.projects.current();
    let Some(project) = synced.by_id.get(project_id) else {
        return Ok(ignored("the case's project is not synced"));
    };
    if !d.signers.iter().any(|signer| signer == project_id) {
        return Err(InboundError::Unauthorized(format!(
            "not signed by the webhook secret of project {project_id}"
        )));
    }
    if link.stale {
        return Ok(ignored(
            "stale link: the issue was deleted or the case left the project",
        ));
    }
    let target = Target {
        st: &s.st,
        delivery,
        delivery_id: d.id,
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

#[cfg(test)]
pub(crate) mod tests;
