//! The dead-letter topic: where events go that cannot be handled.
//!
//! A dead-lettered record keeps the original key, value and headers, and gains
//! `dlq.*` headers naming its origin, the flavor, the reason class, the error
//! text and the attempts made. A [`DlqCircuit`] stops the consumer when too many
//! recent events were dead-lettered, instead of emptying the topic into the DLQ.
//! With a store, [`DlqClaims`] keep it to one dead letter per source record
//! across crashes and rebalances. [`MemoryDlq`] keeps dead letters in memory,
//! for tests.

mod claims;
mod memory;

pub use claims::{fail_point, Claim, DlqClaims, LEASE};
pub use memory::MemoryDlq;

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::source::record::Record;

/// Why an event was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DlqReason {
    /// The bytes are not a valid event.
    Invalid,
    /// The handler discarded it (not retryable).
    Discarded,
    /// The retry budget was spent.
    RetriesExhausted,
}

impl DlqReason {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            DlqReason::Invalid => "invalid",
            DlqReason::Discarded => "discarded",
            DlqReason::RetriesExhausted => "retries-exhausted",
        }
    }
}

impl fmt::Display for DlqReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why and how an event reached the DLQ.
#[derive(Debug, Clone)]
pub struct DlqEntry {
    /// The flavor that gave up.
    pub flavor: &'static str,
    /// The reason class.
    pub reason: DlqReason,
    /// The error text.
    pub error: String,
    /// Attempts made (0 for invalid input).
    pub attempts: u32,
}

/// Header names of dead-lettered records.
pub mod headers {
    /// Source topic.
    pub const TOPIC: &str = "dlq.original.topic";
    /// Source partition.
    pub const PARTITION: &str = "dlq.original.partition";
    /// Source offset.
    pub const OFFSET: &str = "dlq.original.offset";
    /// Source record timestamp (Unix ms).
    pub const TIMESTAMP: &str = "dlq.original.timestamp";
    /// The flavor.
    pub const FLAVOR: &str = "dlq.flavor";
    /// The reason class.
    pub const REASON: &str = "dlq.reason";
    /// The error text.
    pub const ERROR: &str = "dlq.error";
    /// Attempts made.
    pub const ATTEMPTS: &str = "dlq.attempts";
}

/// Where dead letters go.
#[async_trait]
pub trait DeadLetterSink: Send + Sync {
    /// Writes one dead letter and waits for it to be durable.
    async fn send(&self, record: &Record, entry: &DlqEntry) -> Result<(), String>;
}

/// Dead letters on a Kafka topic, one topic per source topic and flavor.
pub struct KafkaDlq {
    producer: FutureProducer,
    template: super::policy::DlqPolicy,
    claims: Option<DlqClaims>,
}

impl KafkaDlq {
    /// A DLQ writer over an idempotent producer.
    pub fn new(producer: FutureProducer, policy: super::policy::DlqPolicy) -> Self {
        Self {
            producer,
            template: policy,
            claims: None,
        }
    }

    /// The same writer, keeping one dead letter per source record (see [`DlqClaims`]).
    pub fn with_claims(mut self, claims: DlqClaims) -> Self {
        self.claims = Some(claims);
        self
    }

    async fn produce(
        &self,
        topic: &str,
        partition: Option<i32>,
        record: &Record,
        entry: &DlqEntry,
    ) -> Result<(), String> {
        let hdrs = dlq_headers(record, entry);
        let mut out = FutureRecord::to(topic)
            .payload(record.payload.as_ref())
            .headers(hdrs);
        if let Some(key) = &record.key {
            out = out.key(key.as_ref());
        }
        if let Some(partition) = partition {
            out = out.partition(partition);
        }
        self.producer
            .send(out, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(err, _)| format!("producing to {topic}: {err}"))
    }

