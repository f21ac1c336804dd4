//! A fake Datadog logs intake (`POST /api/v2/logs`), in process on 127.0.0.1:0.
//!
//! As strict as the real one, never kinder: `DD-API-KEY` (401 without, 403
//! wrong), `Content-Type: application/json`, gzip/deflate/identity bodies,
//! at most 5 MB uncompressed and 1,000 entries (413), a JSON array of objects
//! (400 otherwise), errors in the spec's `HTTPLogErrors` envelope
//! (`{"errors":[{"status","title","detail"}]}`), 202 `{}` on success. Logs
//! with a `timestamp` older than 18 h are dropped although the request is
//! answered 202, as the intake does. Tests can inject faults (413, 429 with
//! `Retry-After`, 503, delays, lost answers) for the next requests, and name poison documents
//! (by `event_id`) that make any request holding them a 400. Built on the
//! fake-server harness ([`super::server`]), which serves injected faults.

use std::collections::HashSet;
use std::io::Read;
use std::sync::Mutex;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub use super::server::Fault;
use super::server::{FakeServer, Incoming, Vendor};

/// The intake's path.
pub const PATH: &str = "/api/v2/logs";
/// Most entries per request.
pub const MAX_ENTRIES: usize = 1_000;
/// Most uncompressed bytes per request.
pub const MAX_BODY_BYTES: usize = 5_000_000;
/// Logs larger than this are truncated by the intake (counted here).
pub const MAX_LOG_BYTES: usize = 1_000_000;
/// Attributes the intake reads as the log's date.
const DATE_ATTRIBUTES: [&str; 7] = [
    "@timestamp",
    "timestamp",
    "_timestamp",
    "Timestamp",
    "eventTime",
    "date",
    "published_date",
];

/// What one request came to.
#[derive(Debug, Clone)]
pub struct Request {
    /// The answer.
    pub status: u16,
    /// Entries in the body (0 when it was not read that far).
    pub entries: usize,
    /// Uncompressed body bytes (0 when it was not read that far).
    pub bytes: usize,
    /// The `Content-Encoding`.
    pub encoding: String,
}

type Hook = Box<dyn Fn(&Value) + Send + Sync>;

#[derive(Default)]
struct Shared {
    api_key: String,
    poison: Mutex<HashSet<String>>,
    accepted: Mutex<Vec<String>>,
    dropped_stale: Mutex<usize>,
    oversized: Mutex<usize>,
    hook: Mutex<Option<Hook>>,
    /// The body limit actually enforced (the documented one unless a test lowers it).
    max_body_bytes: Mutex<usize>,
}

impl Vendor for Shared {
    fn answer(&self, req: &Incoming) -> Response {
        if req.uri.path() != PATH || req.method != "POST" {
            return Reject(StatusCode::NOT_FOUND, "no such endpoint".into(), None).into_response();
        }
        match self.take(&req.headers, &req.body) {
            Ok(()) => (StatusCode::ACCEPTED, Json(json!({}))).into_response(),
            Err(reject) => reject.into_response(),
        }
    }

    fn refuse(&self, status: StatusCode, retry_after: Option<u64>) -> Response {
        Reject(status, "injected".into(), retry_after).into_response()
    }
}

/// A running fake; stops when dropped.
pub struct LogsIntake {
    server: FakeServer<Shared>,
}

impl LogsIntake {
    /// Starts a fake that accepts `api_key`.
    pub async fn start(api_key: &str) -> Self {
        let shared = Shared {
            api_key: api_key.to_string(),
            max_body_bytes: Mutex::new(MAX_BODY_BYTES),
            ..Shared::default()
        };
        let server = FakeServer::start(shared).await;
        Self { server }
    }

    fn shared(&self) -> &Shared {
        self.server.vendor()
    }

    /// The intake URL to configure.
    pub fn url(&self) -> String {
        format!("{}{PATH}", self.server.base_url())
    }

