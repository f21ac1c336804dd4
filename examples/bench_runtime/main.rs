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
//! - `timers`: durable timers (seeded in PostgreSQL) fired with a no-op
//!   effect: firing rate, lateness, memory with a million pending.
//!
//! The run ends when every partition's stored watermark reaches the end
//! offsets read before the start (or, with `--latency`, once `--expect`
//! offsets were stored); then the runtime stops as on SIGTERM (drain, final
//! synchronous commit). One JSON line with the measurements goes to stdout.

mod consume;
mod handlers;
mod probe;
mod receive;
mod timers;
mod topics;
mod watch;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use case_event_handler::app;
use case_event_handler::event::synth::{Synth, SynthSpec};
use case_event_handler::settings::{self, LoadOptions, Settings};

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
        /// Give every event this project key (scenario 9: SEC, the rules' project).
        #[arg(long)]
        project_key: Option<String>,
        /// Stamp each event's `occurred_at` with the wall clock as it is sent
        /// (the webhook receiver measures delivery latency from it).
        #[arg(long)]
        stamp_now: bool,
    },
    /// A loopback webhook receiver (scenario 9); prints JSON.
    Receive(receive::ReceiveArgs),
    /// Runs the runtime over a topic with a benchmark handler; prints JSON.
    Consume(ConsumeArgs),
    /// Seeds durable timers and fires them with a no-op effect; prints JSON.
    Timers(timers::TimerArgs),
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
        Cmd::Topic { name, partitions } => topics::recreate(&cli.brokers, &name, partitions).await,
        Cmd::ProduceKeyed {
            topic,
            events,
            keys,
            seed,
        } => topics::produce_keyed(&settings, &topic, events, keys, seed).await,
        Cmd::ProduceSynth {
            topic,
            events,
            open_cases,
            rate,
            seed,
            project_key,
            stamp_now,
        } => {
            let spec = SynthSpec {
                cases: events / 20,
                events_per_case: 20,
                max_open_cases: open_cases,
                ..SynthSpec::default()
            };
            let stream = Synth::new(seed, spec).map(move |mut ev| {
                if let Some(key) = &project_key {
                    ev.project_key = key.clone();
                }
                ev
            });
            let producer = app::kafka::producer(&settings.kafka)?;
            let sent = if stamp_now {
                topics::publish_stamped(&producer, &topic, stream, rate).await?
            } else {
                case_event_handler::cli::produce::publish(&producer, &topic, stream.map(Ok), rate)
                    .await?
            };
            eprintln!("published {sent} events to {topic}");
            Ok(())
        }
        Cmd::Consume(args) => consume::run(&settings, args, started).await,
        Cmd::Timers(args) => timers::run(&settings, args).await,
        Cmd::Receive(args) => receive::run(args).await,
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