    /// Claims the record's dead letter; `None` when it is written already,
    /// else the partition to write it to.
    async fn claim(
        &self,
        claims: &DlqClaims,
        topic: &str,
        record: &Record,
        flavor: &str,
    ) -> Result<Option<i32>, String> {
        let placement = claims.placement(topic, record.tp.partition).await?;
        loop {
            match claims.claim(flavor, record, topic, placement).await? {
                Claim::New => return Ok(Some(placement.0)),
                Claim::Written => return Ok(None),
                Claim::Writing {
                    partition,
                    from,
                    age,
                    ours,
                } => {
                    if claims
                        .find(flavor, record, topic, (partition, from))
                        .await?
                    {
                        claims.written(flavor, record).await?;
                        return Ok(None);
                    }
                    if ours || age >= LEASE {
                        return Ok(Some(partition));
                    }
                    // Another process may still be writing it: wait out its lease.
                    tokio::time::sleep(LEASE - age).await;
                }
            }
        }
    }
}

#[async_trait]
impl DeadLetterSink for KafkaDlq {
    async fn send(&self, record: &Record, entry: &DlqEntry) -> Result<(), String> {
        let topic = self.template.topic_for(&record.tp.topic, entry.flavor);
        let Some(claims) = &self.claims else {
            return self.produce(&topic, None, record, entry).await;
        };
        if let Some(partition) = self.claim(claims, &topic, record, entry.flavor).await? {
            self.produce(&topic, Some(partition), record, entry).await?;
            fail_point("dlq.after-write");
            claims.written(entry.flavor, record).await?;
        }
        fail_point("dlq.after-mark");
        Ok(())
    }
}

fn dlq_headers(record: &Record, entry: &DlqEntry) -> OwnedHeaders {
    let partition = record.tp.partition.to_string();
    let offset = record.offset.to_string();
    let timestamp = record.timestamp_ms.unwrap_or_default().to_string();
    let attempts = entry.attempts.to_string();
    let ours = [
        (headers::TOPIC, record.tp.topic.as_ref()),
        (headers::PARTITION, partition.as_str()),
        (headers::OFFSET, offset.as_str()),
        (headers::TIMESTAMP, timestamp.as_str()),
        (headers::FLAVOR, entry.flavor),
        (headers::REASON, entry.reason.as_str()),
        (headers::ERROR, entry.error.as_str()),
        (headers::ATTEMPTS, attempts.as_str()),
    ];
    let mut out = OwnedHeaders::new_with_capacity(record.headers.len() + ours.len());
    for (key, value) in &record.headers {
        if !key.starts_with("dlq.") {
            out = out.insert(Header {
                key,
                value: Some(value.as_ref()),
            });
        }
    }
    for (key, value) in ours {
        out = out.insert(Header {
            key,
            value: Some(value),
        });
    }
    out
}

/// Trips when the dead-lettered share of recent outcomes is too high.
#[derive(Debug)]
pub struct DlqCircuit {
    recent: VecDeque<bool>,
    dead: usize,
    window: usize,
    min_events: usize,
    max_ratio: f64,
}

impl DlqCircuit {
    /// A circuit over the last `window` outcomes.
    pub fn new(window: usize, min_events: usize, max_ratio: f64) -> Self {
        Self {
            recent: VecDeque::with_capacity(window),
            dead: 0,
            window: window.max(1),
            min_events,
            max_ratio,
        }
    }

    /// Notes one final outcome; returns the share when the circuit trips.
    pub fn note(&mut self, dead_lettered: bool) -> Option<f64> {
        if self.recent.len() == self.window && self.recent.pop_front() == Some(true) {
            self.dead -= 1;
        }
        self.recent.push_back(dead_lettered);
        self.dead += usize::from(dead_lettered);
        let ratio = self.dead as f64 / self.recent.len() as f64;
        (self.recent.len() >= self.min_events && ratio > self.max_ratio).then_some(ratio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circuit_trips_only_past_min_events_and_ratio() {
        let mut c = DlqCircuit::new(10, 4, 0.5);
        assert_eq!(c.note(true), None, "below min_events");
        assert_eq!(c.note(true), None);
        assert_eq!(c.note(false), None);
        assert_eq!(c.note(true), Some(0.75));
    }

    #[test]
    fn circuit_forgets_outside_the_window() {
        let mut c = DlqCircuit::new(4, 4, 0.5);
        for _ in 0..2 {
            c.note(true);
        }
        for _ in 0..6 {
            assert_eq!(c.note(false), None);
        }
        assert_eq!(c.note(true), None, "1 of 4 dead");
    }
}
