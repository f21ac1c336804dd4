//! Record bytes → `runtime::decode_record` and the intake's routing, canonical
//! proto3 JSON path (`content-type: application/json`). The first byte picks
//! the `event-type` header: a valid type, none, or the bytes up to the first
//! newline. A decoded event must be valid and survive a JSON and a protobuf
//! round trip unchanged; routing must agree with decoding.
#![no_main]

use bytes::Bytes;
use case_event_handler::event::{self, EventType};
use case_event_handler::runtime::decode_record;
use case_event_handler::runtime::intake::prepare;
use case_event_handler::source::record::{CONTENT_TYPE, EVENT_TYPE, JSON};
use libfuzzer_sys::fuzz_target;
use prost::Message;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut headers = vec![(CONTENT_TYPE.to_string(), Bytes::from(JSON))];
    let payload = match mode % 3 {
        0 => {
            let kind = EventType::ALL[usize::from(mode / 3) % EventType::ALL.len()];
            headers.push((EVENT_TYPE.to_string(), Bytes::from(kind.as_str())));
            rest
        }
        1 => rest,
        _ => {
            let split = rest.iter().position(|&b| b == b'\n').unwrap_or(0);
            let (header, payload) = rest.split_at(split);
            headers.push((EVENT_TYPE.to_string(), Bytes::copy_from_slice(header)));
            payload
        }
    };
    let record = common::record(payload, headers);
    let decoded = decode_record(&record);
    if let Ok(ev) = &decoded {
        event::validate(ev).expect("a decoded event is valid");
        let line = event::to_json_line(ev).expect("a decoded event prints as JSON");
        let again = event::from_json_line(&line).expect("printed JSON parses back");
        assert_eq!(&again, ev.envelope(), "JSON round trip of {line}");
        let again = event::decode(&ev.encode_to_vec()).expect("a decoded event re-encodes");
        assert_eq!(&again, ev.envelope(), "protobuf round trip");
    }
    common::check_routing(&record, &decoded, &prepare(&record, common::all_types()));
});
