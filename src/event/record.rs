//! The Kafka record contract (ARCHITECTURE.md): key, value and headers of
//! an event or a command the service produces. One place, so `produce`, the
//! publisher of the flavors and the tests write identical records.

use prost::Message;
use rdkafka::message::{Header, OwnedHeaders};

use super::command::{CaseCommand, COMMAND_TYPE};
use super::CaseEvent;
use crate::source::record::{CONTENT_TYPE, EVENT_TYPE, PROTOBUF};

/// Key, value and headers of one Kafka record.
pub type RecordParts = (String, Vec<u8>, OwnedHeaders);

/// Key (the case id, else the project id), binary value and headers of an
/// event: `event-type`, `content-type` and the event's own `traceparent`.
pub fn record_parts(ev: &CaseEvent) -> RecordParts {
    let key = key_of(&ev.case_id, &ev.project_id);
    let headers = headers(EVENT_TYPE, &ev.event_type, ev.trace.as_ref());
    (key, ev.encode_to_vec(), headers)
}

/// The same for a command (`command-type` instead of `event-type`).
pub fn command_parts(cmd: &CaseCommand) -> RecordParts {
    let key = key_of(&cmd.case_id, &cmd.project_id);
    let headers = headers(COMMAND_TYPE, &cmd.command_type, cmd.trace.as_ref());
    (key, cmd.encode_to_vec(), headers)
}

fn key_of(case_id: &str, project_id: &str) -> String {
    match case_id.is_empty() {
        true => project_id.to_string(),
        false => case_id.to_string(),
    }
}

fn headers(
    type_header: &'static str,
    type_name: &str,
    trace: Option<&super::pb::TraceContext>,
) -> OwnedHeaders {
    let headers = OwnedHeaders::new()
        .insert(Header {
            key: type_header,
            value: Some(type_name),
        })
        .insert(Header {
            key: CONTENT_TYPE,
            value: Some(PROTOBUF),
        });
    let mut headers = headers;
    if let Some(trace) = trace.filter(|t| !t.traceparent.is_empty()) {
        headers = headers.insert(Header {
            key: "traceparent",
            value: Some(trace.traceparent.as_str()),
        });
        if !trace.tracestate.is_empty() {
            headers = headers.insert(Header {
                key: "tracestate",
                value: Some(trace.tracestate.as_str()),
            });
        }
    }
    headers
}
