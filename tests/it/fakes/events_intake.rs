//! A fake Datadog event-management intake (`POST /api/v2/events`, Events
//! v2), on the fake-server harness.
//!
//! As strict as the real one, never kinder: `DD-API-KEY` (401 without, 403
//! wrong), `Content-Type: application/json`, every body validated against the
//! `CreateEvent` request schema of the Datadog v2 spec in the repository
//! (400 with the violations in the JSON:API error envelope otherwise), 202
//! with the spec's `EventCreateResponsePayload`. An event whose `timestamp`
//! is more than 18 h old is answered 202 and dropped, as the intake does.
//! Injected 429s carry Datadog's rate-limit headers (`X-RateLimit-Reset` in
//! seconds, no `Retry-After`); other faults come from the harness. Tests can
//! name poison events (by `custom.event_id`) that the intake refuses with 400.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::server::{Exchange, FakeServer, Fault, Incoming, Vendor};
use crate::contract::{self, DATADOG_SPEC};

/// The intake's path.
pub const PATH: &str = "/api/v2/events";

#[derive(Default)]
struct Intake {
    api_key: String,
    poison: Mutex<HashSet<String>>,
    /// Accepted events' `data.attributes`, in arrival order.
    accepted: Mutex<Vec<Value>>,
    dropped_stale: Mutex<usize>,
}

impl Vendor for Intake {
    fn answer(&self, req: &Incoming) -> Response {
        match self.take(req) {
            Ok(uid) => {
                let body = json!({
                    "data": {"type": "event", "attributes": {"attributes": {"evt": {"uid": uid}}}},
                    "links": {"self": format!("https://app.datadoghq.com/event/event?uid={uid}")},
                });
                (StatusCode::ACCEPTED, Json(body)).into_response()
            }
            Err((status, detail)) => error(status, &detail),
        }
    }

    fn refuse(&self, status: StatusCode, retry_after: Option<u64>) -> Response {
        let mut resp = error(status, "injected");
        if let Some(secs) = retry_after {
            let headers = resp.headers_mut();
            headers.insert("x-ratelimit-limit", 1000.into());
            headers.insert("x-ratelimit-period", 60.into());
            headers.insert("x-ratelimit-remaining", 0.into());
            headers.insert("x-ratelimit-reset", secs.into());
            headers.insert("x-ratelimit-name", "event_intake".parse().unwrap());
        }
        resp
    }
}

/// An error in the spec's envelope: JSON:API items for 4xx, strings for 429.
fn error(status: StatusCode, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or_default();
    let body = match status {
        StatusCode::TOO_MANY_REQUESTS => json!({"errors": [format!("{title}: {detail}")]}),
        _ => {
            json!({"errors": [{"status": status.as_u16().to_string(), "title": title, "detail": detail}]})
        }
    };
    (status, Json(body)).into_response()
}

type Refusal = (StatusCode, String);

impl Intake {
    fn take(&self, req: &Incoming) -> Result<String, Refusal> {
        if req.method != "POST" || req.uri.path() != PATH {
            return Err((StatusCode::NOT_FOUND, "no such endpoint".into()));
        }
        match req.header("dd-api-key") {
            "" => return Err((StatusCode::UNAUTHORIZED, "API key missing".into())),
            key if key != self.api_key => {
                return Err((StatusCode::FORBIDDEN, "API key invalid".into()))
            }
            _ => {}
        }
        let media = req.header("content-type");
        if media.split(';').next().map(str::trim) != Some("application/json") {
            let why = format!("Content-Type {media:?} is not application/json");
            return Err((StatusCode::BAD_REQUEST, why));
        }
        let bad = |detail: String| (StatusCode::BAD_REQUEST, detail);
        let body: Value =
            serde_json::from_slice(&req.body).map_err(|e| bad(format!("malformed JSON: {e}")))?;
        let spec = contract::load_spec(DATADOG_SPEC);
        contract::validate_request(spec, "POST", PATH, &body).map_err(|e| bad(e.join("; ")))?;
        let attributes = &body["data"]["attributes"];
        let id = attributes["attributes"]["custom"]["event_id"]
            .as_str()
            .unwrap_or_default();
        if self.poison.lock().unwrap().contains(id) {
            return Err(bad(format!("poison event {id}")));
        }
        if is_stale(attributes) {
            *self.dropped_stale.lock().unwrap() += 1;
        } else {
            self.accepted.lock().unwrap().push(attributes.clone());
        }
        Ok(uuid::Uuid::new_v4().to_string())
    }
}

fn is_stale(attributes: &Value) -> bool {
    let at = attributes["timestamp"].as_str();
    let at = at.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    at.is_some_and(|t| t < chrono::Utc::now() - chrono::Duration::hours(18))
}

/// A running fake; stops when dropped.
pub struct EventsIntake {
    server: FakeServer<Intake>,
}

impl EventsIntake {
    /// Starts a fake that accepts `api_key`.
    pub async fn start(api_key: &str) -> Self {
        let intake = Intake {
            api_key: api_key.into(),
            ..Intake::default()
        };
        Self {
            server: FakeServer::start(intake).await,
        }
    }

    /// The intake URL to configure.
    pub fn url(&self) -> String {
        format!("{}{PATH}", self.server.base_url())
    }

    /// The next requests get these faults, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.server.inject(faults);
    }

    /// Any event with this `custom.event_id` is refused with 400.
    pub fn poison(&self, event_id: &str) {
        (self.server.vendor().poison.lock().unwrap()).insert(event_id.into());
    }

    /// Every accepted event's `data.attributes`, in arrival order.
    pub fn accepted(&self) -> Vec<Value> {
        self.server.vendor().accepted.lock().unwrap().clone()
    }

    /// Events answered 202 but dropped for a `timestamp` over 18 h old.
    pub fn dropped_stale(&self) -> usize {
        *self.server.vendor().dropped_stale.lock().unwrap()
    }

    /// Every exchange so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.server.exchanges()
    }
}
