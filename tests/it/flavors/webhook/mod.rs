//! webhook end to end: real Kafka and PostgreSQL, the production wiring
//! (`app::run`: the batch writer enqueues, the runtime's delivery worker
//! delivers), endpoints on a loopback receiver written here; every
//! signature is checked by the verifier of `receiver.rs`, written from the
//! Standard Webhooks spec.

mod crash;
mod receiver;

use std::collections::BTreeMap;
use std::time::Duration;

use case_event_handler::event::{CaseEvent, Timestamp};
use case_event_handler::flavors::kit::delivery;

use crate::helpers::*;
use crate::kit::{spawn_flavor, FlavorRun};
use receiver::{signed_by, Mode, Receiver};

/// The spec's example secret: the current one.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The one rotating out (base64 of "rotating-out-secret!").
const OLD: &str = "whsec_cm90YXRpbmctb3V0LXNlY3JldCE=";

/// The webhook flavor over endpoints `(name, url)` of project SEC, each
/// signed with SECRET and OLD; `runtime` is YAML merged under the flavor's
/// `runtime` (deliveries settings …), `allow_private` whether loopback
/// addresses may be called.
async fn start(
    endpoints: &[(&str, String)],
    runtime: &str,
    allow_private: bool,
    timeout_ms: u64,
) -> (FlavorRun, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut rules = String::from("webhooks:\n");
    for (name, url) in endpoints {
        rules.push_str(&format!(
            "  - name: {name}\n    url: {url}\n    secret: hook-current\n    previous_secrets: [hook-old]\n"
        ));
    }
    std::fs::write(dir.path().join("SEC.yaml"), rules).unwrap();
    let yaml = format!(
        "environment: local\n\
         rules:\n  dir: {dir}\n  secrets: {{ hook_current: \"{SECRET}\", hook_old: \"{OLD}\" }}\n\
         flavors:\n  webhook:\n    allow_http: true\n    allow_private: {allow_private}\n    timeout_ms: {timeout_ms}\n\
         \x20   runtime:\n      batch: {{ max_events: 100, max_wait_ms: 10 }}\n{runtime}",
        dir = dir.path().display(),
    );
    (spawn_flavor("webhook", &yaml, 2).await, dir)
}

/// `cases` × `per_case` case events of project SEC.
fn events(seed: u64, cases: usize, per_case: usize) -> Vec<CaseEvent> {
    let mut events = synth(seed, cases, per_case);
    for e in &mut events {
        e.project_key = "SEC".into();
    }
    events
}

