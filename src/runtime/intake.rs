//! The intake stage: raw chunks from the source become prepared chunks for
//! the dispatcher, on a task of their own (so decoding runs beside the
//! dispatcher, not on it).
//!
//! Per record: route on the `event-type` header first, so events the flavor
//! does not want are never decoded; decode the rest; a header that names
//! another type than the payload is an invalid record. Control messages
//! (revokes, end, failure) pass through in order, behind every record sent
//! before them.

use std::sync::Arc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::decode_record;
use super::record::Record;
use crate::event::CaseEvent;
use crate::handler::Processor;
use crate::source::SourceMsg;

/// The record header naming the event type.
pub const EVENT_TYPE: &str = "event-type";

/// What the dispatcher reads.
#[derive(Debug)]
pub enum Input {
    /// Prepared records, in the source's order.
    Records(Vec<Taken>),
    /// A revoke, the end or a failure of the source.
    Control(SourceMsg),
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
        other => Input::Control(other),
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
