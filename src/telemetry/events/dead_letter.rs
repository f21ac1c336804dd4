//! Events of the dead-letter path. Reasons are their labels (`invalid`,
//! `discarded`, `retries-exhausted`).

use tracing::Span;

use crate::telemetry::metrics::{metrics, OutcomeLabels, ReasonLabels};
use crate::telemetry::{trace, At};

/// An event is being written to the dead-letter topic.
pub struct DeadLettering<'a> {
    /// The flavor.
    pub flavor: &'a str,
    /// Where the record is.
    pub at: At<'a>,
    /// The event id (empty for undecodable records).
    pub event_id: &'a str,
    /// The reason label.
    pub reason: &'a str,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: &'a str,
}

impl DeadLettering<'_> {
    /// Logs the decision (counted once the write succeeds).
    pub fn emit(self) {
        let (tp, offset) = (self.at.tp(), self.at.offset);
        tracing::warn!(
            flavor = self.flavor, %tp, offset, event_id = self.event_id, reason = self.reason,
            attempts = self.attempts, error = self.error, "dead-lettering event"
        );
    }
}

/// A dead letter was written: the event's final outcome.
pub struct DeadLettered<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// Where the record is.
    pub at: At<'a>,
    /// The reason label.
    pub reason: &'static str,
    /// The event's span (gets the outcome).
    pub span: &'a Span,
}

impl<'a> DeadLettered<'a> {
    /// The event.
    pub fn new(flavor: &'static str, at: At<'a>, reason: &'static str, span: &'a Span) -> Self {
        Self {
            flavor,
            at,
            reason,
            span,
        }
    }

    /// Logs, counts (`ceh_dlq_writes_total`, `ceh_events_total`) and
    /// records the outcome on the span.
    pub fn emit(self) {
        let (flavor, reason) = (self.flavor, self.reason);
        let (tp, offset) = (self.at.tp(), self.at.offset);
        tracing::info!(parent: self.span, flavor, %tp, offset, reason, "dead letter written");
        let outcome = match reason {
            "invalid" => "invalid",
            _ => "discard",
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

/// A dead letter could not be written (the run stops or retries it).
pub struct DeadLetterFailed<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// Where the record is.
    pub at: At<'a>,
    /// The reason label.
    pub reason: &'static str,
    /// Why the write failed.
    pub error: &'a str,
}

impl<'a> DeadLetterFailed<'a> {
    /// The event.
    pub fn new(flavor: &'static str, at: At<'a>, reason: &'static str, error: &'a str) -> Self {
        Self {
            flavor,
            at,
            reason,
            error,
        }
    }

    /// Logs and counts the failure.
    pub fn emit(self) {
        let (flavor, reason) = (self.flavor, self.reason);
        let (tp, offset) = (self.at.tp(), self.at.offset);
        tracing::error!(flavor, %tp, offset, reason, error = self.error, "dead-letter write failed");
        metrics()
            .dlq_failures
            .get_or_create(&ReasonLabels { flavor, reason })
            .inc();
    }
}
