//! `replay`: run a flavor over an exact offset (or time) range of a topic and
//! stop. The consumer group's committed offsets are not touched.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::progress;
use crate::app;
use crate::flavors;
use crate::runtime::decode_record;
use crate::settings::Settings;
use crate::source::range::{self, Lookup, Range};
use crate::source::record::Tp;

/// `replay` options.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The flavor to run.
    #[arg(long)]
    pub flavor: String,
    /// The topic to read.
    #[arg(long)]
    pub topic: String,
    /// Only this partition (default: all).
    #[arg(long)]
    pub partition: Option<i32>,
    /// First offset to handle (inclusive).
    #[arg(long, requires = "to_offset", conflicts_with_all = ["from_time", "to_time"])]
    pub from_offset: Option<i64>,
    /// Last offset to handle (inclusive).
    #[arg(long, requires = "from_offset")]
    pub to_offset: Option<i64>,
    /// Start at the first record at or after this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub from_time: Option<i64>,
    /// Stop before the first record at or after this time (RFC 3339; default: the end).
    #[arg(long, value_parser = parse_time, requires = "from_time")]
    pub to_time: Option<i64>,
    /// Decode and route only: report what would be handled, with no effects.
    #[arg(long)]
    pub dry_run: bool,
}

pub(super) fn parse_time(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("{s}: {e} (expected RFC 3339, e.g. 2026-11-27T10:00:00Z)"))
}

/// Runs `replay`.
pub async fn run(settings: &Settings, args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let spec = flavors::find(&args.flavor)?;
    let props = app::kafka::base_properties(&settings.kafka);
    let ranges = resolve_ranges(&props, &args)?;
    let total: i64 = ranges.iter().map(Range::len).sum();
    for r in &ranges {
        eprintln!(
            "{}: offsets {}..{} ({} records)",
            r.tp,
            r.start,
            r.end,
            r.len()
        );
    }
    let rules = app::load_rules(settings)?.map(|(_, view)| view);
    let store = app::open_store(settings).await?;
    let runtime = app::build_runtime(settings, spec, store, true, rules)
        .await?
        .runtime;
    let (tx, mut rx) = runtime.config.channels();
    let control = range::start(&props, ranges, None, tx).context("starting the range reader")?;
    if args.dry_run {
        drop(control);
        return dry_run(&mut rx, &runtime.consumes).await;
    }
    let progress = runtime.progress.clone();
    let reporter = progress::spawn(progress, total as u64);
    let shutdown = crate::shutdown::on_signals();
    let result = runtime.run(rx, control, shutdown).await;
    reporter.abort();
    let summary = result?;
    eprintln!("replay done: {summary}");
    Ok(ExitCode::SUCCESS)
}

/// Each partition's `[start, end)` of `topic` between two times (RFC 3339
/// arguments of `rules diff --topic`), as `replay --from-time` finds them.
pub(super) fn time_ranges(
    props: &BTreeMap<String, String>,
    topic: &str,
    from_ms: i64,
    to_ms: Option<i64>,
) -> anyhow::Result<Vec<Range>> {
    let args = ReplayArgs {
        flavor: String::new(),
        topic: topic.to_owned(),
        partition: None,
        from_offset: None,
        to_offset: None,
        from_time: Some(from_ms),
        to_time: to_ms,
        dry_run: true,
    };
    resolve_ranges(props, &args)
}

/// Works out each partition's `[start, end)` from the arguments.
fn resolve_ranges(
    props: &BTreeMap<String, String>,
    args: &ReplayArgs,
) -> anyhow::Result<Vec<Range>> {
    let lookup = Lookup::new(props)?;
    let partitions = match args.partition {
        Some(p) => vec![p],
        None => lookup.partitions(&args.topic)?,
    };
    anyhow::ensure!(
        !partitions.is_empty(),
        "topic {} has no partitions (does it exist?)",
        args.topic
    );
    let tps: Vec<Tp> = partitions
        .iter()
        .map(|&p| Tp::new(&args.topic, p))
        .collect();
    let from_time = match args.from_time {
        Some(ms) => Some(lookup.offsets_at(&tps, ms)?),
        None => None,
    };
    let to_time = match args.to_time {
        Some(ms) => Some(lookup.offsets_at(&tps, ms)?),
        None => None,
    };
    let mut ranges = Vec::new();
    for tp in tps {
        let (low, high) = lookup.watermarks(&tp)?;
        let (start, end) = match (args.from_offset, args.to_offset, &from_time) {
            (Some(a), Some(b), _) => (a, b + 1),
            (_, _, Some(starts)) => {
                let end = to_time
                    .as_ref()
                    .and_then(|m| m.get(&tp).copied())
                    .unwrap_or(high);
                (starts.get(&tp).copied().unwrap_or(high), end)
            }
            _ => anyhow::bail!("give --from-offset/--to-offset or --from-time [--to-time]"),
        };
        ranges.push(Range {
            start: start.max(low),
            end: end.min(high),
            tp,
        });
    }
    Ok(ranges)
}

async fn dry_run(
    rx: &mut crate::source::SourceRx,
    consumes: &crate::flavors::kit::Consumes,
) -> anyhow::Result<ExitCode> {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut invalid = 0u64;
    while let Some(chunk) = rx.next_chunk().await {
        for record in chunk {
            count_one(&record, consumes, &mut counts, &mut invalid);
        }
    }
    println!("{:<36} {:>10} {:>14}", "EVENT TYPE", "HANDLE", "SKIP");
    for (t, (handle, skip)) in &counts {
        println!("{t:<36} {handle:>10} {skip:>14}");
    }
    println!("invalid (would be dead-lettered): {invalid}");
    Ok(ExitCode::SUCCESS)
}

/// Counts one record of a dry run: handled or skipped (not consumed, an
/// echo, no snapshot) per type, or invalid.
fn count_one(
    record: &crate::source::record::Record,
    consumes: &crate::flavors::kit::Consumes,
    counts: &mut BTreeMap<String, (u64, u64)>,
    invalid: &mut u64,
) {
    match decode_record(record) {
        Ok(event) => {
            let entry = counts.entry(event.event_type.clone()).or_default();
            if consumes.wants_name(&event.event_type) && consumes.skip(&event).is_none() {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
        Err(err) => {
            *invalid += 1;
            eprintln!("{}@{}: invalid: {err}", record.tp, record.offset);
        }
    }
}
