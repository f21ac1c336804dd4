//! Wiring: settings → store, flavor, DLQ, source → runtime. Used by the CLI.

mod expiry;
pub mod kafka;
pub mod live;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::flavors::kit::{delivery, EventPublisher, InboundRoute};
use crate::flavors::{self, BuildCtx, FlavorSpec};
use crate::rules::{Rules, RulesView};
use crate::runtime::deliveries::{Deliveries, DeliveryConfig};
use crate::runtime::dlq::{DeadLetterSink, DlqClaims, KafkaDlq};
use crate::runtime::live::Live;
use crate::runtime::policy::{
    BatchLimits, DlqPolicy, OnExhausted, Ordering, RetryPolicy, RuntimeConfig, TimerPolicy,
};
use crate::runtime::{RunSummary, Runtime};
use crate::settings::TelemetrySettings;
use crate::settings::{self, Problem, RuntimeSettings, Settings};
use crate::source::file::{self, FileControl, FileInput};
use crate::source::kafka::{start_group, KafkaSourceConfig};
use crate::source::SourceControl;
use crate::store::Store;
use crate::telemetry;

/// Where a run reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// The flavor's consumer group on the configured topics.
    Kafka,
    /// A file or stdin.
    File(FileInput),
}

impl SourceSpec {
    /// Parses `kafka`, `file:PATH` or `stdin`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        if spec == "kafka" {
            return Ok(SourceSpec::Kafka);
        }
        FileInput::parse(spec)
            .map(SourceSpec::File)
            .ok_or_else(|| format!("unknown source '{spec}' (expected kafka, file:PATH or stdin)"))
    }
}

/// The runtime knobs for one flavor, from settings.
pub fn runtime_config(rt: &RuntimeSettings) -> RuntimeConfig {
    RuntimeConfig {
        ordering: match rt.ordering {
            settings::OrderingMode::Key => Ordering::Key,
            settings::OrderingMode::Partition => Ordering::Partition,
        },
        max_in_flight: rt.max_in_flight as usize,
        buffer_records: rt.buffer.max_records as usize,
        buffer_bytes: usize::try_from(rt.buffer.max_bytes).unwrap_or(usize::MAX),
        handler_timeout: rt.handler_timeout(),
        shutdown_grace: rt.shutdown_grace(),
        drain_timeout: rt.drain_timeout(),
        retry: RetryPolicy {
            initial: rt.retry.initial_backoff(),
            max: rt.retry.max_backoff(),
            max_attempts: rt.retry.max_attempts,
            max_elapsed: rt.retry.max_elapsed(),
            on_exhausted: match rt.retry.on_exhausted {
                settings::OnExhausted::Crash => OnExhausted::Crash,
                settings::OnExhausted::DeadLetter => OnExhausted::DeadLetter,
            },
        },
        dlq: DlqPolicy {
            enabled: rt.dlq.enabled,
            topic_template: rt.dlq.topic.clone(),
            max_ratio: rt.dlq.max_ratio,
            window: rt.dlq.window as usize,
            min_events: rt.dlq.min_events as usize,
        },
        batch: BatchLimits {
            max_events: rt.batch.max_events as usize,
            max_bytes: rt.batch.max_bytes as usize,
            max_wait: rt.batch.max_wait(),
        },
        live: None,
        timers: None,
    }
}

/// Errors of wiring a run (before any event is handled).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The store could not be opened.
    #[error("store {url}: {source}")]
    Store {
        /// The URL with its password masked.
        url: String,
        /// Why.
        source: crate::store::StoreError,
    },
    /// The flavor could not be built.
    #[error(transparent)]
    Flavor(#[from] flavors::BuildError),
    /// `rules.dir` is set and does not hold valid rules.
    #[error("rules directory {}: {source}", dir.display())]
    Rules {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        source: crate::rules::RulesError,
    },
    /// A Kafka client could not be created.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// A timer flavor's claim would not outlive its handler timeout.
    #[error(
        "flavor {flavor}: runtime.timers.lease_ms ({lease_ms}) must exceed \
         runtime.handler_timeout_ms ({timeout_ms}): a firing must end inside its claim"
    )]
    TimerLease {
        /// The flavor.
        flavor: &'static str,
        /// The lease.
        lease_ms: u64,
        /// The handler timeout.
        timeout_ms: u64,
    },
    /// The Kafka source could not start.
    #[error(transparent)]
    Source(#[from] crate::source::kafka::KafkaSourceError),
    /// The flavor has inbound routes and its HTTP listener could not bind.
    #[error("telemetry.http_addr {addr} cannot be bound, so the flavor's inbound routes ({}) would not be served", paths.join(", "))]
    RoutesUnserved {
        /// The address.
        addr: std::net::SocketAddr,
        /// The paths of the routes.
        paths: Vec<&'static str>,
    },
}

/// Opens the configured store.
pub async fn open_store(settings: &Settings) -> Result<Store, SetupError> {
    Store::open(&settings.store)
        .await
        .map_err(|e| SetupError::Store {
            url: e.url,
            source: e.source,
        })
}

