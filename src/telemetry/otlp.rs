//! The OpenTelemetry tracer provider and its OTLP exporter (gRPC or
//! HTTP/protobuf).
//!
//! Export never slows event handling: finished spans go into a bounded queue
//! that a dedicated thread drains in batches; when the collector is slow or
//! gone, the queue fills and further spans are dropped.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::ClientTlsConfig;
use opentelemetry_otlp::{
    ExporterBuildError, Protocol, SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use opentelemetry_sdk::Resource;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::settings::{OtlpProtocol, OtlpSettings};

/// The `service.name` of exported spans.
pub const SERVICE_NAME: &str = "case-event-handler";

/// Longest one export request may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Finished spans waiting for export; past this, spans are dropped.
const MAX_QUEUE: usize = 4096;
/// Spans per export request.
const MAX_BATCH: usize = 512;
/// How often the queue is drained.
const EXPORT_EVERY: Duration = Duration::from_millis(500);

/// A provider exporting to `otlp`, or, without it, one that exports nothing
/// (spans still get ids, so trace context still propagates).
pub fn provider(otlp: Option<&OtlpSettings>) -> Result<SdkTracerProvider, ExporterBuildError> {
    let resource = Resource::builder().with_service_name(SERVICE_NAME).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(otlp) = otlp else {
        return Ok(builder.build());
    };
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(MAX_QUEUE)
        .with_max_export_batch_size(MAX_BATCH)
        .with_scheduled_delay(EXPORT_EVERY)
        .build();
    let processor = BatchSpanProcessor::builder(exporter(otlp)?)
        .with_batch_config(config)
        .build();
    let ratio = Sampler::TraceIdRatioBased(otlp.sample_ratio);
    Ok(builder
        .with_sampler(Sampler::ParentBased(Box::new(ratio)))
        .with_span_processor(processor)
        .build())
}

fn exporter(otlp: &OtlpSettings) -> Result<SpanExporter, ExporterBuildError> {
    let headers: HashMap<String, String> = otlp
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), v.expose().to_string()))
        .collect();
    match otlp.protocol {
        OtlpProtocol::Grpc => {
            let mut builder = SpanExporter::builder()
                .with_tonic()
                .with_endpoint(otlp.endpoint.clone())
                .with_timeout(EXPORT_TIMEOUT)
                .with_metadata(metadata(&headers));
            if otlp.endpoint.starts_with("https://") {
                builder = builder.with_tls_config(ClientTlsConfig::new().with_webpki_roots());
            }
            builder.build()
        }
        OtlpProtocol::Http => SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(traces_url(&otlp.endpoint))
            .with_timeout(EXPORT_TIMEOUT)
            .with_headers(headers)
            .build(),
    }
}

fn metadata(headers: &HashMap<String, String>) -> MetadataMap {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v))
        {
            map.insert(name, value);
        }
    }
    MetadataMap::from_headers(map)
}

/// The traces URL of an OTLP/HTTP collector: a bare base URL gets the
/// standard `/v1/traces` path; a URL with a path is used as it is.
pub fn traces_url(endpoint: &str) -> String {
    let after_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(at) if after_scheme[at..] != *"/" => endpoint.to_string(),
        _ => format!("{}/v1/traces", endpoint.trim_end_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_endpoints_get_the_traces_path_only_when_bare() {
        assert_eq!(traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(
            traces_url("https://c/otlp/v1/traces"),
            "https://c/otlp/v1/traces"
        );
    }
}
