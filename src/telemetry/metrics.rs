//! The process-wide metrics registry, its families, and the text rendering.
//!
//! Only [`super::events`] writes to these families; the HTTP server renders
//! them. Per-event series carry a `flavor` label, so runs of distinct flavors
//! in one process (tests) never share a series.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A flavor.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FlavorLabels {
    /// The flavor name.
    pub flavor: &'static str,
}

/// A flavor and a source topic.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabels {
    /// The flavor name.
    pub flavor: &'static str,
    /// The source topic.
    pub topic: String,
}

/// A final outcome (or a retry) and its reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// The flavor name.
    pub flavor: &'static str,
    /// `success`, `skip`, `retry`, `discard` or `invalid`.
    pub outcome: &'static str,
    /// The skip or dead-letter reason; empty for success and retry.
    pub reason: String,
}

/// A flavor and a dead-letter reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// The flavor name.
    pub flavor: &'static str,
    /// `invalid`, `discarded` or `retries-exhausted`.
    pub reason: &'static str,
}

/// A flavor and how its handler is called.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModeLabels {
    /// The flavor name.
    pub flavor: &'static str,
    /// `single` or `batch`.
    pub mode: &'static str,
}

/// A consumer group.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GroupLabels {
    /// The consumer group id.
    pub group: String,
}

/// One partition as a consumer group reads it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    /// The consumer group id.
    pub group: String,
    /// The topic.
    pub topic: String,
    /// The partition number.
    pub partition: i32,
}

/// An outbound dependency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DependencyLabels {
    /// The dependency name (`jira`, `logs-intake`, ...).
    pub dependency: String,
}

/// An outbound request's dependency and result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The dependency name.
    pub dependency: &'static str,
    /// The HTTP status code, or `error` when no response came.
    pub status: String,
}

/// A rules load's result (`applied`, `rejected`, `unreadable`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RulesLoadLabels {
    /// The result.
    pub result: &'static str,
}

/// A project's rules version in force.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RulesVersionLabels {
    /// The project key.
    pub project: String,
    /// Its file's content hash.
    pub version: String,
}

/// A timer firing's result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TimerLabels {
    /// The flavor name.
    pub flavor: &'static str,
    /// `fired`, `skipped`, `retry`, `dead`, `released` or `expired`.
    pub result: &'static str,
}

/// A delivery attempt's result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// The flavor name.
    pub flavor: &'static str,
    /// See [`crate::telemetry::events::DeliveryResult`].
    pub result: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric family of the service.
pub struct Metrics {
    registry: Registry,
    pub(crate) records: Family<TopicLabels, Counter>,
    pub(crate) events: Family<OutcomeLabels, Counter>,
    pub(crate) handler_seconds: HistogramFamily<ModeLabels>,
    pub(crate) end_to_end_seconds: HistogramFamily<FlavorLabels>,
    pub(crate) batch_size: HistogramFamily<FlavorLabels>,
    pub(crate) in_flight: Family<FlavorLabels, Gauge>,
    pub(crate) paused: Family<FlavorLabels, Gauge>,
    pub(crate) lag: Family<PartitionLabels, Gauge>,
    pub(crate) commits: Family<GroupLabels, Counter>,
    pub(crate) commit_failures: Family<GroupLabels, Counter>,
    pub(crate) dlq_writes: Family<ReasonLabels, Counter>,
    pub(crate) dlq_failures: Family<ReasonLabels, Counter>,
    pub(crate) breaker: Family<DependencyLabels, Gauge>,
    pub(crate) http_requests: Family<HttpLabels, Counter>,
    pub(crate) http_seconds: HistogramFamily<DependencyLabels>,
    pub(crate) maintenance: Family<FlavorLabels, Gauge>,
    pub(crate) rules_loads: Family<RulesLoadLabels, Counter>,
    pub(crate) rules_version: Family<RulesVersionLabels, Gauge>,
    pub(crate) timer_firings: Family<TimerLabels, Counter>,
    pub(crate) timer_lateness: HistogramFamily<FlavorLabels>,
    pub(crate) delivery_attempts: Family<DeliveryLabels, Counter>,
    pub(crate) delivery_latency: HistogramFamily<FlavorLabels>,
    pub(crate) delivery_waiting: Family<FlavorLabels, Gauge>,
    pub(crate) delivery_over_depth: Family<FlavorLabels, Gauge>,
    pub(crate) delivery_disabled: Family<FlavorLabels, Gauge>,
}

fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

fn end_to_end_buckets() -> Histogram {
    Histogram::new([
        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
    ])
}

fn size_buckets() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 12))
}