/// Publishes `events` at about 200 per second through one producer, each
/// stamped with the time it is sent (the delivery latency runs from it).
async fn publish_paced(topic: &str, mut events: Vec<CaseEvent>) {
    let p = producer();
    for chunk in events.chunks_mut(20) {
        let now: Timestamp = chrono::Utc::now().into();
        for e in chunk.iter_mut() {
            e.occurred_at = Some(now);
        }
        let records = chunk.iter().cloned().map(Ok);
        case_event_handler::cli::produce::publish(&p, topic, records, 0)
            .await
            .expect("publish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The case versions each case's deliveries arrived in.
fn arrival_order(got: &[receiver::Got]) -> BTreeMap<String, Vec<u64>> {
    let mut order: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for g in got {
        let data = g.data();
        let case = data["caseId"].as_str().unwrap().to_owned();
        let version = data["aggregateVersion"].as_str().unwrap().parse().unwrap();
        order.entry(case).or_default().push(version);
    }
    order
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_a_dead_endpoint_never_holds_up_a_healthy_one_nor_a_partition() {
    let rx = Receiver::start().await;
    rx.set("dead", Mode::Hang);
    let endpoints = [("ok", rx.url("ok")), ("dead", rx.url("dead"))];
    // The dead endpoint's attempts hang for the whole test (30 s each):
    // whatever waited for one of them could not finish in time.
    let runtime = "      deliveries: { attempt_timeout_ms: 30000, lease_ms: 40000, poll_ms: 50, per_destination: 8 }\n";
    let (mut run, _dir) = start(&endpoints, runtime, true, 30_000).await;
    let events = events(11, 20, 10);
    publish_paced(&run.topic, events.clone()).await;
    run.caught_up(2, Duration::from_secs(25)).await;
    eventually(
        "the healthy endpoint got every event",
        Duration::from_secs(25),
        || rx.got("ok").len() >= events.len(),
    )
    .await;
    let pool = run.store.pool().clone();
    let dead = delivery::depth(&pool, "webhook").await.unwrap();
    let dead = dead
        .iter()
        .find(|d| d.destination == "SEC/dead")
        .unwrap()
        .clone();
    assert_eq!(
        dead.failing_since, 0,
        "no attempt at the dead endpoint had ended yet: {dead:?}"
    );
    assert_eq!(dead.leased, 8, "it holds its own slots only: {dead:?}");
    assert_eq!(rx.got("dead").len(), 8, "one call per slot, all hanging");

    let got = rx.got("ok");
    assert_eq!(got.len(), events.len(), "each event once");
    let mut ids: Vec<&str> = got.iter().map(|g| g.id.as_str()).collect();
    ids.sort_unstable();
    let mut want: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    want.sort_unstable();
    assert_eq!(ids, want, "webhook-id is the event id");
    for g in &got {
        assert!(
            signed_by(g, SECRET) && signed_by(g, OLD),
            "signed with both secrets: {g:?}"
        );
        assert_eq!(g.data()["projectKey"], "SEC");
    }
    for (case, versions) in arrival_order(&got) {
        assert!(
            versions.windows(2).all(|w| w[0] < w[1]),
            "case {case} in order: {versions:?}"
        );
    }
    let mut latencies: Vec<i64> = (got.iter())
        .map(|g| {
            let at = g.data()["occurredAt"].as_str().unwrap().to_owned();
            g.at_ms
                - chrono::DateTime::parse_from_rfc3339(&at)
                    .unwrap()
                    .timestamp_millis()
        })
        .collect();
    latencies.sort_unstable();
    let n = latencies.len();
    println!(
        "healthy endpoint: p50 {} ms, p99 {} ms, max {} ms (the figure is the bench's, scenario 9)",
        latencies[n / 2],
        latencies[n * 99 / 100],
        latencies[n - 1]
    );

    let summary = run.stop().await;
    assert_eq!(
        summary.retries, 0,
        "no event waited: no partition paused: {summary:?}"
    );
    assert!(summary.dead_lettered.is_empty(), "{summary:?}");
    let depths = delivery::depth(&pool, "webhook").await.unwrap();
    let dead = depths.iter().find(|d| d.destination == "SEC/dead").unwrap();
    assert_eq!(
        dead.pending + dead.leased,
        events.len() as i64,
        "its rows wait: {dead:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_410_disables_an_endpoint_and_one_back_from_failing_gets_its_backlog_in_order() {
    let rx = Receiver::start().await;
    rx.set("gone", Mode::Status(410));
    rx.set("flaky", Mode::Status(503));
    let endpoints = [("gone", rx.url("gone")), ("flaky", rx.url("flaky"))];
    let runtime = "      deliveries: { poll_ms: 50, backoff_base_ms: 100, backoff_cap_ms: 400, breaker_failures: 0, depth_check_ms: 200 }\n";
    let (mut run, _dir) = start(&endpoints, runtime, true, 1_000).await;
    let events = events(12, 10, 8);
    publish_paced(&run.topic, events.clone()).await;
    run.caught_up(2, Duration::from_secs(30)).await;
    eventually(
        "the flaky endpoint failed a while",
        Duration::from_secs(20),
        || rx.got("flaky").len() >= 20,
    )
    .await;
    let failed = rx.got("flaky").len();
    rx.set("flaky", Mode::Ok);
    eventually("the backlog came", Duration::from_secs(30), || {
        rx.got("flaky").len() >= failed + events.len()
    })
    .await;
    let summary = run.stop().await;
    assert_eq!(summary.retries, 0, "{summary:?}");

    let delivered = &rx.got("flaky")[failed..];
    let mut ids: Vec<&str> = delivered.iter().map(|g| g.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        events.len(),
        "every event once after the recovery"
    );
    for (case, versions) in arrival_order(delivered) {
        assert!(
            versions.windows(2).all(|w| w[0] < w[1]),
            "case {case} in order: {versions:?}"
        );
    }
    let pool = run.store.pool();
    let depths = delivery::depth(pool, "webhook").await.unwrap();
    let gone = depths.iter().find(|d| d.destination == "SEC/gone").unwrap();
    assert_eq!(gone.state, "gone", "{gone:?}");
    assert!(gone.reason.contains("gone"), "{gone:?}");
    assert_eq!(
        gone.dead,
        events.len() as i64,
        "every row dead with the reason: {gone:?}"
    );
    let rows = delivery::recent(pool, "webhook", "SEC/gone", 1_000)
        .await
        .unwrap();
    assert!(
        rows.iter()
            .all(|r| r.state == "dead" && r.last_error.contains("410")),
        "{rows:?}"
    );
    assert!(
        rx.got("gone").len() <= 8,
        "calls stop once disabled: {}",
        rx.got("gone").len()
    );
    let flaky = depths
        .iter()
        .find(|d| d.destination == "SEC/flaky")
        .unwrap();
    assert_eq!(
        (flaky.pending, flaky.leased, flaky.dead),
        (0, 0, 0),
        "{flaky:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_a_host_resolving_to_loopback_is_refused_at_connect() {
    let rx = Receiver::start().await;
    let url = format!("http://localhost:{}/inside", rx.addr.port());
    let (mut run, _dir) = start(
        &[("inside", url)],
        "      deliveries: { poll_ms: 50 }\n",
        false,
        1_000,
    )
    .await;
    // Eight cases: both partitions get records (an empty one never commits).
    publish(&run.topic, &events(13, 8, 1)).await;
    run.caught_up(2, Duration::from_secs(30)).await;
    let pool = run.store.pool().clone();
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = delivery::recent(&pool, "webhook", "SEC/inside", 100)
            .await
            .unwrap();
        if rows.len() == 8 && rows.iter().all(|r| r.state == "dead") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run.stop().await;
    assert_eq!(rows.len(), 8, "{rows:?}");
    assert!(rows.iter().all(|r| r.state == "dead"), "{rows:?}");
    assert!(
        rows[0].last_error.contains("refused"),
        "names the refusal: {rows:?}"
    );
    assert!(
        rx.got("inside").is_empty(),
        "nothing reached the loopback receiver"
    );
}
