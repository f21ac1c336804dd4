//! The harness's own tests: each fault as a client sees it, the log, shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{FakeServer, Fault, Incoming, Vendor};

/// Counts what it applied; answers 200 with the count, errors as `E<status>`.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Vendor for Counter {
    fn answer(&self, _request: &Incoming) -> Response {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        (StatusCode::OK, n.to_string()).into_response()
    }

    fn refuse(&self, status: StatusCode, retry_after: Option<u64>) -> Response {
        let mut resp = (status, format!("E{}", status.as_u16())).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut().insert("retry-after", secs.into());
        }
        resp
    }
}

fn applied(server: &FakeServer<Counter>) -> usize {
    server.vendor().0.load(Ordering::SeqCst)
}

async fn get(server: &FakeServer<Counter>, path: &str) -> reqwest::Result<reqwest::Response> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    client
        .get(format!("{}{path}", server.base_url()))
        .send()
        .await
}

#[tokio::test]
async fn harness_logs_every_exchange_and_serves_faults_in_order() {
    let server = FakeServer::start(Counter::default()).await;
    server.inject([Fault::Status(503), Fault::RateLimited(7)]);
    let first = get(&server, "/a?x=1").await.unwrap();
    assert_eq!(first.status(), 503);
    assert_eq!(first.text().await.unwrap(), "E503");
    let second = get(&server, "/b").await.unwrap();
    assert_eq!(second.status(), 429);
    assert_eq!(second.headers()["retry-after"], "7");
    let third = get(&server, "/c").await.unwrap();
    assert_eq!(third.text().await.unwrap(), "1", "faults are not applied");
    let log = server.exchanges();
    let seen: Vec<_> = log.iter().map(|e| (e.path(), e.status)).collect();
    assert_eq!(
        seen,
        [
            ("/a?x=1".to_string(), Some(503)),
            ("/b".into(), Some(429)),
            ("/c".into(), Some(200))
        ]
    );
    assert_eq!(server.faults_left(), 0);
}

#[tokio::test]
async fn harness_path_faults_wait_for_a_matching_request() {
    let server = FakeServer::start(Counter::default()).await;
    server.inject_on("/comment", Fault::Status(500), 2);
    server.inject_on("POST /issue", Fault::Status(400), 1);
    assert_eq!(get(&server, "/issue").await.unwrap().status(), 200, "a GET");
    assert_eq!(get(&server, "/comment/list").await.unwrap().status(), 200);
    assert_eq!(
        get(&server, "/issue/1/comment").await.unwrap().status(),
        500
    );
    assert_eq!(
        get(&server, "/issue/2/comment").await.unwrap().status(),
        500
    );
    assert_eq!(
        get(&server, "/issue/3/comment").await.unwrap().status(),
        200
    );
    assert_eq!(applied(&server), 3);
    assert_eq!(server.faults_left(), 1, "the POST fault still waits");
}

#[tokio::test]
async fn harness_delays_then_answers() {
    let server = FakeServer::start(Counter::default()).await;
    server.inject([Fault::Delay(Duration::from_millis(400))]);
    let start = Instant::now();
    let resp = get(&server, "/slow").await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(resp.status(), 200);
    assert_eq!(applied(&server), 1);
}

#[tokio::test]
async fn harness_drop_closes_the_connection_without_applying() {
    let server = FakeServer::start(Counter::default()).await;
    server.inject([Fault::Drop]);
    let err = get(&server, "/x").await.expect_err("no answer");
    assert!(!err.is_timeout(), "closed, not hung: {err}");
    assert_eq!(applied(&server), 0);
    assert_eq!(server.exchanges()[0].status, None);
    assert_eq!(server.exchanges()[0].fault, Some(Fault::Drop));
    assert_eq!(
        get(&server, "/x").await.unwrap().status(),
        200,
        "next one served"
    );
}

#[tokio::test]
async fn harness_lost_answers_are_applied_first() {
    let server = FakeServer::start(Counter::default()).await;
    server.inject([Fault::Lost(Some(504)), Fault::Lost(None)]);
    assert_eq!(get(&server, "/x").await.unwrap().status(), 504);
    assert!(get(&server, "/x").await.is_err(), "answer dropped");
    assert_eq!(applied(&server), 2, "both applied");
    assert_eq!(get(&server, "/x").await.unwrap().text().await.unwrap(), "3");
}

#[tokio::test]
async fn harness_stops_when_dropped() {
    let server = FakeServer::start(Counter::default()).await;
    let url = server.base_url();
    assert_eq!(get(&server, "/").await.unwrap().status(), 200);
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = reqwest::get(format!("{url}/")).await.expect_err("stopped");
    assert!(err.is_connect() || err.is_request(), "{err}");
}

#[tokio::test]
async fn harness_serves_a_fault_to_every_nth_request() {
    let server = FakeServer::start(Counter::default()).await;
    server.inject_every(3, Fault::Status(429));
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(get(&server, "/").await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429, 200]);
}
