//! Traces of the real binary, received by an in-process OTLP/HTTP collector:
//! one span per event with its attributes, parented on the record's
//! `traceparent` (or the envelope's); and a hung or dead collector neither
//! stops nor slows event handling.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use case_event_handler::event::record_parts;
use case_event_handler::event::CaseEvent;
use case_event_handler::telemetry::metrics::find;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use tokio::task::JoinHandle;

use super::service::{ceh, until_committed, Service};
use crate::helpers::*;

/// An OTLP/HTTP trace collector on a free port.
#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Span>>>,
    services: Arc<Mutex<Vec<String>>>,
    hang: Arc<AtomicBool>,
    hung: Arc<AtomicUsize>,
}

impl Collector {
    async fn start(&self) -> (String, JoinHandle<()>) {
        let app = axum::Router::new()
            .route("/v1/traces", axum::routing::post(receive))
            .route(GRPC_EXPORT, axum::routing::post(receive_grpc))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (url, task)
    }

    fn event_spans(&self) -> Vec<Span> {
        let spans = self.spans.lock().unwrap();
        spans
            .iter()
            .filter(|s| s.name == "event")
            .cloned()
            .collect()
    }
}

/// The gRPC method of OTLP trace export.
const GRPC_EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// OTLP/gRPC: one length-prefixed message in, an empty one and
/// `grpc-status: 0` out (a trailers-only answer).
async fn receive_grpc(State(c): State<Collector>, body: Bytes) -> impl IntoResponse {
    let message = body.slice(5.min(body.len())..);
    let status = receive(State(c), message).await;
    let grpc_status = if status == StatusCode::OK { "0" } else { "3" };
    let headers = [
        ("content-type", "application/grpc"),
        ("grpc-status", grpc_status),
    ];
    (headers, Bytes::from_static(&[0, 0, 0, 0, 0]))
}

