//! The route machinery: one request from the body limit to the answer, in
//! the order the module doc gives; [`status_of`] is the one map from what
//! became of a delivery to its status and `result` label.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::claims::{self, Claim, DEFAULT_LEASE, MIN_RETENTION};
use super::{
    Delivery, InboundError, InboundRoute, Received, Receiver, Refusal, RouteSpec, Verifier,
};
use crate::flavors::kit::{EventPublisher, FlavorCounter};
use crate::store::{now_ms, Store};

/// Seconds a sender is asked to wait before its next copy (`Retry-After`).
pub const RETRY_AFTER_S: u64 = 10;

/// The longest delivery id kept as sent; a longer one is kept as its SHA-256.
const MAX_ID_LEN: usize = 200;

/// A route's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest body accepted (413 above).
    pub body_bytes: usize,
    /// How long a handled delivery answers `duplicate` (at least
    /// [`MIN_RETENTION`]; less is raised to it).
    pub retention: Duration,
    /// How long a claim is its request's before a copy may take it over.
    pub lease: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 256 * 1024,
            retention: MIN_RETENTION,
            lease: DEFAULT_LEASE,
        }
    }
}

/// What a route is built from.
pub struct Parts<R: Receiver> {
    /// Who may send.
    pub verifier: Box<dyn Verifier>,
    /// What deliveries become.
    pub receiver: R,
    /// Where their events go (acked before any 2xx).
    pub publisher: EventPublisher,
    /// Body limit, retention, lease.
    pub limits: Limits,
}

/// What became of one request.
#[derive(Debug)]
pub enum Outcome {
    /// Published and acknowledged: this many events.
    Produced(usize),
    /// Nothing to do, and why.
    Ignored(String),
    /// Handled before.
    Duplicate,
    /// Another request holds a live claim.
    InFlight,
    /// The body was over the limit.
    TooLarge(String),
    /// The verifier refused it.
    Refused(Refusal),
    /// Failed after the claim (which was released).
    Failed(InboundError),
}

/// The status and `result` label of an outcome: the one place they are
/// decided. No transient failure of ours is a 4xx.
pub fn status_of(outcome: &Outcome) -> (StatusCode, &'static str) {
    match outcome {
        Outcome::Produced(_) => (StatusCode::OK, "produced"),
        Outcome::Ignored(_) => (StatusCode::OK, "ignored"),
        Outcome::Duplicate => (StatusCode::OK, "duplicate"),
        Outcome::InFlight => (StatusCode::SERVICE_UNAVAILABLE, "in_flight"),
        Outcome::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        Outcome::Refused(r) => (StatusCode::UNAUTHORIZED, r.result()),
        Outcome::Failed(InboundError::Malformed(_)) => (StatusCode::BAD_REQUEST, "malformed"),
        Outcome::Failed(InboundError::Unauthorized(_)) => {
            (StatusCode::UNAUTHORIZED, "unauthorized")
        }
        Outcome::Failed(InboundError::Unavailable(_)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}

struct Route<R: Receiver> {
    flavor: &'static str,
    spec: &'static RouteSpec,
    store: Store,
    parts: Parts<R>,
    counter: FlavorCounter,
}

/// The route of `spec` (the caller checked the declaration).
pub(crate) fn build_route<R: Receiver>(
    flavor: &'static str,
    spec: &'static RouteSpec,
    store: Store,
    parts: Parts<R>,
    counter: FlavorCounter,
) -> InboundRoute {
    let body_limit = parts.limits.body_bytes;
    let route = Arc::new(Route {
        flavor,
        spec,
        store,
        parts,
        counter,
    });
    let router = Router::new()
        .route(spec.path, post(answer::<R>))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(route);
    InboundRoute { spec, router }
}

async fn answer<R: Receiver>(
    State(route): State<Arc<Route<R>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let outcome = match body {
        Ok(body) => route.handle(&headers, &body).await,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Outcome::TooLarge(rejection.body_text())
        }
        // The body could not be read (a cut connection): the sender may
        // try again, so no 4xx.
        Err(rejection) => Outcome::Failed(InboundError::Unavailable(rejection.body_text())),
    };
    let (status, result) = status_of(&outcome);
    route.counter.inc(&[route.spec.path, result]);
    if status.is_server_error() {
        tracing::warn!(flavor = route.flavor, route = route.spec.path, result, outcome = ?outcome, "inbound delivery not taken; the sender will deliver again");
    }
    let body = match &outcome {
        Outcome::Produced(n) => json!({ "status": "produced", "events": n }),
        Outcome::Ignored(reason) => json!({ "status": "ignored", "reason": reason }),
        Outcome::Duplicate => json!({ "status": "duplicate" }),
        Outcome::InFlight => json!({ "status": "in_flight" }),
        Outcome::TooLarge(why) => json!({ "error": why }),
        Outcome::Refused(r) => json!({ "error": r.to_string() }),
        Outcome::Failed(e) => json!({ "error": e.to_string() }),
    };
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
    }
    response
}

impl<R: Receiver> Route<R> {
    async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Outcome {
        let now = now_ms();
        let verified = match self
            .parts
            .verifier
            .verify(headers, body, now.div_euclid(1000))
        {
            Ok(v) => v,
            Err(refusal) => return Outcome::Refused(refusal),
        };
        let id = (verified.delivery_id.clone())
            .or_else(|| self.parts.receiver.delivery_id(headers, body))
            .filter(|id| !id.is_empty())
            .map(|id| match id.len() <= MAX_ID_LEN {
                true => id,
                false => hex::encode(Sha256::digest(id.as_bytes())),
            })
            .unwrap_or_else(|| hex::encode(Sha256::digest(body)));
        let pool = self.store.pool();
        let lease = self.parts.limits.lease;
        match claims::claim(pool, self.flavor, &id, now, lease).await {
            Ok(Claim::Mine) => {}
            Ok(Claim::Taken { done: true }) => return Outcome::Duplicate,
            Ok(Claim::Taken { done: false }) => return Outcome::InFlight,
            Err(err) => return Outcome::Failed(err.into()),
        }
        let delivery = Delivery {
            id: &id,
            headers,
            body,
            signers: &verified.signers,
            timestamp: verified.timestamp,
        };
        let handled = self.claimed(&delivery).await;
        if handled.is_err() {
            if let Err(err) = claims::release(pool, self.flavor, &id).await {
                tracing::warn!(route = self.spec.path, error = %err, "releasing a failed delivery's claim; the next copy waits for the lease");
            }
        }
        match handled {
            Ok(outcome) => outcome,
            Err(err) => Outcome::Failed(err),
        }
    }

    /// The claimed part: receive, publish, record, finish.
    async fn claimed(&self, d: &Delivery<'_>) -> Result<Outcome, InboundError> {
        let retention = self.parts.limits.retention;
        let pool = self.store.pool();
        match self.parts.receiver.receive(d).await? {
            Received::Ignored(reason) => {
                claims::finish(pool, self.flavor, d.id, now_ms(), retention).await?;
                Ok(Outcome::Ignored(reason))
            }
            Received::Publish { events, then } => {
                let n = events.len();
                self.parts.publisher.publish(None, events).await?;
                self.parts.receiver.published(d, then).await?;
                // The events are acknowledged: answer 2xx even if the mark
                // fails (a copy after the lease would publish them again).
                if let Err(err) = claims::finish(pool, self.flavor, d.id, now_ms(), retention).await
                {
                    tracing::warn!(route = self.spec.path, error = %err, "marking a produced delivery done failed");
                }
                Ok(Outcome::Produced(n))
            }
        }
    }
}
