//! Telemetry on the real broker: after 1,000 events through a handler that
//! succeeds, skips, retries and discards, a scrape of `/metrics` shows what
//! happened and the partition's lag drains to 0; the probes follow the real
//! poll loop and assignment. The binary's logs and traces are in `logs` and
//! `otlp`.

mod logs;
mod otlp;
pub mod service;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use case_event_handler::event::{CaseEvent, Event};
use case_event_handler::handler::{Ctx, HandleResp, Handler, HandlerError, Processor, SkipReason};
use case_event_handler::runtime::dlq::KafkaDlq;
use case_event_handler::runtime::Runtime;
use case_event_handler::source::kafka::{start_group, KafkaSourceConfig};
use case_event_handler::source::SourceControl;
use case_event_handler::telemetry::metrics::{find, render};
use case_event_handler::telemetry::{server, Health};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

const FLAVOR: &str = "telemetry-acceptance";

/// What the handler does with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Success,
    Stale,
    Sampled,
    /// Fails once (transient), then succeeds.
    RetryOnce,
    Discard,
}

fn hash(s: &str) -> u32 {
    s.bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
}

fn fate(e: &CaseEvent) -> Fate {
    let (v, h) = (e.aggregate_version, hash(&e.event_id));
    if v == 7 && h % 4 == 0 {
        Fate::Discard
    } else if v == 2 && h % 3 == 0 {
        Fate::RetryOnce
    } else if v % 5 == 0 {
        Fate::Stale
    } else if v % 3 == 0 {
        Fate::Sampled
    } else {
        Fate::Success
    }
}

struct Mixed;

#[async_trait]
impl Handler for Mixed {
    async fn handle(&self, ctx: &Ctx, event: &Event) -> HandleResp {
        match fate(event) {
            Fate::Success => HandleResp::Success,
            Fate::Stale => HandleResp::Skip(SkipReason::Stale),
            Fate::Sampled => HandleResp::Skip(SkipReason::Other("sampled".into())),
            Fate::RetryOnce if ctx.attempt() == 1 => {
                HandleResp::Retry(HandlerError::transient("vendor hiccup"))
            }
            Fate::RetryOnce => HandleResp::Success,
            Fate::Discard => HandleResp::Discard(HandlerError::permanent("unmappable")),
        }
    }
}

async fn scrape(base: &str) -> String {
    let response = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    response.text().await.expect("metrics body")
}

async fn status(base: &str, path: &str) -> u16 {
    let response = reqwest::get(format!("{base}{path}")).await.expect(path);
    response.status().as_u16()
}

