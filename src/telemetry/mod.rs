//! Logs, metrics, traces and health.
//!
//! - [`events`]: the named events the runtime emits; each writes its log line
//!   and its metrics together. Nothing else writes metrics.
//! - [`metrics`]: the process-wide registry, rendered on `GET /metrics`.
//! - [`trace`]: one span per event, parented on the producer's trace context,
//!   propagated into outbound HTTP and produced events; [`otlp`] exports them.
//! - [`health`]: liveness (`/healthz`) and readiness (`/readyz`).
//! - [`server`]: the HTTP server that serves all of it, plus flavor routes.

mod at;
pub mod declared;
pub mod events;
pub mod health;
pub mod log_filter;
pub mod metrics;
pub mod otlp;
pub mod server;
pub mod trace;

#[cfg(test)]
mod tests;

use std::io::IsTerminal;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::settings::{LogFormat, TelemetrySettings};
pub use at::{At, TpText};
pub use health::{require_dependency, Assignment, Health, Heartbeat, Ping};

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
static EXPORTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether traces are exported (OTLP configured and its exporter built). The
/// runtime builds per-event spans only then: without an exporter they would
/// cost CPU on every event and go nowhere.
pub fn exporting() -> bool {
    EXPORTING.load(std::sync::atomic::Ordering::Relaxed)
}

/// Installs the global subscriber: logs to stderr (JSON or pretty, filter
/// from `RUST_LOG`, else `telemetry.log_level`, see [`log_filter`]) and this crate's spans to
/// OpenTelemetry (exported over OTLP when `telemetry.otlp` is set). Call it
/// inside the async runtime; a second call does nothing.
pub fn init_logs(settings: &TelemetrySettings) {
    let from_env = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let filter = from_env
        .and_then(|text| log_filter::parse(&text).ok())
        .or_else(|| log_filter::parse(&settings.log_level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let json = match settings.log_format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = if json {
        fmt.json().flatten_event(true).boxed()
    } else {
        fmt.compact().boxed()
    };
    let (provider, export_error) = match otlp::provider(settings.otlp.as_ref()) {
        Ok(provider) => (provider, None),
        Err(err) => (otlp::provider(None).unwrap_or_default(), Some(err)),
    };
    let tracer = provider.tracer(otlp::SERVICE_NAME);
    // Only this crate's spans and events: the exporter's own HTTP stack must
    // never feed back into it.
    let ours = Targets::new().with_target("case_event_handler", Level::INFO);
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(ours);
    // The per-event and per-batch spans are for traces only: recording their
    // fields in the log layer re-serializes them on every record call, which
    // cost ~45% of the runtime's CPU per event (BENCHMARKS.md, scenario 1).
    // The level filter's hint is repeated here (a filter without a hint lifts
    // the whole subscriber's to TRACE): `log` records below it (rdkafka's
    // wrapper logs per message at trace) then stop at `log::max_level()`
    // instead of reaching tracing, per message.
    let hint = filter
        .max_level_hint()
        .unwrap_or(tracing_subscriber::filter::LevelFilter::TRACE);
    let not_event_spans = tracing_subscriber::filter::filter_fn(move |meta| {
        *meta.level() <= hint && !(meta.is_span() && matches!(meta.name(), "event" | "batch"))
    })
    .with_max_level_hint(hint);
    let installed = tracing_subscriber::registry()
        .with(fmt.with_filter(filter).with_filter(not_event_spans))
        .with(otel)
        .try_init()
        .is_ok();
    if installed {
        let _ = PROVIDER.set(provider);
        let exports = settings.otlp.is_some() && export_error.is_none();
        EXPORTING.store(exports, std::sync::atomic::Ordering::Relaxed);
    }
    if let Some(err) = export_error {
        tracing::error!(error = %err, "trace export disabled: the OTLP exporter could not be built");
    }
}

/// Flushes and stops trace export (blocks up to a few seconds).
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        let _ = provider.shutdown_with_timeout(Duration::from_secs(5));
    }
}

/// Reports a circuit breaker's state: the `ceh_breaker_state` gauge, a log
/// line on change, and readiness (an open breaker of a required dependency
/// makes `/readyz` fail).
/// `state` is the state's name (`closed`, `half-open`, `open`), `gauge`
/// its gauge value (0, 1, 2).
pub fn breaker_state(dependency: &str, state: &'static str, gauge: i64) {
    let previous = health::set_breaker(dependency, state);
    events::BreakerChanged {
        dependency,
        state,
        gauge,
        previous,
    }
    .emit();
}

/// Reports whether a maintenance window holds `flavor`'s effects.
pub fn maintenance_window(flavor: &'static str, active: bool) {
    events::MaintenanceWindow { flavor, active }.emit();
}

/// The telemetry server of a running flavor, and what its probes watch.
pub struct Served {
    /// The probes' view of the flavor; watch the source once it runs.
    pub health: Arc<Health>,
    server: Option<server::Server>,
}

/// Starts the telemetry server on `telemetry.http_addr`, with the flavor's
/// routes mounted beside `/metrics`, `/healthz` and `/readyz`. An address
/// that cannot be bound is logged, and the flavor runs without the server
/// (its probes then fail, which is what an orchestrator acts on).
pub async fn serve(
    settings: &TelemetrySettings,
    store: Option<Arc<dyn Ping>>,
    routes: Option<axum::Router>,
) -> Served {
    let timeout = Duration::from_secs(u64::from(settings.liveness_timeout_secs));
    let health = Arc::new(Health::new(timeout, store));
    let addr = settings.http_addr;
    let server = match server::start(addr, health.clone(), routes).await {
        Ok(server) => Some(server),
        Err(err) => {
            tracing::error!(%addr, error = %err, "telemetry.http_addr cannot be bound; running without /metrics, /healthz and /readyz");
            None
        }
    };
    Served { health, server }
}

impl Served {
    /// The address the server listens on, if it runs.
    pub fn addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref().map(server::Server::addr)
    }

    /// Stops the server.
    pub async fn stop(self) {
        if let Some(server) = self.server {
            server.stop().await;
        }
    }
}