/// A flavor ready to run: its runtime and any extra HTTP routes.
pub struct Prepared {
    /// The pipeline.
    pub runtime: Runtime,
    /// Routes to mount on the flavor's HTTP server (inbound webhooks).
    pub routes: Vec<InboundRoute>,
    /// The delivery worker of a flavor that delivers (consumer groups only).
    pub deliveries: Option<Deliveries>,
}

/// Loads `rules.dir` when it is set (it must be valid: a flavor never
/// starts on invalid rules), logging the secrets it names that are not
/// configured: the rules, to poll, and the view flavors get through
/// `BuildCtx::rules`.
pub fn load_rules(settings: &Settings) -> Result<Option<(Arc<Rules>, RulesView)>, SetupError> {
    let Some(dir) = &settings.rules.dir else {
        return Ok(None);
    };
    let rules = Rules::load(dir).map_err(|source| SetupError::Rules {
        dir: dir.clone(),
        source,
    })?;
    let version = rules.snapshot().version().to_owned();
    tracing::info!(dir = %dir.display(), %version, "rules loaded");
    let resolver = crate::rules::SecretResolver::new(&settings.rules);
    for (file, path, error) in rules.snapshot().unresolved_secrets(&resolver) {
        tracing::warn!(%file, %path, %error, "a secret the rules name is not configured");
    }
    let view = rules.view(resolver);
    Ok(Some((Arc::new(rules), view)))
}

/// Builds the runtime of one flavor (store, handler, DLQ writer) with the
/// rules in force (`rules`, from [`load_rules`]). Without `use_kafka` (file
/// sources) no producer is made: nothing connects to a broker.
pub async fn build_runtime(
    settings: &Settings,
    spec: &'static FlavorSpec,
    store: Store,
    use_kafka: bool,
    rules: Option<RulesView>,
) -> Result<Prepared, SetupError> {
    let producer = if settings.kafka.brokers.is_empty() || !use_kafka {
        None
    } else {
        Some(kafka::producer(&settings.kafka)?)
    };
    let publisher = producer
        .clone()
        .map(|p| EventPublisher::new(p, &settings.kafka, spec.name));
    let queue = delivery::Queue::default();
    let ctx = BuildCtx::new(spec, settings, Some(store.clone()), publisher)
        .with_rules(rules)
        .with_queue(queue.clone());
    let built = (spec.build)(ctx).await?;
    built.check(spec)?;
    let runtime_settings = settings.runtime_for(spec.name);
    // Any replica delivers any row; a file run only enqueues.
    let deliveries = (built.deliverer.clone())
        .filter(|_| use_kafka)
        .map(|deliverer| Deliveries {
            flavor: spec.name,
            pool: store.pool().clone(),
            deliverer,
            queue,
            config: DeliveryConfig::new(
                &runtime_settings.deliveries,
                runtime_settings.shutdown_grace(),
            ),
            clock: Arc::new(crate::resilience::maintenance::SystemClock),
        });
    let mut config = runtime_config(&runtime_settings);
    if use_kafka && spec.fires_timers() {
        // Timers fire on the partitions a consumer group assigns (a file
        // run replays records and fires none).
        let t = &runtime_settings.timers;
        if t.lease_ms <= runtime_settings.handler_timeout_ms {
            return Err(SetupError::TimerLease {
                flavor: spec.name,
                lease_ms: t.lease_ms,
                timeout_ms: runtime_settings.handler_timeout_ms,
            });
        }
        config.timers = Some(TimerPolicy {
            poll_every: Duration::from_millis(t.poll_ms),
            batch: t.batch as usize,
            lease: Duration::from_millis(t.lease_ms),
            ..TimerPolicy::new(config.handler_timeout)
        });
    }
    let clock = Arc::new(crate::resilience::maintenance::SystemClock);
    let live = Arc::new(Live::new(
        spec.name,
        spec.dependency_names(),
        clock,
        config.retry.clone(),
    ));
    live::apply(settings, spec.name, &live);
    config.live = Some(live);
    let dlq = producer.map(|p| {
        let claims = DlqClaims::new(store.clone(), kafka::base_properties(&settings.kafka));
        let dlq = KafkaDlq::new(p, config.dlq.clone()).with_claims(claims);
        Arc::new(dlq) as Arc<dyn DeadLetterSink>
    });
    let runtime = Runtime {
        flavor: spec.name,
        processor: built.processor,
        consumes: spec.consumes,
        store: Some(store),
        dlq,
        config,
        progress: Default::default(),
    };
    Ok(Prepared {
        runtime,
        routes: built.routes,
        deliveries,
    })
}

