//! A bounded Kafka source: explicit partitions and offset ranges, no group
//! membership. Used by `replay` (nothing committed) and `dlq redrive` (the
//! redrive group's offsets committed). Ends when every range is read.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, DefaultConsumerContext};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::kafka::{bounded_prefetch, marks_tpl, to_record, tpl_of, tps_of, KafkaSourceError};
use super::{SourceControl, SourceMsg, SourceTx};
use crate::source::record::{Record, Tp};

/// One partition's range: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// The partition.
    pub tp: Tp,
    /// First offset read.
    pub start: i64,
    /// One past the last offset read.
    pub end: i64,
}

impl Range {
    /// How many offsets the range spans.
    pub fn len(&self) -> i64 {
        (self.end - self.start).max(0)
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A client for metadata look-ups (partitions, watermarks, offsets by time).
pub struct Lookup {
    consumer: BaseConsumer,
}

const TIMEOUT: Duration = Duration::from_secs(15);

impl Lookup {
    /// Connects with these properties (brokers, security).
    pub fn new(props: &BTreeMap<String, String>) -> Result<Self, KafkaSourceError> {
        let mut config = ClientConfig::new();
        for (k, v) in props {
            config.set(k, v);
        }
        Ok(Self {
            consumer: config.create()?,
        })
    }

    /// The partition numbers of a topic.
    pub fn partitions(&self, topic: &str) -> Result<Vec<i32>, KafkaSourceError> {
        let md = self.consumer.fetch_metadata(Some(topic), TIMEOUT)?;
        Ok(md
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect())
    }

    /// Low and high watermarks of a partition.
    pub fn watermarks(&self, tp: &Tp) -> Result<(i64, i64), KafkaSourceError> {
        Ok(self
            .consumer
            .fetch_watermarks(&tp.topic, tp.partition, TIMEOUT)?)
    }

    /// The first offset of each partition with a timestamp at or after `ms`
    /// (the high watermark when there is none).
    pub fn offsets_at(&self, tps: &[Tp], ms: i64) -> Result<HashMap<Tp, i64>, KafkaSourceError> {
        let mut query = TopicPartitionList::new();
        for tp in tps {
            query.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(ms))?;
        }
        let found = self.consumer.offsets_for_times(query, TIMEOUT)?;
        let mut out = HashMap::new();
        for e in found.elements() {
            let tp = Tp::new(e.topic(), e.partition());
            let offset = match e.offset() {
                Offset::Offset(o) => o,
                _ => self.watermarks(&tp)?.1,
            };
            out.insert(tp, offset);
        }
        Ok(out)
    }

    /// The committed offsets of a group (`None` where it never committed).
    pub fn committed(
        &self,
        group: &str,
        tps: &[Tp],
        props: &BTreeMap<String, String>,
    ) -> Result<HashMap<Tp, Option<i64>>, KafkaSourceError> {
        let mut config = ClientConfig::new();
        for (k, v) in props {
            config.set(k, v);
        }
        config.set("group.id", group);
        let consumer: BaseConsumer = config.create()?;
        let got = consumer.committed_offsets(tpl_of(tps), TIMEOUT)?;
        Ok(got
            .elements()
            .iter()
            .map(|e| {
                let off = match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                };
                (Tp::new(e.topic(), e.partition()), off)
            })
            .collect())
    }
}