/// Waits (30 s at most) until `path` answers 200.
async fn eventually_ok(base: &str, path: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while status(base, path).await != 200 {
        assert!(tokio::time::Instant::now() < deadline, "{path}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn final_outcomes(text: &str) -> f64 {
    [
        ("success", ""),
        ("skip", "stale"),
        ("skip", "other:sampled"),
        ("discard", "discarded"),
    ]
    .iter()
    .filter_map(|(outcome, reason)| {
        let labels = [("flavor", FLAVOR), ("outcome", outcome), ("reason", reason)];
        find(text, "ceh_events_total", &labels)
    })
    .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_scrape_after_1000_events_matches_what_happened_and_lag_drains_to_0() {
    let (topic, group) = (unique("it-telemetry"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(31, 50, 20);
    let count = |f: Fate| events.iter().filter(|e| fate(e) == f).count() as f64;
    let (stale, sampled, retried, discarded) = (
        count(Fate::Stale),
        count(Fate::Sampled),
        count(Fate::RetryOnce),
        count(Fate::Discard),
    );
    let succeeded = count(Fate::Success) + retried;
    assert!(
        discarded >= 3.0 && retried >= 3.0,
        "the stream exercises every fate"
    );
    publish(&topic, &events).await;

    let config = test_config();
    let mut props = group_props(&group);
    props.insert("statistics.interval.ms".into(), "300".into());
    let (tx, rx) = config.channels();
    let source = KafkaSourceConfig {
        properties: props,
        topics: vec![topic.clone()],
        drain_timeout: config.drain_timeout,
    };
    let control = start_group(&source, tx).expect("kafka source");
    let liveness_timeout = Duration::from_secs(2);
    let alive_until = tokio::time::Instant::now() + liveness_timeout;
    let health = Arc::new(Health::new(liveness_timeout, None));
    health.watch_source(control.heartbeat(), control.clone());
    let addr = "127.0.0.1:0".parse().unwrap();
    let srv = server::start(addr, health, None)
        .await
        .expect("telemetry server");
    let base = format!("http://{}", srv.addr());
    let runtime = Runtime {
        flavor: FLAVOR,
        processor: Processor::Single(Arc::new(Mixed)),
        consumes: case_event_handler::flavors::kit::Consumes::all(),
        store: None,
        dlq: Some(Arc::new(KafkaDlq::new(producer(), config.dlq.clone()))),
        config,
        progress: Default::default(),
    };
    let shutdown = CancellationToken::new();
    let control_dyn: Arc<dyn SourceControl> = control.clone();
    let task = tokio::spawn(runtime.run(rx, control_dyn, shutdown.clone()));

    eventually("1,000 final outcomes", Duration::from_secs(120), || {
        final_outcomes(&render()) >= 1000.0
    })
    .await;
    let lag = [
        ("group", group.as_str()),
        ("topic", topic.as_str()),
        ("partition", "0"),
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape(&base).await;
        if find(&text, "ceh_kafka_consumer_lag", &lag) == Some(0.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "lag never reached 0:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Both probes read the poll loop's age against the 2 s timeout. Past it
    // since the source started, only beats keep them at 200; waiting for a
    // 200 (the loop beats every 50 ms) keeps a poll thread descheduled on a
    // loaded machine from failing them, a loop that never beats still does.
    tokio::time::sleep_until(alive_until + Duration::from_millis(100)).await;
    eventually_ok(&base, "/healthz", "the poll loop beats").await;
    eventually_ok(&base, "/readyz", "the partition is assigned").await;

    let text = scrape(&base).await;
    let metric = |name: &str, labels: &[(&str, &str)]| {
        let mut all = vec![("flavor", FLAVOR)];
        all.extend_from_slice(labels);
        find(&text, name, &all).unwrap_or(0.0)
    };
    let events_of = |outcome: &str, reason: &str| {
        metric(
            "ceh_events_total",
            &[("outcome", outcome), ("reason", reason)],
        )
    };
    assert_eq!(events_of("success", ""), succeeded, "{text}");
    assert_eq!(events_of("skip", "stale"), stale);
    assert_eq!(events_of("skip", "other:sampled"), sampled);
    assert_eq!(events_of("retry", ""), retried);
    assert_eq!(events_of("discard", "discarded"), discarded);
    assert_eq!(events_of("invalid", "invalid"), 0.0);
    assert_eq!(
        metric("ceh_dlq_writes_total", &[("reason", "discarded")]),
        discarded
    );
    assert_eq!(
        metric("ceh_records_received_total", &[("topic", &topic)]),
        1000.0
    );
    let attempts = metric("ceh_handler_duration_seconds_count", &[("mode", "single")]);
    assert_eq!(attempts, 1000.0 + retried, "one observation per attempt");
    let handled = metric("ceh_end_to_end_latency_seconds_count", &[]);
    assert_eq!(handled, 1000.0 - discarded);
    assert_eq!(metric("ceh_in_flight_events", &[]), 0.0);
    let paused = find(&text, "ceh_paused_partitions", &[("flavor", FLAVOR)]);
    assert_eq!(
        paused,
        Some(0.0),
        "backoffs paused the partition, and it resumed"
    );
    let group_label = [("group", group.as_str())];
    assert!(find(&text, "ceh_kafka_commits_total", &group_label).unwrap_or(0.0) >= 1.0);

    let summary = tokio::time::timeout(Duration::from_secs(60), async {
        shutdown.cancel();
        task.await
    })
    .await
    .expect("stops within 60 s")
    .expect("pipeline task")
    .expect("clean stop");
    assert_eq!(summary.succeeded as f64, succeeded, "{summary}");
    assert_eq!(summary.dead_lettered("discarded") as f64, discarded);
    let dead = read_all(&format!("{topic}.dlq.{FLAVOR}")).await;
    assert_eq!(
        dead.len() as f64,
        discarded,
        "every counted DLQ write is on the topic"
    );

    // The consumer closed: no poll loop beats, no partitions remain.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while status(&base, "/healthz").await != 503 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "liveness never failed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status(&base, "/readyz").await, 503);
    srv.stop().await;
}