async fn receive(State(c): State<Collector>, body: Bytes) -> StatusCode {
    if c.hang.load(Ordering::SeqCst) {
        c.hung.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    for rs in request.resource_spans {
        let resource = rs.resource.unwrap_or_default();
        if let Some(name) = attr(&resource.attributes, "service.name") {
            c.services.lock().unwrap().push(name);
        }
        for ss in rs.scope_spans {
            c.spans.lock().unwrap().extend(ss.spans);
        }
    }
    StatusCode::OK
}

fn attr(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str) -> Option<String> {
    let value = attrs
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    Some(match value {
        Value::StringValue(s) => s.clone(),
        Value::IntValue(i) => i.to_string(),
        Value::BoolValue(b) => b.to_string(),
        other => format!("{other:?}"),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Publishes `events`, with a `traceparent` header where one is given.
async fn publish_traced(topic: &str, events: &[(CaseEvent, Option<String>)]) {
    let p = producer();
    for (event, traceparent) in events {
        let (key, value, _) = record_parts(event);
        let mut headers = OwnedHeaders::new().insert(Header {
            key: "content-type",
            value: Some("application/x-protobuf"),
        });
        if let Some(tp) = traceparent {
            headers = headers.insert(Header {
                key: "traceparent",
                value: Some(tp.as_str()),
            });
        }
        let record = FutureRecord::to(topic)
            .key(&key)
            .payload(&value)
            .headers(headers);
        send(&p, record).await;
    }
}

fn otlp(cmd: &mut std::process::Command, endpoint: &str) {
    cmd.args(["--set", &format!("telemetry.otlp.endpoint={endpoint}")])
        .args(["--set", "telemetry.otlp.protocol=http"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_otlp_spans_per_event_are_parented_on_the_record_traceparent() {
    let (topic, group, db) = (unique("it-otlp"), unique("g"), fresh_pg().await);
    create_topic(&topic, 1).await;
    let events: Vec<(CaseEvent, Option<String>)> = synth(41, 5, 4)
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let header =
                (i % 2 == 0).then(|| format!("00-{:032x}-{:016x}-01", 0xabc0 + i, 0x5150 + i));
            (e, header)
        })
        .collect();
    publish_traced(&topic, &events).await;
    let collector = Collector::default();
    let (endpoint, _server) = collector.start().await;
    let mut cmd = ceh(&topic, &group, &db);
    otlp(&mut cmd, &endpoint);
    let service = Service::spawn(cmd.args(["run", "--flavor", "timeline"]));
    let base = service.telemetry_url().await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while collector.event_spans().len() < events.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "spans missing:\n{}",
            service.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let received = [("flavor", "timeline"), ("topic", topic.as_str())];
    assert_eq!(
        find(&text, "ceh_records_received_total", &received),
        Some(20.0),
        "{text}"
    );
    let (code, log) = service.stop(Duration::from_secs(30));
    assert_eq!(code, 0, "{log}");

    let spans = collector.event_spans();
    assert_eq!(spans.len(), events.len(), "one span per event");
    assert!(collector
        .services
        .lock()
        .unwrap()
        .iter()
        .all(|s| s == "case-event-handler"));
    for (offset, (event, header)) in events.iter().enumerate() {
        let span = spans
            .iter()
            .find(|s| attr(&s.attributes, "event_id").as_deref() == Some(&event.event_id))
            .unwrap_or_else(|| panic!("no span for event {}", event.event_id));
        let a = |key: &str| attr(&span.attributes, key);
        assert_eq!(a("flavor").as_deref(), Some("timeline"));
        assert_eq!(a("topic").as_deref(), Some(topic.as_str()));
        assert_eq!(a("partition").as_deref(), Some("0"));
        assert_eq!(a("offset"), Some(offset.to_string()));
        assert_eq!(a("event_type").as_deref(), Some(event.event_type.as_str()));
        assert_eq!(a("case_id").as_deref(), Some(event.case_id.as_str()));
        assert!(a("outcome").is_some(), "the outcome is recorded: {span:?}");
        assert_eq!(span.kind, 5, "a consumer span");
        let parent = header
            .clone()
            .or_else(|| event.trace.as_ref().map(|t| t.traceparent.clone()));
        let parent = parent.expect("synthetic events carry an envelope trace");
        let mut parts = parent.split('-').skip(1);
        let (trace_id, span_id) = (parts.next().unwrap(), parts.next().unwrap());
        assert_eq!(
            hex(&span.trace_id),
            trace_id,
            "event {offset} continues its trace"
        );
        assert_eq!(
            hex(&span.parent_span_id),
            span_id,
            "event {offset} has the producer's span as parent"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_a_hung_or_dead_collector_neither_stops_nor_slows_event_handling() {
    let (topic, group, db) = (unique("it-otlp-down"), unique("g"), fresh_pg().await);
    create_topic(&topic, 1).await;
    let collector = Collector::default();
    let (endpoint, server) = collector.start().await;
    let mut cmd = ceh(&topic, &group, &db);
    otlp(&mut cmd, &endpoint);
    let service = Service::spawn(cmd.args(["run", "--flavor", "timeline"]));
    let base = service.telemetry_url().await;
    service.wait_ready(&base).await;
    let batches: Vec<Vec<CaseEvent>> = (0..3).map(|i| synth(50 + i, 50, 10)).collect();

    let phase = |i: usize| {
        let (topic, group, events) = (topic.clone(), group.clone(), batches[i].clone());
        async move {
            let started = std::time::Instant::now();
            publish(&topic, &events).await;
            until_committed(&group, &topic, 1, Duration::from_secs(120)).await;
            started.elapsed()
        }
    };
    let healthy = phase(0).await;
    // The exporter sends on its own schedule: wait for it (bounded), never assume it
    // has flushed by the time the events are committed.
    eventually(
        "the collector receives spans while up",
        Duration::from_secs(30),
        || !collector.event_spans().is_empty(),
    )
    .await;

    collector.hang.store(true, Ordering::SeqCst);
    let hung = phase(1).await;
    eventually(
        "exports reach the hung collector",
        Duration::from_secs(30),
        || collector.hung.load(Ordering::SeqCst) > 0,
    )
    .await;

    server.abort();
    let _ = server.await;
    let dead = phase(2).await;

    eprintln!("publish and handle 500 events: healthy {healthy:?}, hung {hung:?}, dead {dead:?}");
    // Wall-clock phases, each publishing 500 events and polling commits: on a
    // loaded machine one phase may run at a third of the speed of another,
    // plus seconds of noise (new clients, commit polls, descheduling). Export
    // on the handling path waits up to the 5 s export timeout each time with
    // a hung collector: waits per event or per batch go far past this limit
    // (a single 5 s wait in a phase is within the noise; no bound sound on a
    // loaded machine can tell it).
    let limit = healthy * 3 + Duration::from_secs(10);
    assert!(
        hung < limit,
        "hung collector: {hung:?} vs {healthy:?} healthy"
    );
    assert!(
        dead < limit,
        "dead collector: {dead:?} vs {healthy:?} healthy"
    );
    let live = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(live.status(), 200);
    let (code, log) = service.stop(Duration::from_secs(30));
    assert_eq!(code, 0, "stops cleanly with the collector gone:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_otlp_grpc_export_reaches_a_grpc_collector() {
    let collector = Collector::default();
    let (endpoint, _server) = collector.start().await;
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.ndjson");
    let lines: Vec<String> = synth(61, 2, 3)
        .iter()
        .map(|e| case_event_handler::event::to_json_line(e).expect("json"))
        .collect();
    std::fs::write(&events, lines.join("\n") + "\n").unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args(["--env", "ci", "--set", &format!("store.url={db}")])
        .args(["--set", "telemetry.http_addr=127.0.0.1:0"])
        .args(["--set", &format!("telemetry.otlp.endpoint={endpoint}")])
        .args(["--set", "telemetry.otlp.protocol=grpc"])
        .args(["run", "--flavor", "timeline", "--source"])
        .arg(format!("file:{}", events.display()))
        .output()
        .expect("run");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let spans = collector.event_spans();
    assert_eq!(
        spans.len(),
        6,
        "every event's span is flushed before exit:\n{log}"
    );
}
