//! A loopback webhook receiver for the tests: records every request
//! (path, Standard Webhooks headers, body, arrival time) and answers per
//! path as the test sets it (200, a status, 200 after a delay, or hanging past
//! any timeout), changeable while the flavor runs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How a path answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 200.
    Ok,
    /// This status.
    Status(u16),
    /// Never answers (sleeps 60 s).
    Hang,
    /// 200 after this many milliseconds.
    Slow(u64),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Got {
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
    pub at_ms: i64,
}

impl Got {
    /// The envelope's `data` (the event, proto3 JSON).
    pub fn data(&self) -> serde_json::Value {
        let envelope: serde_json::Value = serde_json::from_slice(&self.body).expect("JSON body");
        envelope["data"].clone()
    }
}

#[derive(Clone, Default)]
struct Shared {
    got: Arc<Mutex<Vec<Got>>>,
    modes: Arc<Mutex<HashMap<String, Mode>>>,
}

/// The running receiver.
pub struct Receiver {
    pub addr: SocketAddr,
    shared: Shared,
}

impl Receiver {
    /// Starts on 127.0.0.1 with every path answering `Ok`.
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = Router::new()
            .route("/{path}", post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, shared }
    }

    /// `http://127.0.0.1:PORT/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    /// Sets how `path` answers from now on.
    pub fn set(&self, path: &str, mode: Mode) {
        self.shared.modes.lock().unwrap().insert(path.into(), mode);
    }

    /// Every request to `path` so far, in arrival order.
    pub fn got(&self, path: &str) -> Vec<Got> {
        let got = self.shared.got.lock().unwrap();
        got.iter().filter(|g| g.path == path).cloned().collect()
    }
}

async fn receive(
    State(shared): State<Shared>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        (headers.get(name))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mode = (shared.modes.lock().unwrap().get(&path).copied()).unwrap_or(Mode::Ok);
    shared.got.lock().unwrap().push(Got {
        path,
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: body.to_vec(),
        at_ms: chrono::Utc::now().timestamp_millis(),
    });
    match mode {
        Mode::Ok => StatusCode::OK,
        Mode::Status(code) => StatusCode::from_u16(code).unwrap(),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::OK
        }
        Mode::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            StatusCode::OK
        }
    }
}

/// Whether `got` is signed by `secret` (`whsec_<base64>`), per the Standard
/// Webhooks spec: some `v1,<sig>` among the space-separated signatures is
/// base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the key being the
/// secret's base64 part decoded.
pub fn signed_by(got: &Got, secret: &str) -> bool {
    let key = B64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", got.id, got.timestamp).as_bytes());
    mac.update(&got.body);
    let expected = B64.encode(mac.finalize().into_bytes());
    got.signature
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == expected)
}
