//! The intake stage: raw chunks from the source become prepared chunks for
//! the dispatcher, on a task of their own (so decoding runs beside the
//! dispatcher, not on it).
//!
//! Per record: route on the `event-type` header first, so events the flavor
//! does not want are never decoded; decode the rest; a header that names
//! another type than the payload is an invalid record. A decoded event the
//! registry row drops (an echo of the flavor's own origin, or one without
//! the snapshot the flavor needs) is a named skip, never a handler call. Control messages
//! (revokes, end, failure) pass through in order, behind every record sent
//! before them.

use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::decode_record;
use crate::event::Event;
use crate::flavors::kit::Consumes;
use crate::handler::SkipReason;
use crate::source::record::{Record, Tp, EVENT_TYPE};
use crate::source::SourceMsg;

/// What the dispatcher reads.
#[derive(Debug)]
pub enum Input {
    /// Prepared records, in the source's order.
    Records(Vec<Taken>),
    /// These partitions are being taken away (see [`SourceMsg::Revoke`]).
    Revoke {
        /// The partitions going away.
        tps: Vec<Tp>,
        /// Where the final watermarks go.
        reply: SyncSender<Vec<(Tp, i64)>>,
    },
    /// The source has nothing more.
    End,
    /// The source failed and cannot go on.
    Failed(String),
}

/// One record with what intake made of it.
#[derive(Debug)]
pub struct Taken {
    /// The raw record (kept for the dead-letter topic until it commits).
    pub record: Record,
    /// The decoded event, or why there is none.
    pub event: Prepared,
}

/// What intake made of a record.
#[derive(Debug)]
pub enum Prepared {
    /// A wanted event.
    Event(Arc<Event>),
    /// Skipped before the handler: a type the flavor does not consume
    /// (never decoded when the header says so), an echo, or no snapshot.
    Skipped(SkipReason),
    /// Not a valid event; the message names the problem.
    Invalid(String),
}

/// Starts the stage; it ends when the source's channel closes or the
/// dispatcher stops reading.
pub fn spawn(
    mut raw: UnboundedReceiver<SourceMsg>,
    consumes: Consumes,
) -> UnboundedReceiver<Input> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                msg = raw.recv() => msg,
                _ = tx.closed() => return,
            };
            let Some(msg) = msg else { return };
            if forward(&tx, msg, &consumes).is_err() {
                return;
            }
        }
    });
    rx
}

fn forward(tx: &UnboundedSender<Input>, msg: SourceMsg, consumes: &Consumes) -> Result<(), ()> {
    let input = match msg {
        SourceMsg::Records(records) => Input::Records(
            records
                .into_iter()
                .map(|record| {
                    let event = prepare(&record, consumes);
                    Taken { record, event }
                })
                .collect(),
        ),
        SourceMsg::Revoke { tps, reply } => Input::Revoke { tps, reply },
        SourceMsg::End => Input::End,
        SourceMsg::Failed(why) => Input::Failed(why),
    };
    tx.send(input).map_err(|_| ())
}

/// Routes, decodes and checks one record.
pub fn prepare(record: &Record, consumes: &Consumes) -> Prepared {
    let header = record.header(EVENT_TYPE).map(std::str::from_utf8);
    let named = match header {
        Some(Ok(t)) if !consumes.wants_name(t) => return not_interested(),
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => return Prepared::Invalid("the event-type header is not UTF-8".into()),
        None => None,
    };
    let event = match decode_record(record) {
        Ok(event) => event,
        Err(err) => return Prepared::Invalid(err),
    };
    match named {
        Some(t) if t != event.event_type => Prepared::Invalid(format!(
            "the event-type header says '{t}' but the payload is '{}'",
            event.event_type
        )),
        None if !consumes.wants(event.kind()) => not_interested(),
        _ => match consumes.skip(&event) {
            Some(reason) => Prepared::Skipped(reason),
            None => Prepared::Event(Arc::new(event)),
        },
    }
}

