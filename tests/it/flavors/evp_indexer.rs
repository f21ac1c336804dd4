//! evp-indexer end to end: the real broker and runtime, the fake logs intake,
//! and every request body checked against the Datadog spec.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use case_event_handler::flavors::evp_indexer::{gzip, EvpConfig, EvpIndexer, LOGS_INTAKE};
use case_event_handler::handler::{BatchHandler, Ctx, HandleResp, Processor};
use case_event_handler::http::Dependency;
use case_event_handler::runtime::dlq::headers;
use serde_json::{json, Value};

use crate::contract::{self, DATADOG_SPEC};
use crate::fakes::logs_intake::{Fault, LogsIntake, MAX_BODY_BYTES, MAX_ENTRIES, PATH};
use crate::helpers::*;

mod faults;

const KEY: &str = "test-api-key";

fn config(intake: &LogsIntake, key: &str) -> EvpConfig {
    let mut config = EvpConfig::default();
    config.endpoint.url = intake.url();
    config.endpoint.secret = key.into();
    config
}

/// The indexer over a client of the logs intake, as the flavor's build makes it.
fn indexer(config: &EvpConfig, handler_timeout: Duration) -> EvpIndexer {
    assert_eq!(config.check(handler_timeout), vec![], "a valid config");
    let http = LOGS_INTAKE.http(Some(config.timeout()));
    let dep = Dependency::new(&LOGS_INTAKE, &http).expect("client");
    EvpIndexer::new(config, dep, handler_timeout)
}

/// The indexer over `topic` (4 partitions) in a pipeline with batches of up
/// to `max_events` and `max_attempts`, until every offset is committed; its
/// summary after a clean stop.
async fn run_to_the_end(
    intake: &LogsIntake,
    topic: &str,
    group: &str,
    max_events: usize,
    max_attempts: u32,
) -> case_event_handler::runtime::RunSummary {
    let mut rt = test_config();
    rt.max_in_flight = 5_000;
    rt.batch.max_events = max_events;
    rt.batch.max_bytes = 50_000_000;
    rt.batch.max_wait = Duration::from_millis(400);
    rt.retry.max_attempts = max_attempts;
    rt.retry.max = Duration::from_secs(2);
    let handler = indexer(&config(intake, KEY), rt.handler_timeout);
    let p = spawn_pipeline(
        "evp-indexer",
        Processor::Batch(Arc::new(handler)),
        Some(pg_store().await),
        topic,
        rt,
        group_props(group),
    );
    eventually("all offsets committed", Duration::from_secs(300), || {
        committed(group, topic, 4) == end_offsets(topic, 4)
    })
    .await;
    p.stop()
        .await
        .expect("a clean stop (no dead-letter circuit trip)")
}

/// Collects contract violations of every request body the fake sees.
fn check_contract(intake: &LogsIntake) -> Arc<Mutex<(usize, Vec<String>)>> {
    let spec = contract::load_spec(DATADOG_SPEC);
    let found = Arc::new(Mutex::new((0, Vec::new())));
    let sink = found.clone();
    intake.on_request(move |body| {
        let result = contract::validate_request(spec, "POST", PATH, body);
        let mut found = sink.lock().unwrap();
        found.0 += 1;
        if let Err(errors) = result {
            found.1.extend(errors.into_iter().take(5));
        }
    });
    found
}

async fn post(
    url: &str,
    key: Option<&str>,
    encoding: &str,
    body: Vec<u8>,
) -> (u16, Value, Option<String>) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", encoding);
    if let Some(key) = key {
        req = req.header("DD-API-KEY", key);
    }
    let resp = req.body(body).send().await.expect("fake answers");
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (
        status,
        resp.json().await.unwrap_or(Value::Null),
        retry_after,
    )
}

fn logs(n: usize, extra: Value) -> Vec<u8> {
    let docs: Vec<Value> = (0..n)
        .map(|i| {
            let mut d = json!({"message": "m", "event_id": format!("e{i}")});
            d.as_object_mut()
                .unwrap()
                .extend(extra.as_object().cloned().unwrap_or_default());
            d
        })
        .collect();
    serde_json::to_vec(&docs).unwrap()
}

/// What is sent, with which key and encoding, and the status expected.
type Case = (
    &'static str,
    Option<&'static str>,
    &'static str,
    Vec<u8>,
    u16,
);

