//! Record bytes → event, by the record's `content-type` header.

use crate::event::{self, Event};
use crate::source::record::{Record, CONTENT_TYPE, JSON};

/// Decodes a record: canonical proto JSON when the content type says so,
/// binary protobuf otherwise, validated once into an [`Event`]. The error
/// names the problem.
pub fn decode_record(record: &Record) -> Result<Event, String> {
    let is_json = record
        .header(CONTENT_TYPE)
        .is_some_and(|ct| ct.starts_with(JSON.as_bytes()));
    if is_json {
        let text = std::str::from_utf8(&record.payload)
            .map_err(|e| format!("json payload is not UTF-8: {e}"))?;
        event::event_from_json_line(text).map_err(|e| e.to_string())
    } else {
        event::decode_event(&record.payload).map_err(|e| e.to_string())
    }
}
