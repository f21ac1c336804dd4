//! Named telemetry events: the one place where the runtime's logs and metrics
//! are written. Each event is a struct whose `emit` writes its log line and
//! its metrics together (as Vector's `internal_events` do), so a metric can't
//! drift from the log that explains it. The dispatcher, the Kafka source and
//! the HTTP base call these; flavors never do.
//!
//! Logs use key/value fields: `flavor`, `tp`, `offset`, `event_id`, `reason`,
//! `error = %error`.

mod dead_letter;
mod kafka;
mod lifecycle;
mod load;
mod outbound;
mod tally;

use std::fmt::Display;
use std::time::Duration;

use tracing::Span;

use super::metrics::{metrics, OutcomeLabels};
use super::trace;
use crate::handler::SkipReason;
use crate::runtime::attempt::Job;
use crate::source::record::{Record, Tp};

pub use dead_letter::{DeadLetterFailed, DeadLettered, DeadLettering};
pub use kafka::{CommitDone, KafkaStats};
pub use lifecycle::{GraceExpired, RevokeDraining, RunFailed, Stopping};
pub use load::{BatchStarted, InFlight, Mode, PausedPartitions};
pub use outbound::{BreakerChanged, MaintenanceWindow, OutboundHttp};
pub use tally::{HandlerTimer, Tally};

/// Label values are bounded: a free-text skip reason is cut to this length.
const MAX_REASON: usize = 64;

/// A record could not be decoded; it goes to the dead-letter topic.
pub struct RecordInvalid<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// The record.
    pub record: &'a Record,
    /// Why it is not an event.
    pub error: &'a dyn Display,
}

impl<'a> RecordInvalid<'a> {
    /// The event.
    pub fn new(flavor: &'static str, record: &'a Record, error: &'a dyn Display) -> Self {
        Self {
            flavor,
            record,
            error,
        }
    }

    /// Logs the record (it is counted once its dead letter is written).
    pub fn emit(self) {
        let (tp, offset) = (&self.record.tp, self.record.offset);
        tracing::warn!(flavor = self.flavor, %tp, offset, error = %self.error, "undecodable record");
    }
}

/// An event reached a final outcome without a dead letter: success (`skip`
/// is `None`) or a skip.
pub struct EventCompleted<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// Where it came from.
    pub tp: &'a Tp,
    /// Its offset.
    pub offset: i64,
    /// The skip reason; `None` for a success.
    pub skip: Option<&'a SkipReason>,
    /// The event's span (gets the outcome).
    pub span: &'a Span,
}

impl<'a> EventCompleted<'a> {
    /// The event.
    pub fn new(
        flavor: &'static str,
        tp: &'a Tp,
        offset: i64,
        skip: Option<&'a SkipReason>,
        span: &'a Span,
    ) -> Self {
        Self {
            flavor,
            tp,
            offset,
            skip,
            span,
        }
    }

    /// Logs the outcome and records it on the span; the count goes to the
    /// dispatcher's [`Tally`].
    pub fn emit(self) {
        if self.span.is_none() && !tracing::enabled!(tracing::Level::DEBUG) {
            return;
        }
        let (outcome, reason) = match self.skip {
            None => ("success", String::new()),
            Some(reason) => ("skip", skip_label(reason)),
        };
        let (flavor, tp, offset) = (self.flavor, self.tp, self.offset);
        let span = self.span;
        tracing::debug!(parent: span, flavor, %tp, offset, outcome, reason, "event completed");
        trace::record_outcome(span, outcome, &reason);
    }
}

/// The `reason` label of a skip: its display form, bounded.
pub fn skip_label(reason: &SkipReason) -> String {
    let mut label = reason.to_string();
    if let Some((cut, _)) = label.char_indices().nth(MAX_REASON) {
        label.truncate(cut);
    }
    label
}

/// A failed attempt will be retried after a backoff.
pub struct RetryScheduled<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// The event (its attempts already counted).
    pub job: &'a Job,
    /// The backoff.
    pub delay: Duration,
    /// The error of the failed attempt.
    pub error: &'a str,
}

impl<'a> RetryScheduled<'a> {
    /// The event.
    pub fn new(flavor: &'static str, job: &'a Job, delay: Duration, error: &'a str) -> Self {
        Self {
            flavor,
            job,
            delay,
            error,
        }
    }

    /// Logs and counts the retry.
    pub fn emit(self) {
        let (tp, offset) = (&self.job.record.tp, self.job.record.offset);
        let (event_id, attempt) = (self.job.event.event_id.as_str(), self.job.attempts);
        let delay_ms = u64::try_from(self.delay.as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            parent: &self.job.span, flavor = self.flavor, %tp, offset, event_id, attempt, delay_ms,
            error = self.error, "retrying after backoff"
        );
        let labels = OutcomeLabels {
            flavor: self.flavor,
            outcome: "retry",
            reason: String::new(),
        };
        metrics().events.get_or_create(&labels).inc();
    }
}
