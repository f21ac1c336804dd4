//! Unit tests of telemetry: rendering, events, health, the server, trace
//! context. Each test uses its own flavor or dependency names, so tests
//! running in parallel never share a metric series.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

use super::events::{self, Mode};
use super::health::{Health, Heartbeat};
use super::metrics::{find, render};
use super::At;
use super::{breaker_state, maintenance_window, require_dependency, server, trace};
use crate::event::pb::TraceContext;
use crate::event::CaseEvent;
use crate::handler::SkipReason;
use crate::resilience::breaker::State as BreakerState;
use crate::runtime::dlq::DlqReason;
use crate::source::record::{Record, Tp};
use crate::source::SourceControl;

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn record(headers: &[(&str, &str)]) -> Record {
    Record {
        tp: Tp::new("t-unit", 3),
        offset: 42,
        key: None,
        payload: Bytes::new(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), Bytes::from(v.to_string())))
            .collect(),
        timestamp_ms: None,
    }
}

#[test]
fn outcomes_render_as_counters_by_flavor_outcome_and_reason() {
    let (flavor, tp, span) = ("unit-outcomes", Tp::new("t-unit", 0), Span::none());
    let stale = SkipReason::Stale;
    let mut tally = events::Tally::new(flavor, Mode::Single);
    for _ in 0..3 {
        events::EventCompleted::new(flavor, At::new(&tp.topic, 0, 1), None, &span).emit();
        tally.completed(None);
    }
    let stale = stale.label();
    events::EventCompleted::new(flavor, At::new(&tp.topic, 0, 2), Some(&stale), &span).emit();
    tally.completed(Some(&stale));
    let r = record(&[]);
    events::DeadLettered::new(flavor, r.at(), DlqReason::Discarded.as_str(), &span).emit();
    events::DeadLettered::new(flavor, r.at(), DlqReason::Invalid.as_str(), &span).emit();
    tally.received(&tp.topic, 1);
    tally.flush();
    let text = render();
    let events_of = |outcome: &str, reason: &str| {
        let labels = [("flavor", flavor), ("outcome", outcome), ("reason", reason)];
        find(&text, "ceh_events_total", &labels)
    };
    assert_eq!(events_of("success", ""), Some(3.0), "{text}");
    assert_eq!(events_of("skip", "stale"), Some(1.0));
    assert_eq!(events_of("discard", "discarded"), Some(1.0));
    assert_eq!(events_of("invalid", "invalid"), Some(1.0));
    assert_eq!(events_of("skip", "duplicate"), None);
    let dlq = [("flavor", flavor), ("reason", "discarded")];
    assert_eq!(find(&text, "ceh_dlq_writes_total", &dlq), Some(1.0));
    let received = [("flavor", flavor), ("topic", "t-unit")];
    assert_eq!(
        find(&text, "ceh_records_received_total", &received),
        Some(1.0)
    );
    assert!(text.contains("# TYPE ceh_events counter"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn latencies_and_sizes_render_as_histograms() {
    let flavor = "unit-histograms";
    let single_tally = events::Tally::new(flavor, Mode::Single);
    single_tally
        .handler_timer()
        .observe(Duration::from_millis(3));
    let tally = events::Tally::new(flavor, Mode::Batch);
    tally.handler_timer().observe(Duration::from_millis(1));
    events::BatchStarted::new(flavor, 5).emit();
    let event = CaseEvent {
        occurred_at: Some(crate::event::Timestamp {
            seconds: chrono::Utc::now().timestamp() - 2,
            nanos: 0,
        }),
        ..CaseEvent::default()
    };
    tally.end_to_end(&event);
    let text = render();
    let single = [("flavor", flavor), ("mode", "single")];
    assert_eq!(
        find(&text, "ceh_handler_duration_seconds_count", &single),
        Some(1.0)
    );
    let le = [("flavor", flavor), ("mode", "single"), ("le", "0.004")];
    assert_eq!(
        find(&text, "ceh_handler_duration_seconds_bucket", &le),
        Some(1.0)
    );
    let le = [("flavor", flavor), ("mode", "single"), ("le", "0.002")];
    assert_eq!(
        find(&text, "ceh_handler_duration_seconds_bucket", &le),
        Some(0.0)
    );
    let batch = [("flavor", flavor), ("mode", "batch")];
    assert_eq!(
        find(&text, "ceh_handler_duration_seconds_count", &batch),
        Some(1.0)
    );
    let f = [("flavor", flavor)];
    assert_eq!(find(&text, "ceh_batch_size_sum", &f), Some(5.0));
    let e2e = find(&text, "ceh_end_to_end_latency_seconds_sum", &f).unwrap();
    assert!((1.5..30.0).contains(&e2e), "end-to-end {e2e}");
}

#[test]
fn gauges_hold_the_last_value() {
    let flavor = "unit-gauges";
    events::InFlight::new(flavor, 9).emit();
    events::InFlight::new(flavor, 4).emit();
    events::PausedPartitions::new(flavor, 2).emit();
    maintenance_window(flavor, true);
    breaker_state(
        "unit-gauges-dep",
        BreakerState::Open.as_str(),
        BreakerState::Open.gauge(),
    );
    let text = render();
    let f = [("flavor", flavor)];
    assert_eq!(find(&text, "ceh_in_flight_events", &f), Some(4.0));
    assert_eq!(find(&text, "ceh_paused_partitions", &f), Some(2.0));
    assert_eq!(find(&text, "ceh_maintenance_window", &f), Some(1.0));
    let dep = [("dependency", "unit-gauges-dep")];
    assert_eq!(find(&text, "ceh_breaker_state", &dep), Some(2.0));
}

#[test]
fn outbound_requests_count_by_dependency_and_status() {
    let dep = "unit-outbound";
    events::OutboundHttp::new(dep, Some(503), Duration::from_millis(2)).emit();
    events::OutboundHttp::new(dep, None, Duration::from_millis(2)).emit();
    let text = render();
    let s503 = [("dependency", dep), ("status", "503")];
    assert_eq!(find(&text, "ceh_http_requests_total", &s503), Some(1.0));
    let err = [("dependency", dep), ("status", "error")];
    assert_eq!(find(&text, "ceh_http_requests_total", &err), Some(1.0));
}

#[test]
fn find_matches_whole_label_pairs_only() {
    let text = "m_total{a=\"x\",b=\"yz\"} 3\nm_total{a=\"x\",b=\"y\"} 5\n";
    assert_eq!(find(text, "m_total", &[("b", "y")]), Some(5.0));
    assert_eq!(find(text, "m_total", &[("a", "x"), ("b", "yz")]), Some(3.0));
    assert_eq!(find(text, "m_total", &[("b", "z")]), None);
    assert_eq!(find(text, "m", &[]), None);
}

#[test]
fn skip_labels_are_bounded() {
    let long = SkipReason::Other("x".repeat(500));
    assert_eq!(long.label().chars().count(), 64);
    assert_eq!(SkipReason::Duplicate.label(), "duplicate");
    assert_eq!(SkipReason::Stale.label(), SkipReason::Stale.to_string());
}

/// A source whose assignment the test sets.
#[derive(Default)]
struct FakeSource(Mutex<Vec<Tp>>);

impl SourceControl for FakeSource {
    fn store(&self, _: &[(Tp, i64)]) {}
    fn pause(&self, _: &[Tp]) {}
    fn resume(&self, _: &[Tp]) {}
    fn assigned(&self) -> Vec<Tp> {
        self.0.lock().unwrap().clone()
    }
    fn close(&self) {}
}

/// The heartbeat runs on the real clock. A beat and the check right after it
/// are adjacent statements: a 2 s timeout leaves room for any descheduling of
/// a loaded machine, and sleeping past it makes the stall certain.
#[tokio::test]
async fn liveness_fails_when_the_poll_loop_stalls_and_recovers_when_it_beats() {
    let timeout = Duration::from_secs(2);
    let health = Health::new(timeout, None);
    assert!(health.liveness().ok, "no loop yet is alive");
    let beat = Heartbeat::default();
    health.watch_source(beat.clone(), Arc::new(FakeSource::default()));
    assert!(health.liveness().ok);
    tokio::time::sleep(timeout + Duration::from_millis(100)).await;
    let report = health.liveness();
    assert!(!report.ok, "{report:?}");
    assert!(
        report.checks["poll_loop"].starts_with("stalled"),
        "{report:?}"
    );
    beat.beat();
    assert!(health.liveness().ok);
}

#[tokio::test]
async fn readiness_needs_partitions_and_no_open_required_breaker() {
    let health = Health::new(Duration::from_secs(60), None);
    assert!(!health.readiness().await.ok, "source not started");
    let source = Arc::new(FakeSource::default());
    health.watch_source(Heartbeat::default(), source.clone());
    let report = health.readiness().await;
    assert_eq!(report.checks["partitions"], "no partitions assigned");
    assert!(!report.ok);
    source.0.lock().unwrap().push(Tp::new("t", 0));
    assert!(health.readiness().await.ok);
    breaker_state(
        "unit-ready-optional",
        BreakerState::Open.as_str(),
        BreakerState::Open.gauge(),
    );
    assert!(
        health.readiness().await.ok,
        "an optional dependency may be down"
    );
    require_dependency("unit-ready-required");
    breaker_state(
        "unit-ready-required",
        BreakerState::Open.as_str(),
        BreakerState::Open.gauge(),
    );
    let report = health.readiness().await;
    assert!(!report.ok);
    assert!(
        report.checks["breakers"].contains("unit-ready-required"),
        "{report:?}"
    );
    breaker_state(
        "unit-ready-required",
        BreakerState::HalfOpen.as_str(),
        BreakerState::HalfOpen.gauge(),
    );
    assert!(health.readiness().await.ok);
}

#[tokio::test]
async fn the_server_serves_metrics_probes_and_flavor_routes_until_stopped() {
    let health = Arc::new(Health::new(Duration::from_secs(60), None));
    let hook = axum::Router::new().route("/hook", axum::routing::get(|| async { "hooked" }));
    let addr = "127.0.0.1:0".parse().unwrap();
    let srv = server::start(addr, health, Some(hook)).await.unwrap();
    let base = format!("http://{}", srv.addr());
    let mut tally = events::Tally::new("unit-server", Mode::Single);
    tally.received(&Tp::new("t-srv", 0).topic, 1);
    tally.flush();
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{base}{path}")).send();
    let metrics = get("/metrics").await.unwrap();
    assert_eq!(metrics.status(), 200);
    let content_type = metrics.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("application/openmetrics-text"));
    let text = metrics.text().await.unwrap();
    assert!(text.contains("flavor=\"unit-server\""), "{text}");
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    let ready = get("/readyz").await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["partitions"], "source not started");
    assert_eq!(get("/hook").await.unwrap().text().await.unwrap(), "hooked");
    srv.stop().await;
    assert!(
        get("/healthz").await.is_err(),
        "stopped servers refuse connections"
    );
}

/// Runs `f` under a subscriber with the OpenTelemetry layer.
fn with_otel<T>(f: impl FnOnce() -> T) -> T {
    let provider = super::otlp::provider(None).unwrap();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("unit"));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, f)
}

