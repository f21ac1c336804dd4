//! The intake stage: raw chunks from the source become prepared chunks for
//! the dispatcher, on a task of their own (so decoding runs beside the
//! dispatcher, not on it).
//!
//! Per record: route on the `event-type` header first, so events the flavor
//! does not want are never decoded; decode the rest; a header that names
//! another type than the payload is an invalid record. Control messages
//! (revokes, end, failure) pass through in order, behind every record sent
//! before them.

use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::decode_record;
use crate::event::CaseEvent;
use crate::handler::Processor;
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
    Event(Arc<CaseEvent>),
    /// The flavor does not consume this type (never decoded when the header says so).
    NotInterested,
    /// Not a valid event; the message names the problem.
    Invalid(String),
}

/// Starts the stage; it ends when the source's channel closes or the
/// dispatcher stops reading.
pub fn spawn(
    mut raw: UnboundedReceiver<SourceMsg>,
    processor: Processor,
) -> UnboundedReceiver<Input> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                msg = raw.recv() => msg,
                _ = tx.closed() => return,
            };
            let Some(msg) = msg else { return };
            if forward(&tx, msg, &processor).is_err() {
                return;
            }
        }
    });
    rx
}

fn forward(tx: &UnboundedSender<Input>, msg: SourceMsg, processor: &Processor) -> Result<(), ()> {
    let input = match msg {
        SourceMsg::Records(records) => Input::Records(
            records
                .into_iter()
                .map(|record| {
                    let event = prepare(&record, processor);
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
pub fn prepare(record: &Record, processor: &Processor) -> Prepared {
    let header = record.header(EVENT_TYPE).map(std::str::from_utf8);
    let named = match header {
        Some(Ok(t)) if !processor.wants(t) => return Prepared::NotInterested,
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
        None if !processor.wants(&event.event_type) => Prepared::NotInterested,
        _ => Prepared::Event(Arc::new(event)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;
    use bytes::Bytes;

    use super::*;
    use crate::event::synth::{Synth, SynthSpec};
    use crate::handler::{Ctx, HandleResp, Handler};
    use crate::source::record::Tp;

    /// Wants only status changes; counts how often it was asked.
    struct StatusOnly(AtomicUsize);

    #[async_trait]
    impl Handler for StatusOnly {
        fn wants(&self, event_type: &str) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            event_type == "case.status_changed"
        }
        async fn handle(&self, _: &Ctx, _: &CaseEvent) -> HandleResp {
            HandleResp::Success
        }
    }

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

    fn processor() -> Processor {
        Processor::Single(std::sync::Arc::new(StatusOnly(AtomicUsize::new(0))))
    }

    #[test]
    fn an_unwanted_type_named_by_the_header_is_never_decoded() {
        let r = record(
            b"\xff not protobuf at all".to_vec(),
            Some("case.comment_added"),
        );
        assert!(matches!(prepare(&r, &processor()), Prepared::NotInterested));
    }

    #[test]
    fn a_header_naming_another_type_than_the_payload_is_invalid() {
        let body = prost::Message::encode_to_vec(&an_event("case.status_changed"));
        let r = record(body.clone(), Some("case.comment_deleted"));
        let Prepared::NotInterested = prepare(&r, &processor()) else {
            panic!("an unwanted header type is routed before decoding");
        };
        let wants_all = Processor::Single(std::sync::Arc::new(AllTypes));
        match prepare(&r, &wants_all) {
            Prepared::Invalid(why) => {
                assert!(why.contains("case.comment_deleted"), "{why}");
                assert!(why.contains("case.status_changed"), "{why}");
            }
            other => panic!("expected invalid, got {other:?}"),
        }
        let ok = record(body, Some("case.status_changed"));
        assert!(matches!(prepare(&ok, &wants_all), Prepared::Event(_)));
    }

    #[test]
    fn without_a_header_the_decoded_type_routes() {
        let wanted = prost::Message::encode_to_vec(&an_event("case.status_changed"));
        assert!(matches!(
            prepare(&record(wanted, None), &processor()),
            Prepared::Event(_)
        ));
        let other = prost::Message::encode_to_vec(&an_event("case.comment_added"));
        assert!(matches!(
            prepare(&record(other, None), &processor()),
            Prepared::NotInterested
        ));
        assert!(matches!(
            prepare(&record(b"\xff\xfe".to_vec(), None), &processor()),
            Prepared::Invalid(_)
        ));
    }

    struct AllTypes;

    #[async_trait]
    impl Handler for AllTypes {
        fn wants(&self, _: &str) -> bool {
            true
        }
        async fn handle(&self, _: &Ctx, _: &CaseEvent) -> HandleResp {
            HandleResp::Success
        }
    }
}
