//! `dlq inspect` and `dlq redrive`: look into a flavor's dead-letter topic, and
//! run its events through the flavor again once the cause is fixed.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::progress;
use crate::app;
use crate::flavors;
use crate::runtime::dlq::headers;
use crate::settings::{Need, Settings};
use crate::source::channels;
use crate::source::range::{self, Lookup, Range};
use crate::source::record::{Record, Tp};

/// `dlq` subcommands.
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// Counts by reason and a few samples.
    Inspect {
        #[command(flatten)]
        target: DlqTarget,
        /// How many samples to print.
        #[arg(long, default_value_t = 5)]
        samples: usize,
    },
    /// Re-process dead-lettered events through the flavor (same guarantees as a run).
    Redrive {
        #[command(flatten)]
        target: DlqTarget,
    },
}

impl DlqCommand {
    /// What the command connects to: inspecting reads Kafka only; a
    /// redrive runs the flavor, so it needs its store too.
    pub fn needs(&self) -> &'static [Need] {
        match self {
            DlqCommand::Inspect { .. } => &[Need::Kafka],
            DlqCommand::Redrive { .. } => &[Need::Kafka, Need::Store],
        }
    }
}

/// Which dead-letter topic.
#[derive(Debug, Args)]
pub struct DlqTarget {
    /// The flavor whose DLQ to use.
    #[arg(long)]
    pub flavor: String,
    /// The source topic (default: the first of kafka.topics).
    #[arg(long)]
    pub topic: Option<String>,
}

impl DlqTarget {
    fn dlq_topic(&self, settings: &Settings) -> anyhow::Result<(&'static str, String)> {
        let spec = flavors::find(&self.flavor)?;
        let source = match &self.topic {
            Some(t) => t.clone(),
            None => settings
                .kafka
                .topics
                .first()
                .cloned()
                .context("kafka.topics is empty")?,
        };
        Ok((
            spec.name,
            settings
                .runtime_for(spec.name)
                .dlq
                .topic_for(&source, spec.name),
        ))
    }
}

/// Runs a `dlq` subcommand.
pub async fn run(settings: &Settings, cmd: DlqCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DlqCommand::Inspect { target, samples } => inspect(settings, &target, samples).await,
        DlqCommand::Redrive { target } => redrive(settings, &target).await,
    }
}

fn whole_topic(
    props: &BTreeMap<String, String>,
    topic: &str,
    from: Option<&BTreeMap<Tp, Option<i64>>>,
) -> anyhow::Result<Vec<Range>> {
    let lookup = Lookup::new(props)?;
    let mut ranges = Vec::new();
    for p in lookup.partitions(topic)? {
        let tp = Tp::new(topic, p);
        let (low, high) = lookup.watermarks(&tp)?;
        let start = from
            .and_then(|m| m.get(&tp).copied().flatten())
            .unwrap_or(low)
            .max(low);
        ranges.push(Range {
            tp,
            start,
            end: high,
        });
    }
    Ok(ranges)
}

async fn inspect(
    settings: &Settings,
    target: &DlqTarget,
    samples: usize,
) -> anyhow::Result<ExitCode> {
    let (_, topic) = target.dlq_topic(settings)?;
    let props = app::kafka::base_properties(&settings.kafka);
    let ranges = whole_topic(&props, &topic, None)?;
    let (tx, mut rx) = channels(1024);
    let _control = range::start(&props, ranges, None, tx)?;
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    let mut shown = Vec::new();
    while let Some(chunk) = rx.next_chunk().await {
        for record in chunk {
            let reason = header(&record, headers::REASON);
            *by_reason.entry(reason).or_default() += 1;
            if shown.len() < samples {
                shown.push(sample(&record));
            }
        }
    }
    println!("dead-letter topic {topic}");
    for (reason, n) in &by_reason {
        println!("  {reason:<20} {n}");
    }
    println!("  {:<20} {}", "total", by_reason.values().sum::<u64>());
    for s in shown {
        println!("{s}");
    }
    Ok(ExitCode::SUCCESS)
}

fn header(record: &Record, name: &str) -> String {
    record
        .header(name)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_else(|| "?".into())
}

fn sample(r: &Record) -> String {
    format!(
        "- {}@{} from {}[{}]@{} reason={} attempts={} error={}",
        r.tp,
        r.offset,
        header(r, headers::TOPIC),
        header(r, headers::PARTITION),
        header(r, headers::OFFSET),
        header(r, headers::REASON),
        header(r, headers::ATTEMPTS),
        header(r, headers::ERROR)
    )
}

/// Runs the flavor over the DLQ from the redrive group's committed position to
/// the end seen at start. Events failing again go back to the same DLQ topic.
async fn redrive(settings: &Settings, target: &DlqTarget) -> anyhow::Result<ExitCode> {
    let (flavor, topic) = target.dlq_topic(settings)?;
    let spec = flavors::find(flavor)?;
    let props = app::kafka::base_properties(&settings.kafka);
    let group = format!("{}.redrive", settings.kafka.group_id_for(flavor));
    let lookup = Lookup::new(&props)?;
    let tps: Vec<Tp> = lookup
        .partitions(&topic)?
        .into_iter()
        .map(|p| Tp::new(&topic, p))
        .collect();
    let committed: BTreeMap<Tp, Option<i64>> = lookup
        .committed(&group, &tps, &props)?
        .into_iter()
        .collect();
    let ranges = whole_topic(&props, &topic, Some(&committed))?;
    let total: i64 = ranges.iter().map(Range::len).sum();
    eprintln!("redriving {total} events from {topic} (group {group})");
    let rules = app::load_rules(settings)?.map(|(_, view)| view);
    let store = app::open_store(settings).await?;
    let mut runtime = app::build_runtime(settings, spec, store, true, rules)
        .await?
        .runtime;
    runtime.config.dlq.topic_template = "{topic}".into();
    let (tx, rx) = runtime.config.channels();
    let control = range::start(&props, ranges, Some(&group), tx)?;
    let reporter = progress::spawn(runtime.progress.clone(), total as u64);
    let result = runtime
        .run(rx, control, crate::shutdown::on_signals())
        .await;
    reporter.abort();
    eprintln!("redrive done: {}", result?);
    Ok(ExitCode::SUCCESS)
}
