//! Inbound webhooks as a kit piece: a route a flavor declares in its
//! registry row ([`RouteSpec`] in `routes`) and builds with
//! [`BuildCtx::inbound`](super::BuildCtx::inbound) from a [`Verifier`], a
//! [`Receiver`] and its publisher.
//!
//! Per request, in order:
//! 1. the body limit ([`Limits::body_bytes`]): larger → 413;
//! 2. the verifier, on the raw headers and bytes (signature, shared secret,
//!    signed timestamp): unsigned, bad or stale → 401. **Nothing parses the
//!    body before this.**
//! 3. the delivery id: the verifier's (`webhook-id`, `X-Webhook-Id`), else
//!    [`Receiver::delivery_id`], else the hex SHA-256 of the body;
//! 4. an atomic claim of `(flavor, delivery id)` in `inbound_deliveries`
//!    ([`claims`]): handled already → 200 `duplicate`; another request holds
//!    a live lease → 503 + `Retry-After` (never a 4xx, never a 200 that could
//!    lose it);
//! 5. [`Receiver::receive`]: `Ignored` → finish, 200 `ignored`; `Publish` →
//!    [`EventPublisher::publish`] waits for the broker's acks →
//!    [`Receiver::published`] → finish → 200 `produced`;
//! 6. any error after the claim releases it (the sender's next copy is
//!    handled), then answers by [`status_of`].
//!
//! | outcome | status | `result` label |
//! |---|---|---|
//! | produced / ignored / duplicate | 200 | `produced`, `ignored`, `duplicate` |
//! | body over the limit | 413 | `too_large` |
//! | missing signature/secret | 401 | `unsigned` |
//! | bad signature, unreadable header | 401 | `bad_signature` |
//! | signed timestamp past the tolerance | 401 | `stale` |
//! | [`InboundError::Malformed`] | 400 | `malformed` |
//! | [`InboundError::Unauthorized`] | 401 | `unauthorized` |
//! | in flight elsewhere | 503 + `Retry-After` | `in_flight` |
//! | [`InboundError::Unavailable`], broker, database, unreadable body | 503 + `Retry-After` | `unavailable` |
//!
//! Counted in `ceh_inbound_deliveries_total{flavor,route,result}`.
//! Retention: a handled delivery stays `done` for [`Limits::retention`], at
//! least [`MIN_RETENTION`] (72 h; PagerDuty retries for 48 h), so a late
//! copy of a handled delivery answers 200 `duplicate`: a late valid delivery
//! never gets a 4xx. Rows past their `expires_at` are swept by the app's
//! hourly expiry task ([`sweep`]).

pub mod claims;
mod route;
mod schemes;
pub mod verify;

use async_trait::async_trait;
use axum::http::HeaderMap;

pub use claims::{sweep, Claim, DEFAULT_LEASE, MIN_RETENTION};
pub(crate) use route::build_route;
pub use route::{status_of, Limits, Outcome, Parts, RETRY_AFTER_S};
pub use schemes::{PagerDutyV3, SharedSecret, StandardWebhooks};
pub use verify::{
    Encoding, HmacSha256, Key, Keyring, Refusal, SignedTimestamp, Verified, Verifier,
};

use crate::event::CaseEvent;
use crate::telemetry::declared::{Kind, MetricSpec};

/// An inbound route, declared in the flavor's registry row (`routes`).
#[derive(Debug)]
pub struct RouteSpec {
    /// The path, `/webhooks/<…>` (checked by the registry tests).
    pub path: &'static str,
    /// One line for docs and errors.
    pub summary: &'static str,
}

/// A built route: its declaration and the router that serves it.
pub struct InboundRoute {
    /// The row's declaration.
    pub spec: &'static RouteSpec,
    /// Serves `POST spec.path`.
    pub router: axum::Router,
}

impl InboundRoute {
    /// One router serving every route of `routes` (None without routes).
    pub fn merge_all(routes: Vec<InboundRoute>) -> Option<axum::Router> {
        (routes.into_iter())
            .map(|r| r.router)
            .reduce(axum::Router::merge)
    }
}

impl std::fmt::Debug for InboundRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundRoute")
            .field("path", &self.spec.path)
            .finish()
    }
}

/// Every inbound delivery by flavor, route and result (kit-owned family).
pub static DELIVERIES: MetricSpec = MetricSpec {
    name: "inbound_deliveries",
    help: "Inbound webhook deliveries by route and result: produced, ignored, duplicate, in_flight, unsigned, bad_signature, stale, too_large, malformed, unauthorized, unavailable",
    kind: Kind::Counter,
    labels: &["route", "result"],
};

/// A verified, claimed delivery.
#[derive(Debug)]
pub struct Delivery<'a> {
    /// The delivery id it was claimed by.
    pub id: &'a str,
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The raw body (verified).
    pub body: &'a [u8],
    /// The labels of the keys that verified it.
    pub signers: &'a [String],
    /// The signed timestamp (Unix seconds), if the scheme has one.
    pub timestamp: Option<i64>,
}

/// What a delivery becomes.
#[derive(Debug)]
pub enum Received<T> {
    /// Nothing to do (200 `ignored` with the reason).
    Ignored(String),
    /// Events to publish (changes from outside: no cause), then `then` to
    /// record once the broker acknowledged them.
    Publish {
        /// The events.
        events: Vec<CaseEvent>,
        /// Handed to [`Receiver::published`].
        then: T,
    },
}

/// Why a claimed delivery failed; the claim is released and [`status_of`]
/// answers.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    /// The body is not what the sender sends (400: the sender drops it).
    #[error("malformed delivery: {0}")]
    Malformed(String),
    /// Verified, but not by a key allowed for what it is about (401).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Ours to retry: database, broker, a dependency (503 + `Retry-After`).
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for InboundError {
    fn from(err: sqlx::Error) -> Self {
        InboundError::Unavailable(format!("database: {err}"))
    }
}

impl From<super::PublishError> for InboundError {
    fn from(err: super::PublishError) -> Self {
        InboundError::Unavailable(err.to_string())
    }
}

/// What a flavor implements for a route.
#[async_trait]
pub trait Receiver: Send + Sync + 'static {
    /// What to record after the broker acked.
    type Then: Send;

    /// The delivery id when the verifier has none (a header or body
    /// field); `None` → the hex SHA-256 of the body. Runs after verification.
    fn delivery_id(&self, _headers: &HeaderMap, _body: &[u8]) -> Option<String> {
        None
    }

    /// What the verified, claimed delivery becomes.
    async fn receive(&self, d: &Delivery<'_>) -> Result<Received<Self::Then>, InboundError>;

    /// Records what `receive` asked for, after the broker acknowledged.
    async fn published(&self, _d: &Delivery<'_>, _then: Self::Then) -> Result<(), InboundError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod verify_tests;
