//! The Kafka source: a consumer group member on its own poll thread.
//!
//! The poll thread never runs handlers and never sleeps on their behalf, so a
//! long backoff can never push the consumer past `max.poll.interval.ms`.
//! Offsets are stored only by the runtime (`enable.auto.offset.store=false`) as
//! contiguous watermarks; librdkafka auto-commits them periodically, and revoke
//! and close commit synchronously. Assignment is cooperative-sticky; on revoke
//! the poll thread blocks in the rebalance callback until the runtime has drained
//! the partitions (bounded by the drain timeout).
//!
//! Backpressure never pauses a partition: every assigned partition has a queue
//! of its own (`queues`), read only while the runtime has room (`Credit`). The
//! main queue is served on every turn for rebalances and errors. When there is
//! nothing to read, or no room, the thread waits on a doorbell that data
//! arriving in an empty partition queue, or credit coming back, rings; a ring
//! is never lost, and the wait is bounded anyway.

mod queues;
pub(crate) mod throttle;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use self::queues::Queues;
use super::{SourceControl, SourceMsg, SourceTx};
use crate::source::record::{Record, Tp};
use crate::telemetry::events;
use crate::telemetry::Heartbeat;

/// How a Kafka source reads.
#[derive(Debug, Clone)]
pub struct KafkaSourceConfig {
    /// librdkafka properties (brokers, group id, timeouts, passthrough).
    pub properties: BTreeMap<String, String>,
    /// Topics to subscribe to (group mode).
    pub topics: Vec<String>,
    /// Longest a revoke waits for the runtime to drain.
    pub drain_timeout: Duration,
}

/// Errors building the source.
#[derive(Debug, thiserror::Error)]
pub enum KafkaSourceError {
    /// librdkafka refused the configuration or the subscription.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// A bounded read got no record for this long, short of these ranges' ends.
    #[error("kafka: no record for {0:?}, short of the end of {1}")]
    Stalled(Duration, String),
}

type Group = BaseConsumer<GroupContext>;

/// Splits partition queues on assign, sends revokes to the runtime and waits
/// for its drain.
struct GroupContext {
    tx: SourceTx,
    drain_timeout: Duration,
    closing: Arc<AtomicBool>,
    group: String,
    consumer: OnceLock<Weak<Group>>,
    queues: Arc<Queues<GroupContext>>,
    errors: throttle::Throttle,
}

impl ClientContext for GroupContext {
    fn stats(&self, stats: Statistics) {
        events::KafkaStats::new(&self.group, &stats).emit();
    }

    /// librdkafka's global errors (all brokers down ...), throttled.
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        if let Some(repeated) = self.errors.due(std::time::Instant::now()) {
            tracing::error!(%error, reason, repeated, "kafka client error");
        }
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &Group, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                // Before librdkafka assigns them, so that it never forwards
                // them to the main queue.
                if let Some(consumer) = self.consumer.get().and_then(Weak::upgrade) {
                    self.queues
                        .split(&consumer, &tps_of(tpl), &self.tx.credit.bell());
                }
            }
            Rebalance::Revoke(tpl) => self.revoke(consumer, tps_of(tpl)),
            Rebalance::Error(_) => {}
        }
    }

    fn post_rebalance(&self, _: &Group, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            tracing::info!(partitions = ?tps_of(tpl), "partitions assigned");
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        events::CommitDone::new(&self.group, &result, offsets.count()).emit();
    }
}

impl GroupContext {
    /// Stops reading the partitions, lets the runtime drain them (every record
    /// of theirs was sent before the revoke), then commits their watermarks.
    fn revoke(&self, consumer: &Group, tps: Vec<Tp>) {
        tracing::info!(partitions = ?tps, "partitions revoked; draining");
        self.queues.remove(&tps);
        if self.closing.load(Ordering::Acquire) || tps.is_empty() {
            return;
        }
        let (reply, answer) = sync_channel(1);
        if self.tx.send(SourceMsg::Revoke { tps, reply }).is_err() {
            return;
        }
        match answer.recv_timeout(self.drain_timeout + Duration::from_secs(1)) {
            Ok(marks) => store_and_commit(consumer, &marks),
            Err(_) => {
                tracing::warn!("runtime did not answer the revoke in time; committing nothing more")
            }
        }
    }
}

