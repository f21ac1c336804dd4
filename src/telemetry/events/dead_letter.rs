//! Events of the dead-letter path.

use tracing::Span;

use crate::runtime::dlq::{DlqEntry, DlqReason};
use crate::source::record::Record;
use crate::telemetry::metrics::{metrics, OutcomeLabels, ReasonLabels};
use crate::telemetry::trace;

/// An event is being written to the dead-letter topic.
pub struct DeadLettering<'a> {
    /// The record.
    pub record: &'a Record,
    /// The event id (empty for undecodable records).
    pub event_id: &'a str,
    /// Flavor, reason, error and attempts.
    pub entry: &'a DlqEntry,
}

impl<'a> DeadLettering<'a> {
    /// The event.
    pub fn new(record: &'a Record, event_id: &'a str, entry: &'a DlqEntry) -> Self {
        Self {
            record,
            event_id,
            entry,
        }
    }

    /// Logs the decision (counted once the write succeeds).
    pub fn emit(self) {
        let (tp, offset, e) = (&self.record.tp, self.record.offset, self.entry);
        tracing::warn!(
            flavor = e.flavor, %tp, offset, event_id = self.event_id, reason = %e.reason,
            attempts = e.attempts, error = %e.error, "dead-lettering event"
        );
    }
}

/// A dead letter was written: the event's final outcome.
pub struct DeadLettered<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// The record.
    pub record: &'a Record,
    /// Why.
    pub reason: DlqReason,
    /// The event's span (gets the outcome).
    pub span: &'a Span,
}

impl<'a> DeadLettered<'a> {
    /// The event.
    pub fn new(
        flavor: &'static str,
        record: &'a Record,
        reason: DlqReason,
        span: &'a Span,
    ) -> Self {
        Self {
            flavor,
            record,
            reason,
            span,
        }
    }

    /// Logs and counts the write and the outcome (`invalid` or `discard`),
    /// and records the outcome on the span.
    pub fn emit(self) {
        let (flavor, reason) = (self.flavor, self.reason.as_str());
        let (tp, offset) = (&self.record.tp, self.record.offset);
        tracing::info!(parent: self.span, flavor, %tp, offset, reason, "dead letter written");
        let outcome = match self.reason {
            DlqReason::Invalid => "invalid",
            DlqReason::Discarded | DlqReason::RetriesExhausted => "discard",
        };
        trace::record_outcome(self.span, outcome, reason);
        let m = metrics();
        m.dlq_writes
            .get_or_create(&ReasonLabels { flavor, reason })
            .inc();
        let labels = OutcomeLabels {
            flavor,
            outcome,
            reason: reason.to_string(),
        };
        m.events.get_or_create(&labels).inc();
    }
}

/// A dead letter could not be written (the run stops).
pub struct DeadLetterFailed<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// The record.
    pub record: &'a Record,
    /// Why it was to be dead-lettered.
    pub reason: DlqReason,
    /// Why the write failed.
    pub error: &'a str,
}

impl<'a> DeadLetterFailed<'a> {
    /// The event.
    pub fn new(
        flavor: &'static str,
        record: &'a Record,
        reason: DlqReason,
        error: &'a str,
    ) -> Self {
        Self {
            flavor,
            record,
            reason,
            error,
        }
    }

    /// Logs and counts the failure.
    pub fn emit(self) {
        let (flavor, reason) = (self.flavor, self.reason.as_str());
        let (tp, offset) = (&self.record.tp, self.record.offset);
        tracing::error!(flavor, %tp, offset, reason, error = self.error, "dead-letter write failed");
        metrics()
            .dlq_failures
            .get_or_create(&ReasonLabels { flavor, reason })
            .inc();
    }
}
