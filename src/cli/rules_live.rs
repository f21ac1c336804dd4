//! The live source of `rules diff --topic T --from-time …`: a time range of
//! a topic read from Kafka (the broker of `kafka.brokers`) as `replay` finds
//! it, decoded, in dry run; nothing is committed and nothing is handled.

use std::time::Duration;

use anyhow::Context;

use super::replay::time_ranges;
use super::ConfigArgs;
use crate::event::CaseEvent;
use crate::runtime::decode_record;
use crate::settings::Need;
use crate::source::range::{self, Range};

/// How long the range may go without a record before the read fails.
const IDLE: Duration = Duration::from_secs(30);

/// The events of a topic's range, and what was read.
pub struct TopicRange {
    /// The case events, in offset order per partition.
    pub events: Vec<CaseEvent>,
    /// One line saying what was read.
    pub summary: String,
}

/// Reads `topic` from the first record at or after `from_ms` up to (not
/// including) the first at or after `to_ms` (default: the end now).
pub fn read(
    config: &ConfigArgs,
    topic: &str,
    from_ms: i64,
    to_ms: Option<i64>,
) -> anyhow::Result<TopicRange> {
    let settings = config.load(&[Need::Kafka])?;
    let props = crate::app::kafka::base_properties(&settings.kafka);
    let ranges = time_ranges(&props, topic, from_ms, to_ms)?;
    let offsets: Vec<String> = ranges.iter().map(describe).collect();
    let records =
        range::read_all(&props, ranges, IDLE).with_context(|| format!("reading topic {topic}"))?;
    let mut events = Vec::with_capacity(records.len());
    let mut invalid = 0;
    for record in &records {
        match decode_record(record) {
            Ok(event) => events.push(event.into_inner()),
            Err(err) => {
                invalid += 1;
                eprintln!(
                    "{}@{}: not a case event, skipped: {err}",
                    record.tp, record.offset
                );
            }
        }
    }
    let time = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map_or_else(|| ms.to_string(), |t| t.to_rfc3339())
    };
    let to = to_ms.map_or_else(|| "the end".to_owned(), time);
    let summary = format!(
        "source: topic {topic} from {} to {to} ({}): {} records, {invalid} not case events (skipped)",
        time(from_ms),
        offsets.join(", "),
        records.len(),
    );
    Ok(TopicRange { events, summary })
}

fn describe(r: &Range) -> String {
    format!("{} offsets {}..{}", r.tp, r.start, r.end)
}
