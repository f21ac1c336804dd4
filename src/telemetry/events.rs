//! Named telemetry events: the one place where the runtime's logs and metrics
//! are written. Each event is a struct whose `emit` writes its log line and
//! its metrics together (as Vector's `internal_events` do), so a metric can't
//! drift from the log that explains it. The dispatcher, the Kafka source and
//! the HTTP base call these; flavors never do.
//!
//! Logs use key/value fields: `flavor`, `tp`, `offset`, `event_id`, `reason`,
//! `error = %error`.

mod dead_letter;
mod deliveries;
mod kafka;
mod lifecycle;
mod load;
mod outbound;
mod tally;
mod timers;

use std::fmt::Display;
use std::time::Duration;

use tracing::Span;

use super::metrics::{metrics, OutcomeLabels};
use super::trace;
use super::At;

pub use dead_letter::{DeadLetterFailed, DeadLettered, DeadLettering};
pub use deliveries::{DeliveryResult, DeliveryTally};
pub use kafka::{CommitDone, KafkaStats};
pub use lifecycle::{GraceExpired, RevokeDraining, RunFailed, Stopping};
pub use load::{BatchStarted, InFlight, Mode, PausedPartitions};
pub use outbound::{BreakerChanged, MaintenanceWindow, OutboundHttp};
pub use tally::{HandlerTimer, Tally};
pub use timers::{TimerResult, TimerTally};

/// A record could not be decoded; it goes to the dead-letter topic.
pub struct RecordInvalid<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// Where the record is.
    pub at: At<'a>,
    /// Why it is not an event.
    pub error: &'a dyn Display,
}

impl<'a> RecordInvalid<'a> {
    /// The event.
    pub fn new(flavor: &'static str, at: At<'a>, error: &'a dyn Display) -> Self {
        Self { flavor, at, error }
    }

    /// Logs the record (it is counted once its dead letter is written).
    pub fn emit(self) {
        let (tp, offset) = (self.at.tp(), self.at.offset);
        tracing::warn!(flavor = self.flavor, %tp, offset, error = %self.error, "undecodable record");
    }
}

/// An event reached a final outcome without a dead letter: success (`skip`
/// is `None`) or a skip.
pub struct EventCompleted<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// Where it came from.
    pub at: At<'a>,
    /// The skip reason's label; `None` for a success.
    pub skip: Option<&'a str>,
    /// The event's span (gets the outcome).
    pub span: &'a Span,
}

impl<'a> EventCompleted<'a> {
    /// The event.
    pub fn new(flavor: &'static str, at: At<'a>, skip: Option<&'a str>, span: &'a Span) -> Self {
        Self {
            flavor,
            at,
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
            None => ("success", ""),
            Some(reason) => ("skip", reason),
        };
        let (flavor, tp, offset) = (self.flavor, self.at.tp(), self.at.offset);
        let span = self.span;
        tracing::debug!(parent: span, flavor, %tp, offset, outcome, reason, "event completed");
        trace::record_outcome(span, outcome, reason);
    }
}

/// A failed attempt will be retried after a backoff.
pub struct RetryScheduled<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// Where the event is.
    pub at: At<'a>,
    /// Its id.
    pub event_id: &'a str,
    /// Attempts so far.
    pub attempt: u32,
    /// Its span.
    pub span: &'a Span,
    /// The backoff.
    pub delay: Duration,
    /// The error of the failed attempt.
    pub error: &'a str,
}

impl RetryScheduled<'_> {
    /// Logs and counts the retry.
    pub fn emit(self) {
        let (tp, offset) = (self.at.tp(), self.at.offset);
        let (event_id, attempt) = (self.event_id, self.attempt);
        let delay_ms = u64::try_from(self.delay.as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            parent: self.span, flavor = self.flavor, %tp, offset, event_id, attempt, delay_ms,
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