    /// The next requests get these faults, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.server.inject(faults);
    }

    /// Every `n`-th request gets `fault`.
    pub fn inject_every(&self, n: usize, fault: Fault) {
        self.server.inject_every(n, fault);
    }

    /// Enforces a smaller body limit than documented (413 above it), as an
    /// intake configured differently might.
    pub fn limit_body_bytes(&self, bytes: usize) {
        *self.shared().max_body_bytes.lock().unwrap() = bytes;
    }

    /// The `event_id`s of every request's documents, with its answer.
    pub fn request_ids(&self) -> Vec<(u16, Vec<String>)> {
        (self.server.exchanges().iter())
            .map(|e| {
                let encoding = e.request.header(header::CONTENT_ENCODING.as_str());
                let raw = decode(encoding, &e.request.body).unwrap_or_default();
                let docs: Vec<Value> = serde_json::from_slice(&raw).unwrap_or_default();
                let ids = docs
                    .iter()
                    .map(|d| d["event_id"].as_str().unwrap_or_default().into());
                (e.status.unwrap_or(0), ids.collect())
            })
            .collect()
    }

    /// Injected faults not served yet.
    pub fn faults_left(&self) -> usize {
        self.server.faults_left()
    }

    /// Any request holding a document with this `event_id` is a 400.
    pub fn poison(&self, event_id: &str) {
        (self.shared().poison.lock().unwrap()).insert(event_id.to_string());
    }

    /// Called with every well-formed request body (e.g. for contract checks).
    pub fn on_request(&self, hook: impl Fn(&Value) + Send + Sync + 'static) {
        *self.shared().hook.lock().unwrap() = Some(Box::new(hook));
    }

    /// Every accepted document, in arrival order.
    pub fn accepted(&self) -> Vec<Value> {
        let docs = self.shared().accepted.lock().unwrap();
        docs.iter()
            .map(|d| serde_json::from_str(d).expect("stored JSON"))
            .collect()
    }

    /// The `event_id` of every accepted document, in arrival order.
    pub fn accepted_ids(&self) -> Vec<String> {
        self.accepted()
            .iter()
            .map(|d| d["event_id"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// How many accepted documents there are.
    pub fn accepted_count(&self) -> usize {
        self.shared().accepted.lock().unwrap().len()
    }

    /// Every request so far: its answer, and its body as the intake reads it.
    pub fn requests(&self) -> Vec<Request> {
        (self.server.exchanges().iter())
            .map(|e| {
                let encoding = e.request.header(header::CONTENT_ENCODING.as_str());
                let raw = decode(encoding, &e.request.body).unwrap_or_default();
                let entries = serde_json::from_slice::<Value>(&raw)
                    .ok()
                    .and_then(|v| v.as_array().map(Vec::len))
                    .unwrap_or(0);
                Request {
                    status: e.status.unwrap_or(0),
                    entries,
                    bytes: raw.len(),
                    encoding: encoding.to_string(),
                }
            })
            .collect()
    }

    /// Logs answered 202 but dropped for a `timestamp` older than 18 h.
    pub fn dropped_stale(&self) -> usize {
        *self.shared().dropped_stale.lock().unwrap()
    }

    /// Logs over 1 MB (the intake truncates them).
    pub fn oversized(&self) -> usize {
        *self.shared().oversized.lock().unwrap()
    }
}

/// A rejection: status, detail, and for 429 a `Retry-After`.
struct Reject(StatusCode, String, Option<u64>);

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let Reject(status, detail, retry_after) = self;
        let body = json!({"errors": [{
            "status": status.as_u16().to_string(),
            "title": status.canonical_reason().unwrap_or_default(),
            "detail": detail,
        }]});
        let mut resp = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn bad(detail: impl Into<String>) -> Reject {
    Reject(StatusCode::BAD_REQUEST, detail.into(), None)
}

impl Shared {
    fn take(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Reject> {
        match header_str(headers, "dd-api-key") {
            "" => {
                return Err(Reject(
                    StatusCode::UNAUTHORIZED,
                    "API key missing".into(),
                    None,
                ))
            }
            key if key != self.api_key => {
                return Err(Reject(
                    StatusCode::FORBIDDEN,
                    "API key invalid".into(),
                    None,
                ))
            }
            _ => {}
        }
        let media = header_str(headers, header::CONTENT_TYPE);
        if media.split(';').next().map(str::trim) != Some("application/json") {
            return Err(bad(format!(
                "Content-Type {media:?} is not application/json"
            )));
        }
        let raw = decode(header_str(headers, header::CONTENT_ENCODING), body)?;
        if raw.len() > *self.max_body_bytes.lock().unwrap() {
            return Err(Reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload above 5MB uncompressed".into(),
                None,
            ));
        }
        let value: Value =
            serde_json::from_slice(&raw).map_err(|e| bad(format!("malformed JSON: {e}")))?;
        let entries = value
            .as_array()
            .ok_or_else(|| bad("expected a JSON array"))?;
        if entries.len() > MAX_ENTRIES {
            return Err(Reject(
                StatusCode::PAYLOAD_TOO_LARGE,
                "more than 1000 entries".into(),
                None,
            ));
        }
        if let Some(hook) = self.hook.lock().unwrap().as_ref() {
            hook(&value);
        }
        if entries.iter().any(|e| !e.is_object()) {
            return Err(bad("every entry must be a JSON object"));
        }
        let poison = self.poison.lock().unwrap();
        if let Some(p) = entries
            .iter()
            .find(|e| e["event_id"].as_str().is_some_and(|id| poison.contains(id)))
        {
            return Err(bad(format!("poison document {}", p["event_id"])));
        }
        drop(poison);
        for entry in entries {
            self.record(entry);
        }
        Ok(())
    }

    fn record(&self, entry: &Value) {
        if is_stale(entry) {
            *self.dropped_stale.lock().unwrap() += 1;
            return;
        }
        let text = entry.to_string();
        if text.len() > MAX_LOG_BYTES {
            *self.oversized.lock().unwrap() += 1;
        }
        self.accepted.lock().unwrap().push(text);
    }
}

/// The uncompressed body, read to one byte past the limit at most.
fn decode(encoding: &str, body: &[u8]) -> Result<Vec<u8>, Reject> {
    let limit = u64::try_from(MAX_BODY_BYTES).unwrap_or(u64::MAX) + 1;
    let mut out = Vec::new();
    let read = match encoding {
        "" | "identity" => return Ok(body.to_vec()),
        "gzip" => flate2::read::GzDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out),
        other => return Err(bad(format!("unsupported Content-Encoding {other}"))),
    };
    read.map_err(|e| bad(format!("cannot decode {encoding} body: {e}")))?;
    Ok(out)
}

/// Whether the log's date attribute is more than 18 h old.
fn is_stale(entry: &Value) -> bool {
    let Some(date) = DATE_ATTRIBUTES.iter().find_map(|k| entry.get(*k)) else {
        return false;
    };
    let at = match date {
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.timestamp_millis()),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    let oldest = chrono::Utc::now().timestamp_millis() - 18 * 3_600_000;
    at.is_some_and(|ms| ms < oldest)
}