/// The runtime's handle on a range source.
pub struct RangeControl {
    consumer: Arc<BaseConsumer>,
    stop: Arc<AtomicBool>,
    commit: bool,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Starts reading `ranges`. With `group` set, stored offsets are committed to
/// that group; without, nothing is committed anywhere.
pub fn start(
    props: &BTreeMap<String, String>,
    ranges: Vec<Range>,
    group: Option<&str>,
    tx: SourceTx,
) -> Result<Arc<RangeControl>, KafkaSourceError> {
    let ranges: Vec<Range> = ranges.into_iter().filter(|r| !r.is_empty()).collect();
    let consumer = Arc::new(assigned(props, &ranges, group)?);
    let stop = Arc::new(AtomicBool::new(false));
    let thread = spawn_reader(consumer.clone(), ranges, tx, stop.clone());
    Ok(Arc::new(RangeControl {
        consumer,
        stop,
        commit: group.is_some(),
        thread: std::sync::Mutex::new(Some(thread)),
    }))
}

/// A consumer assigned to the starts of `ranges`, committing nothing by
/// itself (`group`, when given, is where `store` + `close` commit).
fn assigned(
    props: &BTreeMap<String, String>,
    ranges: &[Range],
    group: Option<&str>,
) -> Result<BaseConsumer, KafkaSourceError> {
    let mut config = ClientConfig::new();
    bounded_prefetch(&mut config);
    for (k, v) in props {
        config.set(k, v);
    }
    config
        .set("group.id", group.unwrap_or("ceh-replay-uncommitted"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false");
    let consumer: BaseConsumer<DefaultConsumerContext> = config.create()?;
    let mut tpl = TopicPartitionList::new();
    for r in ranges {
        tpl.add_partition_offset(&r.tp.topic, r.tp.partition, Offset::Offset(r.start))?;
    }
    consumer.assign(&tpl)?;
    Ok(consumer)
}

/// Every record of `ranges`, in offset order per partition (partitions one
/// after another), read to their ends in one blocking call, for tools that
/// need the whole range (`rules diff`); nothing is committed. A partition
/// whose position passed its end (a gap: compaction, transaction markers)
/// is done; no record for `idle` is an error.
pub fn read_all(
    props: &BTreeMap<String, String>,
    ranges: Vec<Range>,
    idle: Duration,
) -> Result<Vec<Record>, KafkaSourceError> {
    let ranges: Vec<Range> = ranges.into_iter().filter(|r| !r.is_empty()).collect();
    let consumer = Arc::new(assigned(props, &ranges, None)?);
    let ends = ranges.into_iter().map(|r| (r.tp, r.end)).collect();
    let errors = Default::default();
    let mut reader = RangeReader {
        consumer,
        ends,
        errors,
    };
    let mut by_tp: BTreeMap<Tp, Vec<Record>> = BTreeMap::new();
    let mut last = std::time::Instant::now();
    while !reader.ends.is_empty() {
        let chunk = reader.read(1024);
        if chunk.is_empty() {
            reader.drop_passed();
            if last.elapsed() > idle && !reader.ends.is_empty() {
                let left: Vec<String> = reader.ends.keys().map(ToString::to_string).collect();
                return Err(KafkaSourceError::Stalled(idle, left.join(", ")));
            }
            continue;
        }
        last = std::time::Instant::now();
        for record in chunk {
            by_tp.entry(record.tp.clone()).or_default().push(record);
        }
    }
    Ok(by_tp.into_values().flatten().collect())
}

fn spawn_reader(
    consumer: Arc<BaseConsumer>,
    ranges: Vec<Range>,
    tx: SourceTx,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("kafka-range".into())
        .spawn(move || {
            let ends: HashMap<Tp, i64> = ranges.into_iter().map(|r| (r.tp, r.end)).collect();
            let errors = Default::default();
            let mut reader = RangeReader {
                consumer,
                ends,
                errors,
            };
            let bell = tx.credit.bell();
            while !reader.ends.is_empty() && !stop.load(Ordering::Acquire) {
                let room = tx.credit.room().min(tx.credit.chunk());
                if room == 0 {
                    bell.wait(Duration::from_millis(50));
                    continue;
                }
                let chunk = reader.read(room);
                if tx.send_records(chunk).is_err() {
                    return;
                }
            }
            let _ = tx.send(SourceMsg::End);
        })
        .expect("spawning the range reader")
}

/// Reads the assigned ranges up to their ends.
struct RangeReader {
    consumer: Arc<BaseConsumer>,
    ends: HashMap<Tp, i64>,
    errors: super::kafka::throttle::Throttle,
}

impl RangeReader {
    /// Ends the partitions whose position is at or past their end.
    fn drop_passed(&mut self) {
        let Ok(positions) = self.consumer.position() else {
            return;
        };
        for tp in tps_of(&positions) {
            let at = positions
                .find_partition(&tp.topic, tp.partition)
                .and_then(|e| match e.offset() {
                    Offset::Offset(n) => Some(n),
                    _ => None,
                });
            if let (Some(at), Some(&end)) = (at, self.ends.get(&tp)) {
                if at >= end {
                    self.ends.remove(&tp);
                }
            }
        }
    }

    /// Up to `budget` records of the ranges (waits briefly for the first one).
    fn read(&mut self, budget: usize) -> Vec<Record> {
        let mut chunk = Vec::new();
        let mut wait = Duration::from_millis(100);
        while chunk.len() < budget && !self.ends.is_empty() {
            let Some(polled) = self.consumer.poll(wait) else {
                break;
            };
            wait = Duration::ZERO;
            let record = match polled {
                Ok(m) => to_record(&m),
                Err(err) => {
                    if let Some(repeated) = self.errors.due(std::time::Instant::now()) {
                        tracing::warn!(error = %err, repeated, "kafka poll error");
                    }
                    continue;
                }
            };
            let Some(&end) = self.ends.get(&record.tp) else {
                continue;
            };
            if record.offset >= end {
                continue;
            }
            if record.offset + 1 >= end {
                self.ends.remove(&record.tp);
                let _ = self
                    .consumer
                    .pause(&tpl_of(std::slice::from_ref(&record.tp)));
            }
            chunk.push(record);
        }
        chunk
    }
}

impl SourceControl for RangeControl {
    fn store(&self, marks: &[(Tp, i64)]) {
        if self.commit && !marks.is_empty() {
            if let Err(err) = self.consumer.store_offsets(&marks_tpl(marks)) {
                tracing::debug!(error = %err, "offsets not stored");
            }
        }
    }

    fn pause(&self, _: &[Tp]) {
        // Flow control comes from the credit: the reader reads only with room.
    }

    fn resume(&self, _: &[Tp]) {}

    fn assigned(&self) -> Vec<Tp> {
        self.consumer
            .assignment()
            .map(|t| tps_of(&t))
            .unwrap_or_default()
    }

    fn close(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
        if self.commit {
            if let Err(err) = self.consumer.commit_consumer_state(CommitMode::Sync) {
                tracing::debug!(error = %err, "final commit (nothing stored is fine)");
            }
        }
    }
}