/// Every problem of the flavor sections, by key path: each configured
/// flavor's section parsed and checked as its config type, sections of
/// flavors that do not exist, and `breakers.<name>` / `rate_limits.<name>`
/// naming no declared dependency. Empty when all is well.
pub fn check_flavor_sections(settings: &Settings) -> Vec<Problem> {
    let mut problems = Vec::new();
    for name in settings.flavors.keys() {
        match flavors::find(name) {
            Ok(spec) => problems.extend(spec.config.check(settings, spec.name)),
            Err(unknown) => {
                problems.push(Problem::new(format!("flavors.{name}"), unknown.to_string()))
            }
        }
    }
    let declared = flavors::dependency_names();
    let named = (settings.breakers.keys().map(|n| ("breakers", n)))
        .chain(settings.rate_limits.keys().map(|n| ("rate_limits", n)));
    for (section, name) in named {
        if !declared.contains(&name.as_str()) {
            let message = format!(
                "no flavor has a dependency '{name}'; declared: {}",
                declared.join(", ")
            );
            problems.push(Problem::new(format!("{section}.{name}"), message));
        }
    }
    problems
}

/// Runs one flavor over a source until it ends, `shutdown` fires, or a fatal
/// error. With `reload`, the configuration files are watched (and SIGHUP
/// reloads them): flags, maintenance windows, breakers and retry budgets
/// change without a restart. With `rules.dir`, the rules directory is
/// loaded first (it must be valid), handed to the flavor's build, and
/// polled every `rules.reload_secs`.
pub async fn run(
    settings: &Settings,
    spec: &'static FlavorSpec,
    source: SourceSpec,
    reload: Option<crate::settings::LoadOptions>,
    shutdown: CancellationToken,
) -> anyhow::Result<RunSummary> {
    // Every replica reads the same rules directory and polls it for changes.
    let rules = load_rules(settings)?;
    let store = open_store(settings).await?;
    let edges = (rules.as_ref().filter(|_| spec.reads_rules)).map(|(_, view)| expiry::EdgeExpiry {
        edges: crate::flavors::kit::edge::Edges::new(spec.name),
        rules: view.clone(),
        closed_ttl: Duration::from_secs(settings.rules.edges_closed_ttl_days * 86_400),
    });
    expiry::spawn(
        store.clone(),
        settings.store.ledger_ttl(),
        edges,
        shutdown.clone(),
    );
    let use_kafka = source == SourceSpec::Kafka;
    let view = rules.as_ref().map(|(_, view)| view.clone());
    let Prepared {
        mut runtime,
        routes,
        deliveries,
    } = build_runtime(settings, spec, store, use_kafka, view).await?;
    let stop_deliveries = shutdown.child_token();
    let deliveries = deliveries.map(|d| tokio::spawn(d.run(stop_deliveries.clone())));
    let ping = (runtime.store.clone()).map(|s| Arc::new(s) as Arc<dyn telemetry::Ping>);
    let served = serve(&settings.telemetry, ping, routes).await?;
    if let (Some(opts), Some(live)) = (reload, runtime.config.live.clone()) {
        live::spawn(
            opts,
            settings.clone(),
            spec.name,
            live,
            RELOAD_POLL,
            shutdown.clone(),
        );
    }
    if let Some((rules, _)) = rules {
        let every = Duration::from_secs(settings.rules.reload_secs);
        crate::rules::watch::spawn(rules, every, shutdown.clone());
    }
    let (tx, rx) = runtime.config.channels();
    let control: Arc<dyn SourceControl> = match source {
        SourceSpec::Kafka => {
            let config = KafkaSourceConfig {
                properties: kafka::consumer_properties(settings, spec.name),
                topics: settings.kafka.topics.clone(),
                drain_timeout: runtime.config.drain_timeout,
            };
            let control = start_group(&config, tx)?;
            served
                .health
                .watch_source(control.heartbeat(), control.clone());
            control
        }
        SourceSpec::File(input) => {
            runtime.dlq = Some(Arc::new(file::FileDeadLetters::for_input(
                &input, spec.name,
            )));
            tokio::spawn(file::run(input, tx));
            Arc::new(FileControl::default())
        }
    };
    tracing::info!(flavor = spec.name, "running");
    let result = runtime.run(rx, control, shutdown).await;
    stop_deliveries.cancel();
    if let Some(worker) = deliveries {
        if let Err(err) = worker.await {
            tracing::error!(error = %err, "the delivery worker failed");
        }
    }
    served.stop().await;
    Ok(result?)
}

/// Starts the flavor's HTTP server with its routes. Without routes an
/// address that cannot be bound is only logged (the probes then fail); a
/// flavor with inbound routes refuses to run without them.
pub async fn serve(
    settings: &TelemetrySettings,
    ping: Option<Arc<dyn telemetry::Ping>>,
    routes: Vec<InboundRoute>,
) -> Result<telemetry::Served, SetupError> {
    let paths: Vec<&'static str> = routes.iter().map(|r| r.spec.path).collect();
    let router = InboundRoute::merge_all(routes);
    let served = telemetry::serve(settings, ping, router).await;
    if !paths.is_empty() && served.addr().is_none() {
        return Err(SetupError::RoutesUnserved {
            addr: settings.http_addr,
            paths,
        });
    }
    Ok(served)
}

/// How often the config files are checked for changes.
const RELOAD_POLL: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests;
