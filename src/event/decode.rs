//! Wire decoding with the envelope checks every consumer relies on.
//!
//! The checks are deliberately cheap (string comparisons and one UUID parse)
//! because they run for every record of every partition.

use prost::Message;

use super::event_type::{EventType, Scope};
use super::pb::CaseEvent;
use super::valid::Event;

/// Why a record is not a usable [`CaseEvent`]. Every variant means the record
/// is invalid as sent: retrying cannot help.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not a protobuf `CaseEvent`.
    #[error("invalid protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    /// The line is not a canonical-JSON `CaseEvent` (includes unknown fields).
    #[error("invalid event JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `event_id` is empty.
    #[error("event_id is missing")]
    MissingEventId,
    /// `event_id` is not a UUID.
    #[error("event_id {event_id:?} is not a UUID: {source}")]
    InvalidEventId {
        /// The offending value.
        event_id: String,
        /// Parse failure.
        source: uuid::Error,
    },
    /// No payload variant is set. This is also what a payload type added
    /// after this build decodes to, since protobuf skips unknown fields.
    #[error("payload is missing (unset, or a payload type unknown to this build)")]
    MissingPayload,
    /// `event_type` does not name the payload variant that is set.
    #[error("event_type {event_type:?} does not match the payload ({payload})")]
    EventTypeMismatch {
        /// The `event_type` string as sent.
        event_type: String,
        /// The type of the payload that is set.
        payload: EventType,
    },
    /// A case-scoped event has an empty `case_id`.
    #[error("case_id is missing on a {0} event")]
    MissingCaseId(EventType),
    /// A project-scoped event has an empty `project_id`.
    #[error("project_id is missing on a {0} event")]
    MissingProjectId(EventType),
}

/// Decodes one protobuf-encoded record into an [`Event`] (validated once).
pub fn decode_event(bytes: &[u8]) -> Result<Event, DecodeError> {
    Event::new(CaseEvent::decode(bytes)?)
}

/// Decodes one protobuf-encoded record and [`validate`]s it.
pub fn decode(bytes: &[u8]) -> Result<CaseEvent, DecodeError> {
    let event = CaseEvent::decode(bytes)?;
    validate(&event)?;
    Ok(event)
}

/// Checks the envelope invariants and returns the event's type:
/// `event_id` is a UUID, a payload is set, `event_type` names it, and the
/// key (`case_id`, or `project_id` for project-scoped events) is present.
pub fn validate(event: &CaseEvent) -> Result<EventType, DecodeError> {
    if event.event_id.is_empty() {
        return Err(DecodeError::MissingEventId);
    }
    if let Err(source) = uuid::Uuid::try_parse(&event.event_id) {
        return Err(DecodeError::InvalidEventId {
            event_id: event.event_id.clone(),
            source,
        });
    }
    let kind = event.payload_kind().ok_or(DecodeError::MissingPayload)?;
    if event.event_type != kind.as_str() {
        return Err(DecodeError::EventTypeMismatch {
            event_type: event.event_type.clone(),
            payload: kind,
        });
    }
    match kind.scope() {
        Scope::Case if event.case_id.is_empty() => Err(DecodeError::MissingCaseId(kind)),
        Scope::Project if event.project_id.is_empty() => Err(DecodeError::MissingProjectId(kind)),
        _ => Ok(kind),
    }
}
