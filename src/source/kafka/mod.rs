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
//! Backpressure never blocks the poll thread either: when the runtime's
//! channel is full, the thread keeps the record, pauses its partitions and
//! goes on polling (serving rebalances and heartbeats) until there is room.
//! The channel holds thousands of records, so pausing (which makes librdkafka
//! drop and refetch what it had prefetched) is rare.

mod flow;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use self::flow::{Held, Pauses};
use super::{SourceControl, SourceMsg, SourceTx};
use crate::runtime::record::{Record, Tp};
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
}

/// Sends revokes to the runtime and waits for its drain.
struct GroupContext {
    tx: SourceTx,
    drain_timeout: Duration,
    closing: Arc<AtomicBool>,
    group: String,
    held: Arc<Held>,
    pauses: Arc<Pauses>,
}

impl ClientContext for GroupContext {
    fn stats(&self, stats: Statistics) {
        events::KafkaStats::new(&self.group, &stats).emit();
    }
}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        let tps = tps_of(tpl);
        tracing::info!(partitions = ?tps, "partitions revoked; draining");
        self.held.drop_partitions(&tps);
        self.pauses.forget(&tps);
        if self.closing.load(Ordering::Acquire) || tps.is_empty() {
            return;
        }
        let (reply, answer) = sync_channel(1);
        if self.tx.ctrl.send(SourceMsg::Revoke { tps, reply }).is_err() {
            return;
        }
        match answer.recv_timeout(self.drain_timeout + Duration::from_secs(1)) {
            Ok(marks) => store_and_commit(consumer, &marks),
            Err(_) => {
                tracing::warn!("runtime did not answer the revoke in time; committing nothing more")
            }
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            tracing::info!(partitions = ?tps_of(tpl), "partitions assigned");
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        events::CommitDone::new(&self.group, &result, offsets.count()).emit();
    }
}

/// The handle the runtime uses; the poll thread shares the consumer.
pub struct KafkaControl {
    consumer: Arc<BaseConsumer<GroupContext>>,
    pauses: Arc<Pauses>,
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

/// Starts a group consumer; records flow into `tx`.
pub fn start_group(
    config: &KafkaSourceConfig,
    tx: SourceTx,
) -> Result<Arc<KafkaControl>, KafkaSourceError> {
    let mut client = ClientConfig::new();
    client
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("statistics.interval.ms", "5000")
        // librdkafka prefetches up to 64 MiB per consumer by default; 16 MiB
        // keeps the footprint target and still covers seconds of traffic.
        .set("queued.max.messages.kbytes", "16384");
    for (k, v) in &config.properties {
        client.set(k, v);
    }
    let closing = Arc::new(AtomicBool::new(false));
    let (held, pauses) = (Arc::new(Held::default()), Arc::new(Pauses::default()));
    let context = GroupContext {
        tx: tx.clone(),
        drain_timeout: config.drain_timeout,
        closing: closing.clone(),
        held: held.clone(),
        pauses: pauses.clone(),
        group: config
            .properties
            .get("group.id")
            .cloned()
            .unwrap_or_default(),
    };
    let consumer: BaseConsumer<GroupContext> = client.create_with_context(context)?;
    let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics)?;
    let consumer = Arc::new(consumer);
    let stop = closing;
    let heartbeat = Heartbeat::default();
    let poller = Poller {
        consumer: consumer.clone(),
        tx,
        stop: stop.clone(),
        heartbeat: heartbeat.clone(),
        held,
        pauses: pauses.clone(),
    };
    let thread = poller.spawn();
    Ok(Arc::new(KafkaControl {
        consumer,
        pauses,
        stop,
        thread: std::sync::Mutex::new(Some(thread)),
        heartbeat,
    }))
}

/// The poll thread's state.
struct Poller {
    consumer: Arc<BaseConsumer<GroupContext>>,
    tx: SourceTx,
    stop: Arc<AtomicBool>,
    heartbeat: Heartbeat,
    held: Arc<Held>,
    pauses: Arc<Pauses>,
}

impl Poller {
    fn spawn(self) -> JoinHandle<()> {
        std::thread::Builder::new()
            .name("kafka-poll".into())
            .spawn(move || self.run())
            .expect("spawning the poll thread")
    }

    fn run(self) {
        let mut holding = false;
        while !self.stop.load(Ordering::Acquire) {
            self.heartbeat.beat();
            let mut closed = false;
            let all_sent = self.held.drain(|msg| match self.tx.data.try_send(msg) {
                Ok(()) => None,
                Err(tokio::sync::mpsc::error::TrySendError::Full(msg)) => Some(msg),
                Err(tokio::sync::mpsc::error::TrySendError::Closed(msg)) => {
                    closed = true;
                    Some(msg)
                }
            });
            if closed {
                return;
            }
            // Hysteresis: hold as soon as the channel refuses a record, release
            // only once it is half empty, so pausing (which drops librdkafka's
            // prefetch) does not flap at the channel's edge.
            let roomy = self.tx.data.capacity() * 2 >= self.tx.data.max_capacity();
            match (all_sent, holding) {
                (false, false) => {
                    self.pauses.hold(&self.consumer);
                    holding = true;
                }
                (true, true) if roomy => {
                    self.pauses.release(&self.consumer);
                    holding = false;
                }
                _ => {}
            }
            // While holding, poll briefly: to serve callbacks, and to offer
            // the held records again soon.
            let wait = if holding { 10 } else { 100 };
            match self.consumer.poll(Duration::from_millis(wait)) {
                Some(Ok(m)) => self.held.push(SourceMsg::Record(to_record(&m))),
                Some(Err(err)) => tracing::warn!(error = %err, "kafka poll error"),
                None => {}
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

/// A one-entry list storing `next` (the next offset to consume) for `tp`.
/// (`store_offset` would store `next + 1`: librdkafka's legacy call adds one.)
pub(crate) fn next_offset_tpl(tp: &Tp, next: i64) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    let _ = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(next));
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
    let mut tpl = TopicPartitionList::new();
    for (tp, next) in marks {
        let _ = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*next));
    }
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
    fn store(&self, tp: &Tp, next_offset: i64) {
        // Storing for a partition that was just revoked fails with an
        // erroneous-state error; the new owner redelivers, which is harmless.
        if let Err(err) = self
            .consumer
            .store_offsets(&next_offset_tpl(tp, next_offset))
        {
            tracing::debug!(%tp, next_offset, error = %err, "offset not stored");
        }
    }

    fn pause(&self, tps: &[Tp]) {
        self.pauses.runtime_pause(&self.consumer, tps);
    }

    fn resume(&self, tps: &[Tp]) {
        self.pauses.runtime_resume(&self.consumer, tps);
    }

    fn assigned(&self) -> Vec<Tp> {
        self.consumer
            .assignment()
            .map(|tpl| tps_of(&tpl))
            .unwrap_or_default()
    }

    fn close(&self) {
        self.stop.store(true, Ordering::Release);
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