/// The fake is as strict as the intake: keys, limits, envelope, stale dates.
#[tokio::test]
async fn evp_fake_intake_enforces_the_intake_contract() {
    let intake = LogsIntake::start(KEY).await;
    let spec = contract::load_spec(DATADOG_SPEC);
    let url = intake.url();
    let gz = |b: Vec<u8>| gzip(&b).unwrap();
    let cases: Vec<Case> = vec![
        ("no key", None, "gzip", gz(logs(1, json!({}))), 401),
        (
            "wrong key",
            Some("nope"),
            "gzip",
            gz(logs(1, json!({}))),
            403,
        ),
        (
            "1001 entries",
            Some(KEY),
            "gzip",
            gz(logs(MAX_ENTRIES + 1, json!({}))),
            413,
        ),
        (
            "over 5 MB",
            Some(KEY),
            "gzip",
            gz(logs(1, json!({"pad": "x".repeat(MAX_BODY_BYTES)}))),
            413,
        ),
        ("not JSON", Some(KEY), "identity", b"[{".to_vec(), 400),
        (
            "not an array",
            Some(KEY),
            "identity",
            br#"{"message":"m"}"#.to_vec(),
            400,
        ),
        ("broken gzip", Some(KEY), "gzip", b"not gzip".to_vec(), 400),
        (
            "1000 entries",
            Some(KEY),
            "gzip",
            gz(logs(MAX_ENTRIES, json!({}))),
            202,
        ),
        (
            "stale",
            Some(KEY),
            "identity",
            logs(2, json!({"timestamp": "2020-01-01T00:00:00Z"})),
            202,
        ),
    ];
    for (what, key, encoding, body, expected) in cases {
        let (status, answer, _) = post(&url, key, encoding, body).await;
        assert_eq!(status, expected, "{what}: {answer}");
        assert_eq!(
            contract::validate_response(spec, "POST", PATH, status, &answer),
            Ok(()),
            "{what}"
        );
    }
    assert_eq!(
        intake.accepted_count(),
        MAX_ENTRIES,
        "only the good request is recorded"
    );
    assert_eq!(intake.dropped_stale(), 2);

    intake.inject([Fault::RateLimited(7), Fault::Status(503)]);
    intake.poison("e1");
    let (status, _, retry_after) = post(&url, Some(KEY), "gzip", gz(logs(1, json!({})))).await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("7")));
    assert_eq!(
        post(&url, Some(KEY), "gzip", gz(logs(1, json!({}))))
            .await
            .0,
        503
    );
    assert_eq!(
        post(&url, Some(KEY), "gzip", gz(logs(3, json!({}))))
            .await
            .0,
        400,
        "poison"
    );
    assert_eq!(
        post(&url, Some(KEY), "gzip", gz(logs(1, json!({}))))
            .await
            .0,
        202
    );
    assert_eq!(intake.accepted_count(), MAX_ENTRIES + 1);
    assert_eq!(intake.requests().len(), 13);
}

/// Rejected credentials discard the batch after one request; nothing lands.
#[tokio::test]
async fn evp_a_wrong_api_key_discards_the_batch_after_one_request() {
    let intake = LogsIntake::start(KEY).await;
    let handler = indexer(&config(&intake, "wrong"), Duration::from_secs(30));
    let events = validated(&synth(31, 30, 50));
    let refs: Vec<_> = events.iter().collect();
    let out = handler
        .handle_batch(&Ctx::new("evp-indexer", None, 1), &refs)
        .await;
    assert_eq!(out.len(), 1500);
    assert!(out
        .iter()
        .all(|r| matches!(r, HandleResp::Discard(e) if e.message.contains("403"))));
    assert_eq!(intake.requests().len(), 1);
    assert_eq!(intake.accepted_count(), 0);
}

/// 20,000 events through Kafka and the runtime reach the intake exactly once
/// each, within the request limits, through an injected 413, 429 and 503; a
/// poison document is the only dead letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evp_indexer_ships_20000_events_exactly_once_through_faults_and_a_poison() {
    let (topic, group) = (unique("it-evp"), unique("g"));
    create_topic(&topic, 4).await;
    let events = synth(21, 1000, 20);
    assert_eq!(events.len(), 20_000);
    let poison = events[12_345].event_id.clone();
    let intake = LogsIntake::start(KEY).await;
    let contract = check_contract(&intake);
    intake.poison(&poison);
    intake.inject([
        Fault::Status(413),
        Fault::RateLimited(1),
        Fault::Status(503),
    ]);
    publish(&topic, &events).await;

    let summary = run_to_the_end(&intake, &topic, &group, 2_500, 6).await;

    let mut counts: HashMap<String, usize> = HashMap::new();
    for id in intake.accepted_ids() {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(
        counts.get(&poison),
        None,
        "the poison document was accepted"
    );
    for e in events.iter().filter(|e| e.event_id != poison) {
        assert_eq!(
            counts.get(&e.event_id),
            Some(&1),
            "event {} not delivered exactly once",
            e.event_id
        );
    }
    assert_eq!(intake.accepted_count(), 19_999, "unexpected documents");
    assert_eq!((intake.dropped_stale(), intake.oversized()), (0, 0));

    let requests = intake.requests();
    assert!(requests
        .iter()
        .all(|r| r.entries <= MAX_ENTRIES && r.bytes <= MAX_BODY_BYTES));
    assert!(
        requests.iter().all(|r| r.encoding == "gzip"),
        "uncompressed request"
    );
    // The injected 413 teaches half the refused size; later requests fill up to it.
    let refused = requests.iter().find(|r| r.status == 413).expect("a 413");
    let learned = refused.bytes / 2;
    assert!(
        requests
            .iter()
            .any(|r| r.entries == MAX_ENTRIES || r.bytes > learned - 50_000),
        "no request reached a limit, so packing went untested"
    );
    let after: Vec<_> = requests
        .iter()
        .skip_while(|r| r.status != 413)
        .skip(1)
        .collect();
    assert!(
        after.iter().all(|r| r.status != 413),
        "413 again after it was learned"
    );
    for status in [413, 429, 503] {
        assert!(
            requests.iter().any(|r| r.status == status),
            "no {status} served"
        );
    }
    assert_eq!(intake.faults_left(), 0);
    let (checked, violations) = contract.lock().unwrap().clone();
    assert!(checked > 20, "{checked} bodies checked");
    assert!(
        violations.is_empty(),
        "request bodies break the spec: {violations:?}"
    );

    assert_eq!(summary.succeeded, 19_999, "{summary}");
    assert_eq!(summary.dead_lettered("discarded"), 1, "{summary}");
    assert!(summary.retries > 0, "{summary}");
    let dead = read_all(&format!("{topic}.dlq.evp-indexer")).await;
    assert_eq!(dead.len(), 1, "the poison document alone is dead-lettered");
    assert_eq!(dead[0].header(headers::REASON), Some(&b"discarded"[..]));
    let event = case_event_handler::event::decode(&dead[0].payload).unwrap();
    assert_eq!(event.event_id, poison);
}