/// The handle the runtime uses; the poll thread shares the consumer.
pub struct KafkaControl {
    consumer: Arc<Group>,
    stop: Arc<AtomicBool>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
    heartbeat: Heartbeat,
}

impl KafkaControl {
    /// Beaten by the poll loop on every iteration (liveness).
    pub fn heartbeat(&self) -> Heartbeat {
        self.heartbeat.clone()
    }
}

/// Starts a group consumer; records flow into `tx` as the credit allows.
pub fn start_group(
    config: &KafkaSourceConfig,
    tx: SourceTx,
) -> Result<Arc<KafkaControl>, KafkaSourceError> {
    let mut client = ClientConfig::new();
    bounded_prefetch(&mut client)
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("statistics.interval.ms", "5000");
    for (k, v) in &config.properties {
        client.set(k, v);
    }
    let closing = Arc::new(AtomicBool::new(false));
    let queues = Arc::new(Queues::default());
    let context = GroupContext {
        tx: tx.clone(),
        drain_timeout: config.drain_timeout,
        closing: closing.clone(),
        consumer: OnceLock::new(),
        queues: queues.clone(),
        errors: Default::default(),
        group: config
            .properties
            .get("group.id")
            .cloned()
            .unwrap_or_default(),
    };
    let consumer: Group = client.create_with_context(context)?;
    let consumer = Arc::new(consumer);
    let _ = consumer.context().consumer.set(Arc::downgrade(&consumer));
    let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    let stop = closing;
    let heartbeat = Heartbeat::default();
    let poller = Poller {
        consumer: consumer.clone(),
        tx,
        stop: stop.clone(),
        heartbeat: heartbeat.clone(),
        queues,
        errors: Default::default(),
    };
    let thread = poller.spawn();
    Ok(Arc::new(KafkaControl {
        consumer,
        stop,
        thread: std::sync::Mutex::new(Some(thread)),
        heartbeat,
    }))
}

/// librdkafka's prefetch, the buffer in front of the runtime: bounded, and
/// fetching waits by itself when it is full (with split queues the limits
/// apply per partition). Both limits matter: small records cost librdkafka
/// far more than their bytes, and its default of 100,000 records per
/// partition held ~150 MB of 64-byte records (tests/it/source.rs, the
/// 1M-record backlog). A full queue postpones its partition's next fetch by
/// `fetch.queue.backoff.ms`; librdkafka's default (1 s) stalled the consumer
/// for ~1 s whenever the runtime caught up with a full queue. Properties
/// from the settings, applied after, win.
pub(crate) fn bounded_prefetch(config: &mut ClientConfig) -> &mut ClientConfig {
    config
        .set("queued.max.messages.kbytes", "768")
        .set("queued.min.messages", "750")
        .set("fetch.queue.backoff.ms", "5")
}

/// Longest wait with nothing to do: the main queue (rebalances, errors) is
/// served at least this often.
const IDLE_WAIT: Duration = Duration::from_millis(50);
/// Events served from the main queue per turn.
const MAIN_QUEUE_EVENTS: usize = 16;

/// The poll thread's state.
struct Poller {
    consumer: Arc<Group>,
    tx: SourceTx,
    stop: Arc<AtomicBool>,
    heartbeat: Heartbeat,
    queues: Arc<Queues<GroupContext>>,
    errors: throttle::Throttle,
}

impl Poller {
    fn spawn(self) -> JoinHandle<()> {
        std::thread::Builder::new()
            .name("kafka-poll".into())
            .spawn(move || self.run())
            .expect("spawning the poll thread")
    }

    fn run(self) {
        let bell = self.tx.credit.bell();
        let credit = self.tx.credit.clone();
        while !self.stop.load(Ordering::Acquire) {
            self.heartbeat.beat();
            let mut chunk = Vec::new();
            self.serve_main_queue(&mut chunk);
            let room = credit.room();
            if room > 0 {
                self.queues.read(room.min(credit.chunk()), &mut chunk);
            }
            if chunk.is_empty() {
                bell.wait(IDLE_WAIT);
                continue;
            }
            if self.tx.send_records(chunk).is_err() {
                return;
            }
        }
    }

