//! `receive`: a loopback webhook receiver for scenario 9 (bench/run.py s9).
//!
//! Listens on 127.0.0.1:0 and prints `{"port": N}` once ready. Answers 200 at
//! once on every path but `--slow-path`, which answers after `--slow-ms`.
//! Per request it records the path, the `webhook-id`, the arrival (wall
//! clock, ms) and the event's `data.occurredAt` (the bench producer stamps it
//! with the wall clock at send). On SIGTERM it writes `--out` (TSV: path, id,
//! latency ms = arrival − occurredAt) and prints one JSON summary line.
//!
//! `--self-test N` first fires N POSTs at itself from `--clients` concurrent
//! clients (a healthy path, bodies like the real ones) and prints the
//! requests/s: the receiver's ceiling on this machine, client included.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use serde_json::{json, Value};

#[derive(Debug, clap::Args)]
pub struct ReceiveArgs {
    /// The one path that answers late.
    #[arg(long, default_value = "/slow")]
    slow_path: String,
    /// How late the slow path answers, in ms.
    #[arg(long, default_value_t = 10_000)]
    slow_ms: u64,
    /// TSV of (path, webhook-id, latency ms), written on SIGTERM.
    #[arg(long)]
    out: PathBuf,
    /// Fire this many requests at the receiver before serving (0 = none).
    #[arg(long, default_value_t = 0)]
    self_test: usize,
    /// Self-test: concurrent clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
}

struct Got {
    path: String,
    id: String,
    arrival_ms: i64,
    occurred_ms: Option<i64>,
}

#[derive(Clone)]
struct State {
    slow_path: Arc<str>,
    slow: Duration,
    got: Arc<Mutex<Vec<Got>>>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn handle(
    axum::extract::State(st): axum::extract::State<State>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let arrival_ms = now_ms();
    let path = uri.path().to_owned();
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let occurred_ms = serde_json::from_slice::<Value>(&body).ok().and_then(|v| {
        let text = v.pointer("/data/occurredAt")?.as_str()?.to_owned();
        chrono::DateTime::parse_from_rfc3339(&text)
            .ok()
            .map(|t| t.timestamp_millis())
    });
    let slow = path == *st.slow_path;
    st.got.lock().expect("lock").push(Got {
        path,
        id,
        arrival_ms,
        occurred_ms,
    });
    if slow {
        tokio::time::sleep(st.slow).await;
    }
    StatusCode::OK
}

pub async fn run(args: ReceiveArgs) -> anyhow::Result<()> {
    let state = State {
        slow_path: args.slow_path.clone().into(),
        slow: Duration::from_millis(args.slow_ms),
        got: Arc::default(),
    };
    let app = Router::new().fallback(handle).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let ceiling = if args.self_test > 0 {
        let c = self_test(port, args.self_test, args.clients).await?;
        state.got.lock().expect("lock").clear();
        Some(c)
    } else {
        None
    };
    println!("{}", json!({ "port": port, "self_test": ceiling }));
    term.recv().await;
    server.abort();
    let got = std::mem::take(&mut *state.got.lock().expect("lock"));
    let mut tsv = String::new();
    let mut by_path: BTreeMap<String, usize> = BTreeMap::new();
    let mut no_time = 0usize;
    for g in &got {
        *by_path.entry(g.path.clone()).or_default() += 1;
        match g.occurred_ms {
            Some(t) => tsv.push_str(&format!("{}\t{}\t{}\n", g.path, g.id, g.arrival_ms - t)),
            None => no_time += 1,
        }
    }
    std::fs::write(&args.out, tsv)?;
    let first = got.iter().map(|g| g.arrival_ms).min();
    let last = got.iter().map(|g| g.arrival_ms).max();
    println!(
        "{}",
        json!({
            "requests": got.len(),
            "by_path": by_path,
            "without_occurred_at": no_time,
            "first_arrival_ms": first,
            "last_arrival_ms": last,
            "self_test": ceiling,
        })
    );
    Ok(())
}

/// N POSTs of a realistic body from `clients` concurrent clients; requests/s.
async fn self_test(port: u16, n: usize, clients: usize) -> anyhow::Result<Value> {
    let body = json!({
        "type": "case.updated",
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {"occurredAt": "2026-01-01T00:00:00Z", "caseId": "00000000-0000-0000-0000-000000000000",
                 "projectKey": "SEC", "padding": "x".repeat(600)},
    })
    .to_string();
    let url = format!("http://127.0.0.1:{port}/self-test");
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (next, url, body) = (next.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut ok = 0usize;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                let resp = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("webhook-id", "self-test")
                    .body(body.clone())
                    .send()
                    .await;
                if matches!(resp, Ok(r) if r.status().is_success()) {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(json!({
        "requests": n,
        "ok": ok,
        "clients": clients,
        "secs": secs,
        "requests_per_s": ok as f64 / secs,
    }))
}
