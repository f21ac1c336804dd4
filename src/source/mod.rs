//! Where records come from: Kafka (a consumer group, or an explicit offset
//! range for replay), or NDJSON / length-delimited files and stdin.
//!
//! A source reads only while the runtime has room ([`Credit`]: records and
//! bytes taken in and not yet complete), sends what it read as chunks
//! ([`SourceMsg::Records`]) into one ordered channel, and exposes a
//! [`SourceControl`] through which the runtime stores offsets and pauses
//! partitions for its own reasons (backoffs, pause windows, open breakers) —
//! never for backpressure. Only `source/kafka` and `source/range` touch
//! rdkafka's consumer.

pub mod credit;
pub mod file;
pub mod kafka;
pub mod memory;
pub mod range;
pub mod record;

use std::sync::mpsc::SyncSender;
use std::sync::Arc;

pub use credit::{Credit, Doorbell};

use crate::source::record::{Record, Tp};

/// What a source tells the runtime, in order.
#[derive(Debug)]
pub enum SourceMsg {
    /// Records to process, in offset order per partition. Their credit was
    /// taken when they were sent.
    Records(Vec<Record>),
    /// These partitions are being taken away. Every record of theirs was sent
    /// before this message. The runtime stops starting their events, waits
    /// (bounded) for the running ones, and answers the final watermarks so the
    /// source can commit them before the partitions go.
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

/// The sending half a source writes to.
#[derive(Clone)]
pub struct SourceTx {
    data: tokio::sync::mpsc::UnboundedSender<SourceMsg>,
    /// The runtime's room: read only what it allows.
    pub credit: Arc<Credit>,
}

/// The runtime has stopped reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the runtime stopped reading")]
pub struct Closed;

impl SourceTx {
    /// Sends a chunk of records, taking their credit. (The channel itself is
    /// unbounded: the credit bounds what is in it.)
    pub fn send_records(&self, records: Vec<Record>) -> Result<(), Closed> {
        if records.is_empty() {
            return Ok(());
        }
        let bytes = records.iter().map(Record::size).sum();
        self.credit.take(records.len(), bytes);
        self.data
            .send(SourceMsg::Records(records))
            .map_err(|_| Closed)
    }

    /// Sends a control message (revoke, end, failure) behind every record
    /// sent so far. (Records sent this way take no credit: relays use it to
    /// pass on what a [`SourceTx::relay`] sender already took credit for.)
    pub fn send(&self, msg: SourceMsg) -> Result<(), Closed> {
        self.data.send(msg).map_err(|_| Closed)
    }

    /// A sender sharing this one's credit, and the receiver of what it sends:
    /// for a hop that looks at records before passing them on with [`SourceTx::send`].
    pub fn relay(&self) -> (SourceTx, tokio::sync::mpsc::UnboundedReceiver<SourceMsg>) {
        let (data, rx) = tokio::sync::mpsc::unbounded_channel();
        let tx = SourceTx {
            data,
            credit: self.credit.clone(),
        };
        (tx, rx)
    }

    /// Whether the runtime stopped reading.
    pub fn is_closed(&self) -> bool {
        self.data.is_closed()
    }
}

/// The receiving half the runtime reads.
pub struct SourceRx {
    /// See [`SourceTx`].
    pub data: tokio::sync::mpsc::UnboundedReceiver<SourceMsg>,
    /// The same credit: the runtime gives it back as events complete.
    pub credit: Arc<Credit>,
}

impl SourceRx {
    /// For readers that only look at records: the next chunk, its credit
    /// given back at once; `None` at the end (or a failure, or a revoke, which
    /// such a reader has no state to drain for).
    pub async fn next_chunk(&mut self) -> Option<Vec<Record>> {
        match self.data.recv().await? {
            SourceMsg::Records(records) => {
                let bytes = records.iter().map(Record::size).sum();
                self.credit.give_back(records.len(), bytes);
                Some(records)
            }
            _ => None,
        }
    }
}

/// A channel whose credit allows `records` records (and 64 MiB) taken in at once.
pub fn channels(records: usize) -> (SourceTx, SourceRx) {
    channels_with(records, DEFAULT_BUFFER_BYTES)
}

/// A channel whose credit allows `records` records and `bytes` bytes taken in at once.
pub fn channels_with(records: usize, bytes: usize) -> (SourceTx, SourceRx) {
    let (data_tx, data) = tokio::sync::mpsc::unbounded_channel();
    let credit = Arc::new(Credit::new(records, bytes));
    (
        SourceTx {
            data: data_tx,
            credit: credit.clone(),
        },
        SourceRx { data, credit },
    )
}

/// Bytes taken in at once unless configured otherwise.
pub const DEFAULT_BUFFER_BYTES: usize = 64 << 20;

/// What the runtime asks of a source.
pub trait SourceControl: Send + Sync {
    /// Stores each `(tp, next_offset)` as the position to commit (one call per tick).
    fn store(&self, marks: &[(Tp, i64)]);
    /// Stops fetching these partitions (polling goes on).
    fn pause(&self, tps: &[Tp]);
    /// Fetches these partitions again.
    fn resume(&self, tps: &[Tp]);
    /// The partitions currently assigned and not being revoked.
    fn assigned(&self) -> Vec<Tp>;
    /// Stops producing records, commits what is stored synchronously, and
    /// releases the source. Called once, at the end.
    fn close(&self);
}

impl<T: SourceControl + ?Sized> crate::telemetry::Assignment for T {
    fn assigned_count(&self) -> usize {
        self.assigned().len()
    }
}