fn trace_id(span: &Span) -> String {
    span.context().span().span_context().trace_id().to_string()
}

#[test]
fn event_spans_continue_the_record_header_trace() {
    with_otel(|| {
        let r = record(&[("traceparent", PARENT)]);
        let span = trace::event_span("unit-trace", r.at(), &r.headers, None);
        assert_eq!(trace_id(&span), "4bf92f3577b34da6a3ce929d0e0e4736");
        let headers = span.in_scope(trace::current_headers);
        let tp = &headers["traceparent"];
        assert!(
            tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{tp}"
        );
        assert!(
            !tp.contains("00f067aa0ba902b7"),
            "a child gets its own span id: {tp}"
        );
    });
}

#[test]
fn event_spans_fall_back_to_the_envelope_trace() {
    with_otel(|| {
        let envelope = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let event = CaseEvent {
            trace: Some(TraceContext {
                traceparent: envelope.into(),
                tracestate: String::new(),
            }),
            ..CaseEvent::default()
        };
        let bare = record(&[]);
        let span = trace::event_span("unit-trace", bare.at(), &bare.headers, Some(&event));
        assert_eq!(trace_id(&span), "0af7651916cd43dd8448eb211c80319c");
        let r = record(&[("traceparent", PARENT)]);
        let with_header = trace::event_span("unit-trace", r.at(), &r.headers, Some(&event));
        assert_eq!(
            trace_id(&with_header),
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "the header wins"
        );
    });
}