fn not_interested() -> Prepared {
    Prepared::Skipped(SkipReason::NotInterested)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::event::pb::{Origin, OriginChannel};
    use crate::event::synth::{Synth, SynthSpec};
    use crate::event::{CaseEvent, EventType, Scope};
    use crate::source::record::Tp;

    const STATUS_ONLY: Consumes = Consumes::types(&[EventType::CaseStatusChanged]);
    const ALL: Consumes = Consumes::all();

    fn an_event(event_type: &str) -> CaseEvent {
        let spec = SynthSpec {
            cases: 5,
            events_per_case: 40,
            ..SynthSpec::default()
        };
        Synth::new(3, spec)
            .find(|e| e.event_type == event_type)
            .expect("the synthetic stream has this type")
    }

    fn record(payload: Vec<u8>, header: Option<&str>) -> Record {
        let headers = header
            .map(|t| vec![(EVENT_TYPE.to_string(), Bytes::from(t.to_string()))])
            .unwrap_or_default();
        Record {
            tp: Tp::new("t", 0),
            offset: 0,
            key: None,
            payload: Bytes::from(payload),
            headers,
            timestamp_ms: None,
        }
    }

    fn skipped(prepared: Prepared) -> Option<SkipReason> {
        match prepared {
            Prepared::Skipped(reason) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn an_unwanted_type_named_by_the_header_is_never_decoded() {
        let r = record(
            b"\xff not protobuf at all".to_vec(),
            Some("case.comment_added"),
        );
        assert_eq!(
            skipped(prepare(&r, &STATUS_ONLY)),
            Some(SkipReason::NotInterested)
        );
    }

    #[test]
    fn a_header_naming_another_type_than_the_payload_is_invalid() {
        let body = prost::Message::encode_to_vec(&an_event("case.status_changed"));
        let r = record(body.clone(), Some("case.comment_deleted"));
        assert_eq!(
            skipped(prepare(&r, &STATUS_ONLY)),
            Some(SkipReason::NotInterested),
            "an unwanted header type is routed before decoding"
        );
        match prepare(&r, &ALL) {
            Prepared::Invalid(why) => {
                assert!(why.contains("case.comment_deleted"), "{why}");
                assert!(why.contains("case.status_changed"), "{why}");
            }
            other => panic!("expected invalid, got {other:?}"),
        }
        let ok = record(body, Some("case.status_changed"));
        assert!(matches!(prepare(&ok, &ALL), Prepared::Event(_)));
    }

    #[test]
    fn without_a_header_the_decoded_type_routes() {
        let wanted = prost::Message::encode_to_vec(&an_event("case.status_changed"));
        assert!(matches!(
            prepare(&record(wanted, None), &STATUS_ONLY),
            Prepared::Event(ev) if ev.kind() == EventType::CaseStatusChanged
        ));
        let other = prost::Message::encode_to_vec(&an_event("case.comment_added"));
        assert_eq!(
            skipped(prepare(&record(other, None), &STATUS_ONLY)),
            Some(SkipReason::NotInterested)
        );
        assert!(matches!(
            prepare(&record(b"\xff\xfe".to_vec(), None), &STATUS_ONLY),
            Prepared::Invalid(_)
        ));
    }

    #[test]
    fn an_event_without_the_snapshot_a_flavor_needs_is_a_named_skip() {
        let needs = Consumes::scope(Scope::Case).needing_snapshot();
        let mut ev = an_event("case.status_changed");
        assert!(ev.case_after.is_some(), "synthetic events carry one");
        let with = record(prost::Message::encode_to_vec(&ev), None);
        assert!(matches!(prepare(&with, &needs), Prepared::Event(_)));
        ev.case_after = None;
        let without = record(prost::Message::encode_to_vec(&ev), None);
        assert_eq!(
            skipped(prepare(&without, &needs)),
            Some(SkipReason::NoSnapshot)
        );
        let copes = Consumes::scope(Scope::Case);
        assert!(matches!(prepare(&without, &copes), Prepared::Event(_)));
    }

    #[test]
    fn an_echo_of_the_flavors_own_origin_is_a_named_skip() {
        let sync = Consumes::scope(Scope::Case).except_echoes_of(&[OriginChannel::Jira]);
        let mut ev = an_event("case.status_changed");
        ev.origin = Some(Origin {
            channel: OriginChannel::Jira as i32,
            external_ref: None,
        });
        let echo = record(prost::Message::encode_to_vec(&ev), None);
        assert_eq!(
            skipped(prepare(&echo, &sync)),
            Some(SkipReason::Echo("jira"))
        );
        assert!(matches!(prepare(&echo, &ALL), Prepared::Event(_)));
    }
}
