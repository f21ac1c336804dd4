//! What a run did, and how a run can fail.

use std::collections::BTreeMap;
use std::fmt;

use crate::source::record::Tp;

/// Counts of final outcomes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Events the handler completed with effects.
    pub succeeded: u64,
    /// Skips by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Dead letters by reason.
    pub dead_lettered: BTreeMap<String, u64>,
    /// Retries scheduled.
    pub retries: u64,
}

impl RunSummary {
    /// Every event that reached a final outcome.
    pub fn total(&self) -> u64 {
        self.succeeded
            + self.skipped.values().sum::<u64>()
            + self.dead_lettered.values().sum::<u64>()
    }

    /// Skips with this reason.
    pub fn skipped(&self, reason: &str) -> u64 {
        self.skipped.get(reason).copied().unwrap_or(0)
    }

    /// Dead letters with this reason.
    pub fn dead_lettered(&self, reason: &str) -> u64 {
        self.dead_lettered.get(reason).copied().unwrap_or(0)
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "succeeded={}", self.succeeded)?;
        for (reason, n) in &self.skipped {
            write!(f, " skipped[{reason}]={n}")?;
        }
        for (reason, n) in &self.dead_lettered {
            write!(f, " dead-lettered[{reason}]={n}")?;
        }
        write!(f, " retries={}", self.retries)
    }
}

/// Why a run stopped abnormally. The offset of the event named is not
/// committed, so a restarted process handles it again.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The retry budget ran out under the `crash` policy.
    #[error("retries exhausted for event {event_id} at {tp}@{offset}: {error}")]
    RetriesExhausted {
        /// Partition.
        tp: Tp,
        /// Offset.
        offset: i64,
        /// Event id.
        event_id: String,
        /// The last error.
        error: String,
    },
    /// A handler panicked.
    #[error("handler panicked on event {event_id} at {tp}@{offset}: {message}")]
    HandlerPanicked {
        /// Partition.
        tp: Tp,
        /// Offset.
        offset: i64,
        /// Event id.
        event_id: String,
        /// The panic message.
        message: String,
    },
    /// An event had to be dead-lettered but no DLQ is configured or writable.
    #[error("dead-lettering {tp}@{offset} failed: {error}")]
    DeadLetterFailed {
        /// Partition.
        tp: Tp,
        /// Offset.
        offset: i64,
        /// Why.
        error: String,
    },
    /// Too many recent events were dead-lettered.
    #[error("dead-letter circuit open: {:.0}% of recent events were dead-lettered", ratio * 100.0)]
    DlqCircuitOpen {
        /// The share that tripped it.
        ratio: f64,
    },
    /// The source failed.
    #[error("source failed: {0}")]
    Source(String),
    /// A runtime task failed unexpectedly.
    #[error("internal: {0}")]
    Internal(String),
}
