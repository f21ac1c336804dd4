//! Record bytes → `runtime::decode_record` and the intake's routing
//! (`runtime::intake::prepare`), binary protobuf path. The first byte picks
//! the headers: a valid `event-type` (and `content-type: protobuf`), none,
//! or arbitrary ones read from the input. A decoded event must be valid,
//! re-encode to bytes that decode to the same event, and routing must agree
//! with decoding.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use case_event_handler::event::{self, EventType};
use case_event_handler::runtime::decode_record;
use case_event_handler::runtime::intake::prepare;
use case_event_handler::source::record::{CONTENT_TYPE, EVENT_TYPE, PROTOBUF};
use libfuzzer_sys::fuzz_target;
use prost::Message;

#[path = "common/mod.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (headers, payload) = match mode % 3 {
        0 => {
            let kind = EventType::ALL[usize::from(mode / 3) % EventType::ALL.len()];
            let headers = vec![
                (EVENT_TYPE.to_string(), Bytes::from(kind.as_str())),
                (CONTENT_TYPE.to_string(), Bytes::from(PROTOBUF)),
            ];
            (headers, rest)
        }
        1 => (Vec::new(), rest),
        _ => {
            let mut u = Unstructured::new(rest);
            let headers: Vec<(String, Vec<u8>)> = Arbitrary::arbitrary(&mut u).unwrap_or_default();
            let headers = headers
                .into_iter()
                .map(|(k, v)| (k, Bytes::from(v)))
                .collect();
            (headers, u.take_rest())
        }
    };
    let record = common::record(payload, headers);
    let decoded = decode_record(&record);
    if let Ok(ev) = &decoded {
        event::validate(ev).expect("a decoded event is valid");
        if !common::is_json(&record) {
            let again = event::decode(&ev.encode_to_vec()).expect("a decoded event re-encodes");
            assert_eq!(&again, ev.envelope(), "protobuf round trip");
        }
    }
    common::check_routing(&record, &decoded, &prepare(&record, common::all_types()));
});