    /// Serves rebalances and errors. A record can reach the main queue only
    /// if its partition could not be split; it is passed on, not lost.
    fn serve_main_queue(&self, chunk: &mut Vec<Record>) {
        for _ in 0..MAIN_QUEUE_EVENTS {
            match self.consumer.poll(Duration::ZERO) {
                Some(Ok(m)) => chunk.push(to_record(&m)),
                Some(Err(err)) => {
                    if let Some(repeated) = self.errors.due(std::time::Instant::now()) {
                        tracing::warn!(error = %err, repeated, "kafka poll error");
                    }
                }
                None => return,
            }
        }
    }
}

/// Copies a fetched message into an owned record.
pub(crate) fn to_record(m: &BorrowedMessage<'_>) -> Record {
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    (
                        h.key.to_string(),
                        Bytes::copy_from_slice(h.value.unwrap_or_default()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Record {
        tp: Tp::new(m.topic(), m.partition()),
        offset: m.offset(),
        key: m.key().map(Bytes::copy_from_slice),
        payload: Bytes::copy_from_slice(m.payload().unwrap_or_default()),
        headers,
        timestamp_ms: m.timestamp().to_millis(),
    }
}

pub(crate) fn tps_of(tpl: &TopicPartitionList) -> Vec<Tp> {
    tpl.elements()
        .iter()
        .map(|e| Tp::new(e.topic(), e.partition()))
        .collect()
}

/// A list storing each `(tp, next)`: `next` is the next offset to consume.
/// (`store_offset` would store `next + 1`: librdkafka's legacy call adds one.)
pub(crate) fn marks_tpl(marks: &[(Tp, i64)]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for (tp, next) in marks {
        let _ = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*next));
    }
    tpl
}

pub(crate) fn tpl_of(tps: &[Tp]) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for tp in tps {
        tpl.add_partition(&tp.topic, tp.partition);
    }
    tpl
}

fn store_and_commit<C: ConsumerContext>(consumer: &BaseConsumer<C>, marks: &[(Tp, i64)]) {
    let tpl = marks_tpl(marks);
    if tpl.count() > 0 {
        if let Err(err) = consumer.store_offsets(&tpl) {
            tracing::debug!(error = %err, "storing offsets of revoked partitions");
        }
    }
    if tpl.count() == 0 {
        return;
    }
    if let Err(err) = consumer.commit(&tpl, CommitMode::Sync) {
        tracing::warn!(error = %err, "committing revoked partitions failed; their new owner may redo some events");
    }
}

impl SourceControl for KafkaControl {
    fn store(&self, marks: &[(Tp, i64)]) {
        let tpl = marks_tpl(marks);
        // Storing for a partition that was just revoked fails with an
        // erroneous-state error; the new owner redelivers, which is harmless.
        if tpl.count() > 0 {
            if let Err(err) = self.consumer.store_offsets(&tpl) {
                tracing::debug!(error = %err, "offsets not stored");
            }
        }
    }

    fn pause(&self, tps: &[Tp]) {
        if !tps.is_empty() {
            if let Err(err) = self.consumer.pause(&tpl_of(tps)) {
                tracing::debug!(error = %err, "pause");
            }
        }
    }

    fn resume(&self, tps: &[Tp]) {
        if !tps.is_empty() {
            if let Err(err) = self.consumer.resume(&tpl_of(tps)) {
                tracing::debug!(error = %err, "resume");
            }
        }
    }

    /// The partitions owned: assigned, and not being revoked (a revoke
    /// takes them away before the runtime drains them, so nothing is started
    /// for them meanwhile, e.g. a timer's firing).
    fn assigned(&self) -> Vec<Tp> {
        self.consumer.context().queues.owned()
    }

    fn close(&self) {
        self.stop.store(true, Ordering::Release);
        self.consumer.context().tx.credit.bell().ring();
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
        if let Err(err) = self.consumer.commit_consumer_state(CommitMode::Sync) {
            tracing::debug!(error = %err, "final commit (nothing stored is fine)");
        }
        // Unsubscribing leaves the group now instead of at drop.
        self.consumer.unsubscribe();
    }
}
