//! The stamps every produced record gets: its causal chain (causation,
//! correlation, depth, trace), the ordinal that derives its id, and times.

use super::PublishError;
use super::MAX_CHAIN_DEPTH;
use crate::event::pb::TraceContext;
use crate::event::CaseEvent;

/// Causation, correlation, depth and trace of a record caused by `cause`.
pub(super) struct Chain {
    pub(super) causation_id: String,
    pub(super) correlation_id: String,
    pub(super) depth: u32,
    pub(super) trace: Option<TraceContext>,
}

impl Chain {
    /// Without a cause, the record starts a chain: its correlation id is
    /// the one it carries, else its own id.
    pub(super) fn of(
        cause: Option<&CaseEvent>,
        correlation: &str,
        own_id: &str,
        what: &str,
    ) -> Result<Self, PublishError> {
        let Some(cause) = cause else {
            let trace =
                crate::telemetry::trace::current_traceparent().map(|traceparent| TraceContext {
                    traceparent,
                    tracestate: String::new(),
                });
            return Ok(Self {
                causation_id: String::new(),
                correlation_id: match correlation.is_empty() {
                    true => own_id.to_string(),
                    false => correlation.to_string(),
                },
                depth: 0,
                trace,
            });
        };
        let depth = cause.chain_depth + 1;
        if depth > MAX_CHAIN_DEPTH {
            return Err(PublishError::ChainTooDeep {
                what: what.to_string(),
                cause: cause.event_id.clone(),
                depth,
            });
        }
        let correlation_id = match cause.correlation_id.is_empty() {
            true => cause.event_id.clone(),
            false => cause.correlation_id.clone(),
        };
        let trace = crate::telemetry::trace::current_traceparent()
            .map(|traceparent| TraceContext {
                traceparent,
                tracestate: String::new(),
            })
            .or_else(|| cause.trace.clone());
        Ok(Self {
            causation_id: cause.event_id.clone(),
            correlation_id,
            depth,
            trace,
        })
    }
}

/// How many records of each type one call has stamped so far: the n-th
/// gets purpose `<type>#<n>`. A record without a payload counts under ""
/// (stamping refuses it anyway).
#[derive(Default)]
pub(super) struct Ordinals(std::collections::HashMap<&'static str, usize>);

impl Ordinals {
    pub(super) fn next(&mut self, kind: Option<&'static str>) -> usize {
        let n = self.0.entry(kind.unwrap_or_default()).or_default();
        *n += 1;
        *n - 1
    }
}

pub(super) fn fill(field: &mut String, from: &str) {
    if field.is_empty() {
        field.push_str(from);
    }
}

pub(super) fn now() -> crate::event::Timestamp {
    let now = chrono::Utc::now();
    crate::event::Timestamp {
        seconds: now.timestamp(),
        nanos: now.timestamp_subsec_nanos() as i32,
    }
}
