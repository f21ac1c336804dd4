//! One attempt at one queued webhook: the endpoint is looked up in the
//! rules in force (so a changed URL or a rotated secret applies to rows
//! already queued), its URL checked against the endpoint policy, the body
//! signed per Standard Webhooks with every configured secret (the current
//! one and those still in rotation) at this attempt's timestamp, and
//! posted through the guarded transport (no redirects, no private
//! addresses at connect). Secrets never reach an error, a log line or a
//! stored row: errors name the endpoint and the secret's name only.

use async_trait::async_trait;

use super::plan::endpoint;
use super::transport::{check_url, WebhookTransport};
use crate::flavors::kit::delivery::{Deliverer, Delivery, DeliveryOutcome};
use crate::flavors::kit::inbound::StandardWebhooks;
use crate::rules::schema::{SecretRef, WebhookEndpoint};
use crate::rules::RulesView;

/// The webhook flavor's [`Deliverer`].
pub struct Sender {
    rules: RulesView,
    transport: WebhookTransport,
}

impl Sender {
    /// A sender to the endpoints of `rules` under `policy`.
    pub fn new(rules: RulesView, transport: WebhookTransport) -> Self {
        Self { rules, transport }
    }

    /// The decoded signing secrets of `endpoint`: the current one first.
    fn secrets(&self, endpoint: &WebhookEndpoint) -> Result<Vec<Vec<u8>>, DeliveryOutcome> {
        let Some(current) = &endpoint.secret else {
            return Err(DeliveryOutcome::Permanent {
                error: format!("endpoint {} has no signing secret", endpoint.name),
            });
        };
        std::iter::once(current)
            .chain(&endpoint.previous_secrets)
            .map(|name| self.secret(name))
            .collect()
    }

    fn secret(&self, name: &SecretRef) -> Result<Vec<u8>, DeliveryOutcome> {
        // An unreadable secret is an operator's to fix (mount it): retried
        // until the horizon, so fixing it resumes delivery.
        let value =
            (self.rules.secrets().resolve(name)).map_err(|e| DeliveryOutcome::Transient {
                error: format!("signing secret: {e}"),
                retry_after: None,
            })?;
        StandardWebhooks::decode_secret(value.expose()).map_err(|_| DeliveryOutcome::Permanent {
            error: format!("signing secret {}: not whsec_<base64>", name.0),
        })
    }
}

/// The `webhook-signature` value: one `v1,<base64>` per secret.
pub fn signature(secrets: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    (secrets.iter())
        .map(|s| StandardWebhooks::sign(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[async_trait]
impl Deliverer for Sender {
    async fn deliver(&self, delivery: &Delivery) -> DeliveryOutcome {
        let snapshot = self.rules.snapshot();
        let Some(endpoint) = endpoint(&snapshot, &delivery.destination) else {
            return DeliveryOutcome::Permanent {
                error: "the endpoint is no longer in the rules".into(),
            };
        };
        if !endpoint.enabled {
            return DeliveryOutcome::Permanent {
                error: "the endpoint is disabled in the rules".into(),
            };
        }
        let url = match check_url(self.transport.policy(), &endpoint.url) {
            Ok(url) => url,
            Err(refused) => {
                return DeliveryOutcome::Permanent {
                    error: refused.to_string(),
                }
            }
        };
        let secrets = match self.secrets(endpoint) {
            Ok(secrets) => secrets,
            Err(outcome) => return outcome,
        };
        let body = match serde_json::to_vec(&delivery.payload) {
            Ok(body) => body,
            Err(e) => {
                return DeliveryOutcome::Permanent {
                    error: format!("payload: {e}"),
                }
            }
        };
        // The event id is the receiver's idempotency key; the timestamp is
        // this attempt's, signed afresh.
        let id = delivery.event_id.as_str();
        let timestamp = chrono::Utc::now().timestamp();
        let headers = [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                signature(&secrets, id, timestamp, &body),
            ),
        ];
        self.transport.post(&url, &headers, body).await.into()
    }
}
