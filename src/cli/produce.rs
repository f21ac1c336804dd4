//! `produce`: publish events to Kafka from an NDJSON file or a synthetic stream.
//!
//! Records follow the Kafka record contract: key = case id (project id for
//! project events), value = serialized `CaseEvent`, headers `event-type`,
//! `content-type` and, when the event carries one, `traceparent`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use futures::stream::{FuturesUnordered, StreamExt};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::io::AsyncBufReadExt;

use crate::app::kafka;
use crate::event::synth::{Synth, SynthSpec};
use crate::event::{self, CaseEvent};
use crate::settings::Settings;

/// Deliveries awaited at once; more wait for the oldest to be acknowledged.
const MAX_PENDING: usize = 20_000;

/// `produce` options.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// Topic to publish to (default: kafka.produce_topic).
    #[arg(long)]
    pub topic: Option<String>,
    /// Publish the events of this NDJSON file (canonical proto JSON, one per line).
    #[arg(long, conflicts_with = "synthetic")]
    pub file: Option<PathBuf>,
    /// Publish a synthetic stream of valid case lifecycles.
    #[arg(long)]
    pub synthetic: bool,
    /// Synthetic: number of cases.
    #[arg(long, default_value_t = 100)]
    pub cases: usize,
    /// Synthetic: events per case (the first is always case.created).
    #[arg(long, default_value_t = 20)]
    pub events_per_case: usize,
    /// Synthetic: seed; the same seed gives the same stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Target rate in events per second (0 = as fast as the broker takes them).
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Write the events as NDJSON to stdout instead of publishing them.
    #[arg(long)]
    pub stdout: bool,
}

/// Runs `produce`.
pub async fn run(settings: &Settings, args: ProduceArgs) -> anyhow::Result<ExitCode> {
    let events: Box<dyn Iterator<Item = anyhow::Result<CaseEvent>> + Send> =
        match (&args.file, args.synthetic) {
            (Some(path), _) => Box::new(read_ndjson(path).await?.into_iter()),
            (None, true) => {
                let spec = SynthSpec {
                    cases: args.cases,
                    events_per_case: args.events_per_case,
                    ..SynthSpec::default()
                };
                Box::new(Synth::new(args.seed, spec).map(Ok))
            }
            (None, false) => anyhow::bail!("say what to publish: --file PATH or --synthetic"),
        };
    if args.stdout {
        for ev in events {
            println!("{}", event::to_json_line(&ev?)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let topic = args
        .topic
        .clone()
        .unwrap_or_else(|| settings.kafka.produce_topic.clone());
    let producer = kafka::producer(&settings.kafka).context("creating the producer")?;
    let sent = publish(&producer, &topic, events, args.rate).await?;
    eprintln!("published {sent} events to {topic}");
    Ok(ExitCode::SUCCESS)
}

async fn read_ndjson(path: &PathBuf) -> anyhow::Result<Vec<anyhow::Result<CaseEvent>>> {
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let mut lines = tokio::io::BufReader::new(file).lines();
    let mut out = Vec::new();
    let mut n = 0;
    while let Some(line) = lines.next_line().await? {
        n += 1;
        if !line.trim().is_empty() {
            out.push(
                event::from_json_line(&line).with_context(|| format!("{}:{n}", path.display())),
            );
        }
    }
    Ok(out)
}

/// Publishes every event, at most `rate` per second; returns how many were acknowledged.
pub async fn publish(
    producer: &FutureProducer,
    topic: &str,
    events: impl Iterator<Item = anyhow::Result<CaseEvent>>,
    rate: u64,
) -> anyhow::Result<u64> {
    let started = Instant::now();
    let mut pending = FuturesUnordered::new();
    let (mut queued, mut acked) = (0u64, 0u64);
    let mut last_report = Instant::now();
    for ev in events {
        let ev = ev?;
        pace(started, queued, rate).await;
        let (key, value, headers) = crate::event::record_parts(&ev);
        let record = FutureRecord::to(topic)
            .key(&key)
            .payload(&value)
            .headers(headers);
        let delivery = producer
            .send_result(record)
            .map_err(|(err, _)| anyhow::anyhow!("enqueueing event {}: {err}", ev.event_id))?;
        pending.push(delivery);
        queued += 1;
        while pending.len() >= MAX_PENDING {
            acked += settle(pending.next().await)?;
        }
        if last_report.elapsed() >= Duration::from_secs(1) {
            report(queued, started);
            last_report = Instant::now();
        }
    }
    while let Some(done) = pending.next().await {
        acked += settle(Some(done))?;
    }
    report(queued, started);
    Ok(acked)
}

type Delivery = Result<
    rdkafka::producer::future_producer::OwnedDeliveryResult,
    futures::channel::oneshot::Canceled,
>;

fn settle(done: Option<Delivery>) -> anyhow::Result<u64> {
    match done {
        None => Ok(0),
        Some(Ok(Ok(_))) => Ok(1),
        Some(Ok(Err((err, _)))) => anyhow::bail!("delivery failed: {err}"),
        Some(Err(_)) => anyhow::bail!("delivery cancelled"),
    }
}

async fn pace(started: Instant, sent: u64, rate: u64) {
    if rate == 0 {
        return;
    }
    let due = started + Duration::from_secs_f64(sent as f64 / rate as f64);
    if due > Instant::now() {
        tokio::time::sleep_until(due.into()).await;
    }
}

fn report(sent: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "produced {sent} events in {secs:.1}s ({:.0}/s)",
        sent as f64 / secs
    );
}
