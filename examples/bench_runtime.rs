//! In-process benchmark driver for `make bench` (see `bench/run.py` and
//! BENCHMARKS.md). Not a test and not shipped.
//!
//! It runs the real runtime (`Runtime` over `source::kafka::start_group`, with
//! the settings, telemetry and consumer properties the binary uses) with a
//! benchmark handler, so that scenarios without a flavor of their own can be
//! measured:
//!
//! - `consume --handler noop`: framework overhead (decode, route, per-key
//!   scheduling, offset tracking, offset stores and commits; no store, no
//!   ledger);
//! - `consume --handler sleep`: key-ordered concurrency (each event sleeps a
//!   deterministic 0..=`--sleep-max-us`, drawn from a hash of its event id);
//! - `consume --handler timeline --latency`: the real timeline flavor, with
//!   each record's Kafka timestamp compared to the moment its offset was stored
//!   (the committable watermark passed it).
//!
//! The run ends when every partition's stored watermark reaches the end
//! offsets read before the start (or, with `--latency`, once `--expect`
//! offsets were stored); then the runtime stops as on SIGTERM (drain, final
//! synchronous commit). One JSON line with the measurements goes to stdout.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use async_trait::async_trait;
use clap::{Parser, Subcommand, ValueEnum};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use tokio_util::sync::CancellationToken;

