//! Events of the Kafka consumer: commits and librdkafka statistics.

use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::statistics::Statistics;

use crate::telemetry::metrics::{metrics, GroupLabels, PartitionLabels};

/// librdkafka answered an offset commit (auto, revoke or close).
pub struct CommitDone<'a> {
    /// The consumer group.
    pub group: &'a str,
    /// The commit's result.
    pub result: &'a KafkaResult<()>,
    /// Partitions in the commit.
    pub partitions: usize,
}

impl<'a> CommitDone<'a> {
    /// The event.
    pub fn new(group: &'a str, result: &'a KafkaResult<()>, partitions: usize) -> Self {
        Self {
            group,
            result,
            partitions,
        }
    }

    /// Logs and counts the commit or its failure. "Nothing to commit" is
    /// neither.
    pub fn emit(self) {
        let labels = GroupLabels {
            group: self.group.to_string(),
        };
        match self.result {
            Ok(()) => {
                tracing::debug!(
                    group = self.group,
                    partitions = self.partitions,
                    "offsets committed"
                );
                metrics().commits.get_or_create(&labels).inc();
            }
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(error) => {
                tracing::warn!(group = self.group, error = %error, "offset commit failed");
                metrics().commit_failures.get_or_create(&labels).inc();
            }
        }
    }
}

/// A librdkafka statistics report of a group consumer.
pub struct KafkaStats<'a> {
    /// The consumer group.
    pub group: &'a str,
    /// The report.
    pub stats: &'a Statistics,
}

impl<'a> KafkaStats<'a> {
    /// The event.
    pub fn new(group: &'a str, stats: &'a Statistics) -> Self {
        Self { group, stats }
    }

    /// Sets the lag of every partition the consumer knows a lag for, and drops
    /// the series of partitions it no longer reads.
    pub fn emit(self) {
        let lag = &metrics().lag;
        for (topic, t) in &self.stats.topics {
            for (&partition, p) in &t.partitions {
                if partition < 0 {
                    continue; // librdkafka's internal unassigned partition
                }
                let labels = PartitionLabels {
                    group: self.group.to_string(),
                    topic: topic.clone(),
                    partition,
                };
                if p.consumer_lag >= 0 {
                    lag.get_or_create(&labels).set(p.consumer_lag);
                } else {
                    lag.remove(&labels);
                }
            }
        }
        tracing::trace!(group = self.group, "kafka statistics");
    }
}
