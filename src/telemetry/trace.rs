//! Trace context: one span per event, parented on the producer's W3C trace
//! context, and that context carried on into outbound HTTP calls and into the
//! events the service produces.
//!
//! The parent is the record's `traceparent` header, or else the envelope's
//! `trace.traceparent`. Spans reach OpenTelemetry through the layer that
//! [`super::init_logs`] installs; without it they cost next to nothing and
//! propagation falls back to what the caller passes.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use rdkafka::message::{Header, OwnedHeaders};
use reqwest::RequestBuilder;
use tracing::field::Empty;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::At;
use crate::event::pb::TraceContext;
use crate::event::CaseEvent;
use bytes::Bytes;

/// The span of one event (or of one undecodable record), from the moment it
/// is read until its final outcome. `outcome` and `reason` are recorded when
/// it completes.
pub fn event_span(
    flavor: &'static str,
    at: At<'_>,
    headers: &[(String, Bytes)],
    event: Option<&CaseEvent>,
) -> Span {
    let span = tracing::info_span!(
        "event",
        otel.kind = "consumer",
        flavor,
        topic = at.topic,
        partition = at.partition,
        offset = at.offset,
        event_id = Empty,
        event_type = Empty,
        case_id = Empty,
        outcome = Empty,
        reason = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    if let Some(event) = event {
        span.record("event_id", event.event_id.as_str());
        span.record("event_type", event.event_type.as_str());
        span.record("case_id", event.case_id.as_str());
    }
    let envelope = event.and_then(|e| e.trace.as_ref());
    if let Some(parent) = remote_parent(headers).or_else(|| envelope.and_then(envelope_parent)) {
        // Fails only when the span was already started, which it was not.
        let _ = span.set_parent(parent);
    }
    span
}

/// The span of one batch handler call; it follows from each event's span.
pub fn batch_span<'a>(flavor: &'static str, events: impl Iterator<Item = &'a Span>) -> Span {
    let span = tracing::info_span!("batch", flavor, events = Empty);
    let mut n = 0u64;
    for event in events {
        span.follows_from(event);
        n += 1;
    }
    span.record("events", n);
    span
}

/// Records an event's final outcome on its span.
pub fn record_outcome(span: &Span, outcome: &str, reason: &str) {
    span.record("outcome", outcome);
    if !reason.is_empty() {
        span.record("reason", reason);
    }
}

/// The trace context of the record's `traceparent` / `tracestate` headers.
pub fn remote_parent(headers: &[(String, Bytes)]) -> Option<Context> {
    valid(TraceContextPropagator::new().extract(&RecordHeaders(headers)))
}

/// The trace context of an envelope's `trace` field.
pub fn envelope_parent(trace: &TraceContext) -> Option<Context> {
    let mut map = HashMap::new();
    map.insert("traceparent".to_string(), trace.traceparent.clone());
    if !trace.tracestate.is_empty() {
        map.insert("tracestate".to_string(), trace.tracestate.clone());
    }
    context_of(&map)
}

/// The trace context of W3C headers (`traceparent`, `tracestate`), if valid.
pub fn context_of(headers: &HashMap<String, String>) -> Option<Context> {
    valid(TraceContextPropagator::new().extract(headers))
}

fn valid(cx: Context) -> Option<Context> {
    cx.span().span_context().is_valid().then_some(cx)
}

/// A record's headers, as the propagator reads them.
struct RecordHeaders<'a>(&'a [(String, Bytes)]);

impl Extractor for RecordHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let (_, value) = self.0.iter().find(|(k, _)| k == key)?;
        std::str::from_utf8(value).ok()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// The W3C headers (`traceparent`, `tracestate`) of the current span; empty
/// when there is no valid current trace context.
pub fn current_headers() -> HashMap<String, String> {
    let mut map = HashMap::new();
    let cx = Span::current().context();
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&cx, &mut map);
    }
    map
}

/// The current span's `traceparent`, if there is a valid trace context.
pub fn current_traceparent() -> Option<String> {
    current_headers().remove("traceparent")
}

/// Adds the current trace context to an outbound request; without one, the
/// `fallback` traceparent (e.g. the event's own) is passed on unchanged.
pub fn propagate_http(request: RequestBuilder, fallback: Option<&str>) -> RequestBuilder {
    let headers = current_headers();
    if headers.is_empty() {
        return match fallback {
            Some(tp) if !tp.is_empty() => request.header("traceparent", tp),
            _ => request,
        };
    }
    headers
        .into_iter()
        .fold(request, |request, (k, v)| request.header(k, v))
}

/// Adds the current trace context to the headers of a record the service
/// produces.
pub fn kafka_headers(mut headers: OwnedHeaders) -> OwnedHeaders {
    for (key, value) in current_headers() {
        headers = headers.insert(Header {
            key: &key,
            value: Some(value.as_str()),
        });
    }
    headers
}

/// The current trace context as an envelope `trace` field, for events the
/// service produces.
pub fn envelope_trace() -> Option<TraceContext> {
    let mut headers = current_headers();
    let traceparent = headers.remove("traceparent")?;
    Some(TraceContext {
        traceparent,
        tracestate: headers.remove("tracestate").unwrap_or_default(),
    })
}