use case_event_handler::app;
use case_event_handler::event::synth::{Synth, SynthSpec};
use case_event_handler::event::CaseEvent;
use case_event_handler::flavors;
use case_event_handler::handler::{Ctx, HandleResp, Handler, Processor};
use case_event_handler::runtime::record::Tp;
use case_event_handler::runtime::Runtime;
use case_event_handler::settings::{self, LoadOptions, Settings};
use case_event_handler::source::kafka::{start_group, KafkaSourceConfig};
use case_event_handler::source::{SourceControl, SourceMsg};
use case_event_handler::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "bench_runtime",
    about = "In-process benchmark driver (make bench)"
)]
struct Cli {
    /// Kafka bootstrap servers.
    #[arg(long, global = true, default_value = "127.0.0.1:9092")]
    brokers: String,
    /// Configuration environment (config/<ENV>.yaml), as the binary's --env.
    #[arg(long, global = true, default_value = "production")]
    env: String,
    /// Directory of base.yaml and the overlays.
    #[arg(long, global = true, default_value = "config")]
    config_dir: PathBuf,
    /// Store URL (required by the production overlay; opened only by `--handler timeline`).
    #[arg(
        long,
        global = true,
        default_value = "postgres://postgres@127.0.0.1:5432/ceh_test"
    )]
    store_url: String,
    /// Extra `key=value` settings, as the binary's --set.
    #[arg(long = "set", global = true)]
    overrides: Vec<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Deletes (if present) and creates a topic, and waits until it is usable.
    Topic {
        #[arg(long)]
        name: String,
        #[arg(long)]
        partitions: i32,
    },
    /// Publishes `--events` valid synthetic events whose key (and case id)
    /// cycles over `--keys` keys; `aggregate_version` is the sequence number.
    ProduceKeyed {
        #[arg(long)]
        topic: String,
        #[arg(long)]
        events: usize,
        #[arg(long)]
        keys: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Publishes `produce --synthetic`'s stream with more cases open at once
    /// (`produce` keeps 16 open: at most 16 keys can run concurrently).
    ProduceSynth {
        #[arg(long)]
        topic: String,
        #[arg(long)]
        events: usize,
        /// Cases with events still to come at any time (SynthSpec::max_open_cases).
        #[arg(long)]
        open_cases: usize,
        /// Events per second (0 = as fast as the broker takes them).
        #[arg(long, default_value_t = 0)]
        rate: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Runs the runtime over a topic with a benchmark handler; prints JSON.
    Consume(ConsumeArgs),
}

#[derive(Debug, clap::Args)]
struct ConsumeArgs {
    #[arg(long)]
    topic: String,
    #[arg(long, value_enum)]
    handler: HandlerKind,
    /// Consumer group (a fresh one reads the topic from the beginning).
    #[arg(long)]
    group: String,
    /// Sleep handler: the longest sleep, in microseconds.
    #[arg(long, default_value_t = 5_000)]
    sleep_max_us: u64,
    /// Sleep handler: sleep on tokio's timer (1 ms granularity, rounds up)
    /// instead of a thread sleep on the blocking pool.
    #[arg(long)]
    tokio_timer: bool,
    /// Measure per-record latency (Kafka record timestamp → offset stored).
    #[arg(long)]
    latency: bool,
    /// With --latency: stop after this many offsets were stored.
    #[arg(long)]
    expect: Option<u64>,
    /// With --latency: write "record timestamp ms<TAB>latency ms" per stored offset here.
    #[arg(long)]
    latency_out: Option<PathBuf>,
    /// Stop this many seconds after the partitions were assigned, done or not
    /// (with --latency: offsets not stored by then are reported as missing).
    #[arg(long)]
    max_secs: Option<u64>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HandlerKind {
    Noop,
    Sleep,
    Timeline,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let cli = Cli::parse();
    let settings = load_settings(&cli)?;
    match cli.cmd {
        Cmd::Topic { name, partitions } => recreate_topic(&cli.brokers, &name, partitions).await,
        Cmd::ProduceKeyed {
            topic,
            events,
            keys,
            seed,
        } => produce_keyed(&settings, &topic, events, keys, seed).await,
        Cmd::ProduceSynth {
            topic,
            events,
            open_cases,
            rate,
            seed,
        } => {
            let spec = SynthSpec {
                cases: events / 20,
                events_per_case: 20,
                max_open_cases: open_cases,
                ..SynthSpec::default()
            };
            let stream = Synth::new(seed, spec).map(Ok);
            let producer = app::kafka::producer(&settings.kafka)?;
            let sent =
                case_event_handler::cli::produce::publish(&producer, &topic, stream, rate).await?;
            eprintln!("published {sent} events to {topic}");
            Ok(())
        }
        Cmd::Consume(args) => consume(&settings, args, started).await,
    }
}

fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    let mut overrides = vec![
        format!("kafka.brokers={}", cli.brokers),
        format!("store.url={}", cli.store_url),
        // Never collide with a service or test on the default port.
        "telemetry.http_addr=127.0.0.1:0".to_string(),
    ];
    overrides.extend(cli.overrides.iter().cloned());
    settings::load(&LoadOptions {
        config_dir: cli.config_dir.clone(),
        env: cli.env.clone(),
        extra_file: None,
        overrides,
        env_vars: std::env::vars().collect(),
    })
    .map_err(|e| anyhow::anyhow!("settings: {e}"))
}

async fn recreate_topic(brokers: &str, name: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let _ = admin.delete_topics(&[name], &opts).await?;
    let probe: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
        let result = admin.create_topics([&topic], &opts).await?;
        match result.into_iter().next() {
            Some(Ok(_)) => break,
            // Deletion is asynchronous: the name may still be taken for a moment.
            Some(Err((_, code))) if Instant::now() < deadline => {
                eprintln!("create {name}: {code}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => anyhow::bail!("create {name}: {other:?}"),
        }
    }
    loop {
        let md = probe.fetch_metadata(Some(name), Duration::from_secs(5))?;
        let ready = md.topics().iter().any(|t| {
            t.error().is_none()
                && t.partitions().len() == partitions as usize
                && t.partitions().iter().all(|p| p.leader() >= 0)
        });
        if ready {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "topic {name} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("topic {name}: {partitions} partitions");
    Ok(())
}

async fn produce_keyed(
    settings: &Settings,
    topic: &str,
    events: usize,
    keys: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let spec = SynthSpec {
        cases: events.div_ceil(20),
        events_per_case: 20,
        ..SynthSpec::default()
    };
    let keys = keys.max(1);
    let stream = Synth::new(seed, spec)
        .take(events)
        .enumerate()
        .map(move |(i, mut ev)| {
            ev.case_id = format!("key-{:05}", i % keys);
            ev.aggregate_version = i as u64 + 1;
            Ok(ev)
        });
    let producer = app::kafka::producer(&settings.kafka)?;
    let sent = case_event_handler::cli::produce::publish(&producer, topic, stream, 0).await?;
    anyhow::ensure!(sent == events as u64, "published {sent} of {events}");
    Ok(())
}

/// Does nothing; notes when it was first called.
#[derive(Default)]
struct Noop {
    first: OnceLock<Instant>,
}

#[async_trait]
impl Handler for Noop {
    fn wants(&self, _event_type: &str) -> bool {
        true
    }

    async fn handle(&self, _ctx: &Ctx, _event: &CaseEvent) -> HandleResp {
        self.first.get_or_init(Instant::now);
        HandleResp::Success
    }
}

/// Sleeps a deterministic 0..=max_us per event and checks per-key order.
struct Sleepy {
    max_us: u64,
    tokio_timer: bool,
    first: OnceLock<Instant>,
    requested_us: AtomicU64,
    actual_us: AtomicU64,
    /// Last `aggregate_version` (sequence) handled per key, and order violations.
    order: Mutex<(HashMap<String, u64>, u64)>,
}

#[async_trait]
impl Handler for Sleepy {
    fn wants(&self, _event_type: &str) -> bool {
        true
    }

    async fn handle(&self, _ctx: &Ctx, event: &CaseEvent) -> HandleResp {
        self.first.get_or_init(Instant::now);
        {
            let mut order = self.order.lock().expect("order lock");
            let last = order
                .0
                .insert(event.case_id.clone(), event.aggregate_version);
            if last.is_some_and(|l| l >= event.aggregate_version) {
                order.1 += 1;
            }
        }
        let us = sleep_us(&event.event_id, self.max_us);
        let pause = Duration::from_micros(us);
        let t = Instant::now();
        if self.tokio_timer {
            tokio::time::sleep(pause).await;
        } else {
            // Precise to ~0.1 ms, like the Java experiment's Thread.sleep;
            // tokio's timer rounds every sleep up to the next millisecond.
            let _ = tokio::task::spawn_blocking(move || std::thread::sleep(pause)).await;
        }
        let took = t.elapsed().as_micros() as u64;
        self.requested_us.fetch_add(us, Ordering::Relaxed);
        self.actual_us.fetch_add(took, Ordering::Relaxed);
        HandleResp::Success
    }
}

/// Uniform in 0..=max_us, from the event id (SipHash with fixed keys).
fn sleep_us(event_id: &str, max_us: u64) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    event_id.hash(&mut h);
    h.finish() % (max_us + 1)
}

/// Wraps the Kafka source's control: sees every offset store, decides when
/// the run is done, and (with --latency) turns stores into per-record latencies.
struct Watch {
    inner: Arc<dyn SourceControl>,
    done: CancellationToken,
    state: Arc<Mutex<WatchState>>,
}

#[derive(Default)]
struct WatchState {
    /// End offset per partition (pre-filled topics).
    targets: HashMap<i32, i64>,
    /// Partitions whose watermark reached its target.
    reached: usize,
    /// With --latency: stop after this many stored offsets.
    expect: Option<u64>,
    /// Record timestamps (offset, ms) not yet passed by the watermark.
    pending: HashMap<i32, VecDeque<(i64, i64)>>,
    /// Per-record (Kafka timestamp ms, latency ms).
    latencies: Vec<(i64, f64)>,
    stores: u64,
    first_store: Option<Instant>,
    done_at: Option<Instant>,
}

impl Watch {
    /// Notes one stored watermark: latencies of the records it passed, and
    /// whether the run's target is reached.
    fn stored(&self, tp: &Tp, next_offset: i64) {
        let now = Instant::now();
        let mut s = self.state.lock().expect("watch lock");
        s.stores += 1;
        s.first_store.get_or_insert(now);
        if s.expect.is_some() {
            let now_us = unix_us();
            let mut passed = Vec::new();
            if let Some(q) = s.pending.get_mut(&tp.partition) {
                while q.front().is_some_and(|(o, _)| *o < next_offset) {
                    let (_, ts) = q.pop_front().expect("front");
                    passed.push((ts, (now_us - ts * 1000) as f64 / 1000.0));
                }
            }
            s.latencies.extend(passed);
            let expected = s.expect.unwrap_or(u64::MAX);
            if s.done_at.is_none() && s.latencies.len() as u64 >= expected {
                s.done_at = Some(now);
                self.done.cancel();
            }
        } else if s.targets.get(&tp.partition) == Some(&next_offset) {
            s.reached += 1;
            if s.reached == s.targets.len() && s.done_at.is_none() {
                s.done_at = Some(now);
                self.done.cancel();
            }
        }
    }
}

impl SourceControl for Watch {
    fn store(&self, marks: &[(Tp, i64)]) {
        self.inner.store(marks);
        for (tp, next_offset) in marks {
            self.stored(tp, *next_offset);
        }
    }

    fn pause(&self, tps: &[Tp]) {
        self.inner.pause(tps)
    }

    fn resume(&self, tps: &[Tp]) {
        self.inner.resume(tps)
    }

    fn assigned(&self) -> Vec<Tp> {
        self.inner.assigned()
    }

    fn close(&self) {
        self.inner.close()
    }
}

fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// User + system CPU seconds of this process so far.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 0, utime 11, stime 12 (clock ticks, 100/s).
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak and current resident set size, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// End offsets of every partition of `topic`, and its low watermarks' sum.
fn end_offsets(settings: &Settings, topic: &str) -> anyhow::Result<(HashMap<i32, i64>, i64)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &settings.kafka.brokers)
        .create()?;
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .context("topic not in metadata")?;
    let mut ends = HashMap::new();
    let mut records = 0;
    for p in t.partitions() {
        let (low, high) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10))?;
        records += high - low;
        if high > low {
            ends.insert(p.id(), high);
        }
    }
    Ok((ends, records))
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn consume(settings: &Settings, args: ConsumeArgs, started: Instant) -> anyhow::Result<()> {
    telemetry::init_logs(&settings.telemetry);
    let flavor: &'static str = match args.handler {
        HandlerKind::Timeline => "timeline",
        _ => "bench",
    };
    let noop = Arc::new(Noop::default());
    let sleepy = Arc::new(Sleepy {
        max_us: args.sleep_max_us,
        tokio_timer: args.tokio_timer,
        first: OnceLock::new(),
        requested_us: AtomicU64::new(0),
        actual_us: AtomicU64::new(0),
        order: Mutex::new((HashMap::new(), 0)),
    });
    let runtime = match args.handler {
        HandlerKind::Noop | HandlerKind::Sleep => {
            let processor = if args.handler == HandlerKind::Noop {
                Processor::Single(noop.clone())
            } else {
                Processor::Single(sleepy.clone())
            };
            Runtime {
                flavor,
                processor,
                store: None,
                dlq: None,
                config: app::runtime_config(&settings.runtime_for(flavor)),
                progress: Default::default(),
            }
        }
        HandlerKind::Timeline => {
            let spec = flavors::find("timeline")?;
            let store = app::open_store(settings).await?;
            app::build_runtime(settings, spec, store, true)
                .await?
                .runtime
        }
    };
    let (targets, records) = end_offsets(settings, &args.topic)?;
    let expect = if args.latency {
        Some(args.expect.context("--latency needs --expect")?)
    } else {
        anyhow::ensure!(records > 0, "topic {} is empty", args.topic);
        None
    };

    let (tx, rx) = runtime.config.channels();
    let first_record: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let state = Arc::new(Mutex::new(WatchState {
        targets: targets.clone(),
        expect,
        ..WatchState::default()
    }));
    let source_tx = if args.latency {
        // A forwarding hop that notes each record's Kafka timestamp before the
        // dispatcher sees the record (so before its offset can be stored).
        let (mid_tx, mut mid_rx) = tx.relay();
        let out = tx.clone();
        let (first, notes) = (first_record.clone(), state.clone());
        tokio::spawn(async move {
            while let Some(msg) = mid_rx.recv().await {
                if let SourceMsg::Records(chunk) = &msg {
                    first.get_or_init(Instant::now);
                    let mut s = notes.lock().expect("watch lock");
                    for r in chunk {
                        let ts = r.timestamp_ms.unwrap_or(0);
                        s.pending
                            .entry(r.tp.partition)
                            .or_default()
                            .push_back((r.offset, ts));
                    }
                }
                if out.send(msg).is_err() {
                    break;
                }
            }
        });
        mid_tx
    } else {
        tx.clone()
    };
    if std::env::var_os("BENCH_TRACE_CHANNEL").is_some() {
        // Diagnostics: how full the source → runtime channel is, and how many
        // offset stores happened so far, every 5 ms.
        let (probe, st) = (tx.credit.clone(), state.clone());
        let progress = runtime.progress.clone();
        tokio::spawn(async move {
            let t0 = Instant::now();
            loop {
                let queued = probe.taken();
                let stores = st.lock().map_or(0, |s| s.stores);
                eprintln!(
                    "channel {:>8.3} s {queued} stores {stores} completed {}",
                    t0.elapsed().as_secs_f64(),
                    progress.completed()
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
    drop(tx);
    let config = KafkaSourceConfig {
        properties: app::kafka::consumer_properties(settings, flavor)
            .into_iter()
            .chain([("group.id".to_string(), args.group.clone())])
            .collect(),
        topics: vec![args.topic.clone()],
        drain_timeout: runtime.config.drain_timeout,
    };
    let shutdown = CancellationToken::new();
    let kafka = start_group(&config, source_tx)?;
    let watch = Arc::new(Watch {
        inner: kafka,
        done: shutdown.clone(),
        state: state.clone(),
    });
    let ready: Arc<OnceLock<(Instant, f64)>> = Arc::new(OnceLock::new());
    {
        let (w, ready, stop) = (watch.clone(), ready.clone(), shutdown.clone());
        let max_secs = args.max_secs;
        tokio::spawn(async move {
            while w.assigned().is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let _ = ready.set((Instant::now(), cpu_secs()));
            println!("READY");
            if let Some(secs) = max_secs {
                tokio::time::sleep(Duration::from_secs(secs)).await;
                eprintln!("--max-secs {secs} reached");
                stop.cancel();
            }
        });
    }
    {
        let (stop, secs) = (shutdown.clone(), args.timeout_secs);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            eprintln!("timeout after {secs} s");
            stop.cancel();
        });
    }
    let progress = runtime.progress.clone();
    let stopped_at: Arc<OnceLock<(Instant, u64)>> = Arc::new(OnceLock::new());
    {
        // When --max-secs cuts a run short: when, and how many events were complete.
        let (stop, at, progress) = (shutdown.clone(), stopped_at.clone(), progress.clone());
        tokio::spawn(async move {
            stop.cancelled().await;
            let _ = at.set((Instant::now(), progress.completed()));
        });
    }
    let summary = runtime.run(rx, watch.clone(), shutdown).await;
    let ended = Instant::now();
    let cpu_end = cpu_secs();
    let (peak_kib, rss_kib_now) = rss_kib();
    let summary = summary.map_err(|e| anyhow::anyhow!("run failed: {e}"))?;

    let s = watch.state.lock().expect("watch lock");
    let first = match args.handler {
        HandlerKind::Noop => noop.first.get().copied(),
        HandlerKind::Sleep => sleepy.first.get().copied(),
        HandlerKind::Timeline => first_record.get().copied(),
    }
    .or(s.first_store);
    let since = |t: Option<Instant>| t.map(|t| t.duration_since(started).as_secs_f64());
    let done_at = s.done_at;
    let completed = done_at.is_some();
    // A run cut short by --max-secs is measured up to the cut, over the
    // events complete by then.
    let (end_at, events) = match (done_at, expect, stopped_at.get()) {
        (Some(at), Some(_), _) => (Some(at), s.latencies.len() as u64),
        (Some(at), None, _) => (Some(at), records as u64),
        (None, Some(_), _) => (None, s.latencies.len() as u64),
        (None, None, Some(&(at, n))) => (Some(at), n),
        (None, None, None) => (None, progress.completed()),
    };
    let processing = match (first, end_at) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => f64::NAN,
    };
    let (ready_at, cpu_ready) = ready.get().copied().unwrap_or((started, 0.0));
    if let Some(path) = &args.latency_out {
        let mut text = String::with_capacity(s.latencies.len() * 24);
        for (ts, ms) in &s.latencies {
            text.push_str(&format!("{ts}\t{ms:.3}\n"));
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut lat: Vec<f64> = s.latencies.iter().map(|(_, ms)| *ms).collect();
    lat.sort_by(f64::total_cmp);
    let lat = &lat;
    let order = sleepy.order.lock().expect("order lock");
    let out = serde_json::json!({
        "handler": format!("{:?}", args.handler).to_lowercase(),
        "topic": args.topic,
        "completed": completed,
        "events": events,
        "succeeded": summary.succeeded,
        "skipped": summary.skipped,
        "dead_lettered": summary.dead_lettered,
        "offset_stores": s.stores,
        "ready_s": ready_at.duration_since(started).as_secs_f64(),
        "first_record_s": since(first),
        "done_s": since(done_at),
        "end_s": ended.duration_since(started).as_secs_f64(),
        "processing_s": processing,
        "processing_plus_close_s": first.map(|a| ended.duration_since(a).as_secs_f64()),
        "events_per_s": events as f64 / processing,
        "cpu_total_s": cpu_end,
        "cpu_after_ready_s": cpu_end - cpu_ready,
        "peak_rss_kib": peak_kib,
        "rss_kib_at_end": rss_kib_now,
        "sleep_requested_s": sleepy.requested_us.load(Ordering::Relaxed) as f64 / 1e6,
        "sleep_actual_s": sleepy.actual_us.load(Ordering::Relaxed) as f64 / 1e6,
        "order_violations": order.1,
        "latency_ms": if lat.is_empty() { serde_json::Value::Null } else { serde_json::json!({
            "n": lat.len(),
            "p50": percentile(lat, 0.50),
            "p90": percentile(lat, 0.90),
            "p99": percentile(lat, 0.99),
            "p999": percentile(lat, 0.999),
            "max": lat.last().copied().unwrap_or(f64::NAN),
        })},
    });
    println!("{out}");
    telemetry::shutdown();
    anyhow::ensure!(
        completed || args.max_secs.is_some(),
        "the run ended before every offset was stored"
    );
    Ok(())
}
