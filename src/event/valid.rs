//! [`Event`]: a [`CaseEvent`] that passed [`validate`], which is what every
//! handler receives.
//!
//! The envelope checks run once, where the event is built; after that the
//! payload is not optional: [`Event::payload`] answers a [`Payload`], and
//! [`Event::kind`] the [`EventType`] that `event_type` names.

use std::ops::Deref;

use super::decode::{validate, DecodeError};
use super::event_type::EventType;
use super::pb::case_event::Payload;
use super::pb::CaseEvent;

/// A validated [`CaseEvent`]: `event_id` is a UUID, a payload is set,
/// `event_type` names it, and the key of its scope is present.
///
/// Only [`Event::new`] (or `TryFrom<CaseEvent>`) builds one, and the fields
/// are private, so the invariant holds for the event's whole life. It derefs
/// to the envelope, so `event.event_id` or passing `&Event` where a
/// `&CaseEvent` is expected work as before.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    inner: CaseEvent,
    kind: EventType,
}

impl Event {
    /// Validates `ev`; the error names the envelope check that failed.
    pub fn new(ev: CaseEvent) -> Result<Event, DecodeError> {
        let kind = validate(&ev)?;
        Ok(Event { inner: ev, kind })
    }

    /// The event's type, which names its payload.
    pub fn kind(&self) -> EventType {
        self.kind
    }

    /// The payload.
    pub fn payload(&self) -> &Payload {
        match &self.inner.payload {
            Some(payload) => payload,
            // `new` is the only constructor and refuses an event without a
            // payload (`DecodeError::MissingPayload`); the field is private
            // and never changed after, so this arm cannot be reached.
            None => unreachable!("an Event always has a payload (checked by Event::new)"),
        }
    }

    /// The envelope.
    pub fn envelope(&self) -> &CaseEvent {
        &self.inner
    }

    /// The envelope, giving up the guarantee.
    pub fn into_inner(self) -> CaseEvent {
        self.inner
    }
}

impl TryFrom<CaseEvent> for Event {
    type Error = DecodeError;

    fn try_from(ev: CaseEvent) -> Result<Self, Self::Error> {
        Event::new(ev)
    }
}

impl Deref for Event {
    type Target = CaseEvent;

    fn deref(&self) -> &CaseEvent {
        &self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::fixtures;
    use crate::event::pb::CaseTitleChanged;

    fn title_changed() -> CaseEvent {
        fixtures::on_case(
            "c-1",
            2,
            Payload::CaseTitleChanged(CaseTitleChanged {
                old: "a".into(),
                new: "b".into(),
            }),
        )
    }

    #[test]
    fn a_valid_event_constructs_and_reads_back() {
        let ev = title_changed();
        let valid = Event::new(ev.clone()).expect("a fixture is valid");
        assert_eq!(valid.kind(), EventType::CaseTitleChanged);
        assert!(matches!(valid.payload(), Payload::CaseTitleChanged(t) if t.new == "b"));
        assert_eq!(valid.event_id, ev.event_id, "derefs to the envelope");
        assert_eq!(valid.envelope(), &ev);
        assert_eq!(Event::try_from(ev.clone()).expect("valid"), valid);
        assert_eq!(valid.into_inner(), ev);
    }

    #[test]
    fn an_event_without_a_payload_is_refused() {
        let mut ev = title_changed();
        ev.payload = None;
        assert!(matches!(Event::new(ev), Err(DecodeError::MissingPayload)));
    }

    #[test]
    fn an_event_type_that_does_not_name_the_payload_is_refused() {
        let mut ev = title_changed();
        ev.event_type = "case.status_changed".into();
        match Event::try_from(ev) {
            Err(DecodeError::EventTypeMismatch {
                event_type,
                payload,
            }) => {
                assert_eq!(event_type, "case.status_changed");
                assert_eq!(payload, EventType::CaseTitleChanged);
            }
            other => panic!("expected a type mismatch, got {other:?}"),
        }
    }
}