#[test]
fn outbound_requests_and_produced_events_carry_the_current_context() {
    with_otel(|| {
        let r = record(&[("traceparent", PARENT)]);
        let span = trace::event_span("unit-trace", r.at(), &r.headers, None);
        let _entered = span.enter();
        let request = reqwest::Client::new().get("http://127.0.0.1:9/");
        let built = trace::propagate_http(request, Some(PARENT))
            .build()
            .unwrap();
        let sent = built.headers()["traceparent"].to_str().unwrap();
        assert!(sent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && sent != PARENT);
        let envelope = trace::envelope_trace().expect("a current trace");
        assert_eq!(envelope.traceparent, sent);
        let headers = trace::kafka_headers(rdkafka::message::OwnedHeaders::new());
        use rdkafka::message::Headers;
        let header = headers.iter().find(|h| h.key == "traceparent").unwrap();
        assert_eq!(header.value, Some(sent.as_bytes()));
    });
}

#[test]
fn without_a_trace_context_the_given_traceparent_passes_through() {
    let request = reqwest::Client::new().get("http://127.0.0.1:9/");
    let built = trace::propagate_http(request, Some(PARENT))
        .build()
        .unwrap();
    assert_eq!(built.headers()["traceparent"], PARENT);
    assert_eq!(trace::current_traceparent(), None);
    let invalid = record(&[("traceparent", "00-zz-yy-01")]);
    assert!(trace::remote_parent(&invalid.headers).is_none());
}

