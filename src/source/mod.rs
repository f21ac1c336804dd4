//! Where records come from: Kafka (a consumer group, or an explicit offset
//! range for replay), or NDJSON / length-delimited files and stdin.
//!
//! A source pushes [`SourceMsg`]s into a bounded channel and exposes a
//! [`SourceControl`] through which the runtime stores offsets and pauses
//! partitions. Only `source/kafka.rs` touches rdkafka's consumer.

pub mod file;
pub mod kafka;
pub mod range;

use std::sync::mpsc::SyncSender;

use crate::runtime::record::{Record, Tp};

/// What a source tells the runtime.
#[derive(Debug)]
pub enum SourceMsg {
    /// A record to process.
    Record(Record),
    /// These partitions are being taken away. The runtime stops starting their
    /// events, waits (bounded) for the running ones, and answers the final
    /// watermarks so the source can commit them before the partitions go.
    Revoke {
        /// The partitions going away.
        tps: Vec<Tp>,
        /// Where the final watermarks go.
        reply: SyncSender<Vec<(Tp, i64)>>,
    },
    /// The source has nothing more (end of a file or of a replay range).
    End,
    /// The source failed and cannot go on.
    Failed(String),
}

/// The sending halves a source writes to.
#[derive(Clone)]
pub struct SourceTx {
    /// Records, then `End` or `Failed`; bounded, so a slow runtime slows the source.
    pub data: tokio::sync::mpsc::Sender<SourceMsg>,
    /// Revokes; unbounded and always read, so a revoke is never stuck behind records.
    pub ctrl: tokio::sync::mpsc::UnboundedSender<SourceMsg>,
}

/// The receiving halves the runtime reads.
pub struct SourceRx {
    /// See [`SourceTx::data`].
    pub data: tokio::sync::mpsc::Receiver<SourceMsg>,
    /// See [`SourceTx::ctrl`].
    pub ctrl: tokio::sync::mpsc::UnboundedReceiver<SourceMsg>,
}

/// A pair of channels; `capacity` bounds the records in transit.
pub fn channels(capacity: usize) -> (SourceTx, SourceRx) {
    let (data_tx, data) = tokio::sync::mpsc::channel(capacity.max(1));
    let (ctrl_tx, ctrl) = tokio::sync::mpsc::unbounded_channel();
    (
        SourceTx {
            data: data_tx,
            ctrl: ctrl_tx,
        },
        SourceRx { data, ctrl },
    )
}

/// What the runtime asks of a source.
pub trait SourceControl: Send + Sync {
    /// Stores `next_offset` as the position to commit for `tp`.
    fn store(&self, tp: &Tp, next_offset: i64);
    /// Stops fetching these partitions (polling goes on).
    fn pause(&self, tps: &[Tp]);
    /// Fetches these partitions again.
    fn resume(&self, tps: &[Tp]);
    /// The partitions currently assigned.
    fn assigned(&self) -> Vec<Tp>;
    /// Stops producing records, commits what is stored synchronously, and
    /// releases the source. Called once, at the end.
    fn close(&self);
}