impl Metrics {
    fn new() -> Self {
        let mut m = Self {
            registry: Registry::with_prefix("ceh"),
            records: Family::default(),
            events: Family::default(),
            handler_seconds: Family::new_with_constructor(latency_buckets),
            end_to_end_seconds: Family::new_with_constructor(end_to_end_buckets),
            batch_size: Family::new_with_constructor(size_buckets),
            in_flight: Family::default(),
            paused: Family::default(),
            lag: Family::default(),
            commits: Family::default(),
            commit_failures: Family::default(),
            dlq_writes: Family::default(),
            dlq_failures: Family::default(),
            breaker: Family::default(),
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(latency_buckets),
            maintenance: Family::default(),
            rules_loads: Family::default(),
            rules_version: Family::default(),
            timer_firings: Family::default(),
            timer_lateness: Family::new_with_constructor(end_to_end_buckets),
            delivery_attempts: Family::default(),
            delivery_latency: Family::new_with_constructor(end_to_end_buckets),
            delivery_waiting: Family::default(),
            delivery_over_depth: Family::default(),
            delivery_disabled: Family::default(),
        };
        m.register();
        m
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "records_received",
            "Records read from the source",
            self.records.clone(),
        );
        r.register(
            "events",
            "Events by outcome: success, skip, retry (scheduled), discard and invalid (dead-lettered); reason names the skip or dead-letter reason",
            self.events.clone(),
        );
        r.register(
            "handler_duration_seconds",
            "Duration of one handler call (one event, or one batch)",
            self.handler_seconds.clone(),
        );
        r.register(
            "end_to_end_latency_seconds",
            "Completion time minus the event's occurred_at",
            self.end_to_end_seconds.clone(),
        );
        r.register(
            "batch_size",
            "Events per batch handler call",
            self.batch_size.clone(),
        );
        r.register(
            "in_flight_events",
            "Events read and not yet complete",
            self.in_flight.clone(),
        );
        r.register(
            "paused_partitions",
            "Partitions paused at the source (backoff or in-flight limit)",
            self.paused.clone(),
        );
        r.register("kafka_consumer_lag", "Messages between the committed offset and the end of the partition (librdkafka statistics)", self.lag.clone());
        r.register(
            "kafka_commits",
            "Successful offset commits",
            self.commits.clone(),
        );
        r.register(
            "kafka_commit_failures",
            "Failed offset commits",
            self.commit_failures.clone(),
        );
        r.register(
            "dlq_writes",
            "Records written to the dead-letter topic, by reason",
            self.dlq_writes.clone(),
        );
        r.register(
            "dlq_write_failures",
            "Failed dead-letter writes, by reason",
            self.dlq_failures.clone(),
        );
        r.register(
            "breaker_state",
            "Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open",
            self.breaker.clone(),
        );
        r.register(
            "http_requests",
            "Outbound HTTP requests by dependency and status",
            self.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Outbound HTTP request duration",
            self.http_seconds.clone(),
        );
        r.register(
            "maintenance_window",
            "1 while a maintenance window holds the flavor's effects",
            self.maintenance.clone(),
        );
        r.register(
            "rules_loads",
            "Loads of the rules directory by result: applied, rejected (invalid; the previous rules stay in force), unreadable",
            self.rules_loads.clone(),
        );
        r.register(
            "rules_version_info",
            "1 per project for the version (content hash) of its rules file in force",
            self.rules_version.clone(),
        );
        r.register(
            "timer_firings",
            "Durable timer firings by result: fired, skipped (by the flavor, or moved, cancelled or taken over since claimed), retry, dead (permanent failure or retries exhausted), released (revoked or stopping before it ran), expired (waited in its lane until its claim could run out; claimed again)",
            self.timer_firings.clone(),
        );
        r.register(
            "timer_lateness_seconds",
            "Due time to the start of each attempt at a timer's firing",
            self.timer_lateness.clone(),
        );
        r.register(
            "delivery_attempts",
            "Delivery attempts by result: delivered, retry (failed, due again after the backoff), dead (refused, or past the retry horizon), disabled (its destination was disabled), stale (its lease ran out and another worker took it over)",
            self.delivery_attempts.clone(),
        );
        r.register(
            "delivery_latency_seconds",
            "From the enqueueing event's time to its delivery",
            self.delivery_latency.clone(),
        );
        r.register(
            "delivery_waiting_rows",
            "Rows waiting in the flavor's delivery queue (all destinations), at the last depth check",
            self.delivery_waiting.clone(),
        );
        r.register(
            "delivery_queues_over_depth",
            "Destinations whose queue is over runtime.deliveries.max_depth (alert when above 0)",
            self.delivery_over_depth.clone(),
        );
        r.register(
            "delivery_destinations_disabled",
            "Destinations disabled (after a 410 or a long run of failures) at the last depth check",
            self.delivery_disabled.clone(),
        );
    }
}

/// Counts a load of the rules directory (`src/rules/watch.rs`).
pub(crate) fn rules_loaded(result: &'static str) {
    metrics()
        .rules_loads
        .get_or_create(&RulesLoadLabels { result })
        .inc();
}

/// Replaces the per-project rules versions in force.
pub(crate) fn rules_in_force<'a>(versions: impl Iterator<Item = (&'a str, &'a str)>) {
    let family = &metrics().rules_version;
    family.clear();
    for (project, version) in versions {
        let labels = RulesVersionLabels {
            project: project.to_owned(),
            version: version.to_owned(),
        };
        family.get_or_create(&labels).set(1);
    }
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Every metric in the OpenMetrics text format (which Prometheus scrapes).
pub fn render() -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode_registry(&mut out, &metrics().registry);
    super::declared::render_into(&mut out);
    let _ = prometheus_client::encoding::text::encode_eof(&mut out);
    out
}

/// The value of the sample `name` whose labels include every one of `labels`,
/// read from a rendering such as [`render`]'s. For tests and tools.
pub fn find(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            let body = rest.strip_suffix('}')?;
            let wanted = metric == name && labels.iter().all(|(k, v)| has_label(body, k, v));
            if wanted {
                value.parse().ok()
            } else {
                None
            }
        })
}

/// Whether a label body `a="x",b="y"` holds `key="value"` as a whole pair.
fn has_label(body: &str, key: &str, value: &str) -> bool {
    let pair = format!("{key}=\"{value}\"");
    body.match_indices(&pair).any(|(at, _)| {
        let end = at + pair.len();
        (at == 0 || body[..at].ends_with(','))
            && (end == body.len() || body[end..].starts_with(','))
    })
}