/// On a current-thread runtime every task sees the thread's subscriber.
#[tokio::test]
async fn flavor_routes_continue_the_callers_trace() {
    let provider = super::otlp::provider(None).unwrap();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("unit"));
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    let current = || async { trace::current_traceparent().unwrap_or_default() };
    let routes = axum::Router::new().route("/trace", axum::routing::get(current));
    let health = Arc::new(Health::new(Duration::from_secs(60), None));
    let addr = "127.0.0.1:0".parse().unwrap();
    let srv = server::start(addr, health, Some(routes)).await.unwrap();
    let url = format!("http://{}/trace", srv.addr());
    let client = reqwest::Client::new();
    let seen = client
        .get(&url)
        .header("traceparent", PARENT)
        .send()
        .await
        .unwrap();
    let seen = seen.text().await.unwrap();
    assert!(
        seen.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{seen}"
    );
    assert!(
        !seen.contains("00f067aa0ba902b7"),
        "the request gets its own span: {seen}"
    );
    let fresh = client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(
        !fresh.is_empty() && !fresh.contains("4bf92f3577b34da6"),
        "a new trace: {fresh}"
    );
    srv.stop().await;
}

#[test]
fn telemetry_depends_on_nothing_above_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/telemetry");
    let above = [
        "crate::runtime",
        "crate::source",
        "crate::handler",
        "crate::store",
        "crate::resilience",
        "crate::flavors",
        "crate::app",
        "crate::http",
        "crate::cli",
    ];
    let mut stack = vec![root];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for module in above {
                assert!(!text.contains(module), "{} uses {module}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "checked {checked} files");
}
