//! Shared by the record-decoding targets: a registry row's `consumes` that
//! takes every known event type, and the agreement of the intake's routing
//! with decoding.

use std::str::FromStr;

use bytes::Bytes;
use case_event_handler::event::{Event, EventType};
use case_event_handler::flavors::kit::Consumes;
use case_event_handler::handler::SkipReason;
use case_event_handler::runtime::intake::Prepared;
use case_event_handler::source::record::{Record, Tp, CONTENT_TYPE, EVENT_TYPE, JSON};

/// A record of `payload` with `headers`, as the source hands it over.
pub fn record(payload: &[u8], headers: Vec<(String, Bytes)>) -> Record {
    Record {
        tp: Tp::new("fuzz", 0),
        offset: 0,
        key: None,
        payload: Bytes::copy_from_slice(payload),
        headers,
        timestamp_ms: None,
    }
}

/// Takes every event type this build knows, nothing else.
pub fn all_types() -> &'static Consumes {
    static ALL: Consumes = Consumes::all();
    &ALL
}

/// Whether `decode_record` takes the JSON path for this record. (Each target
/// compiles this module on its own; not every one uses this.)
#[allow(dead_code)]
pub fn is_json(record: &Record) -> bool {
    record
        .header(CONTENT_TYPE)
        .is_some_and(|ct| ct.starts_with(JSON.as_bytes()))
}

/// `prepare` must agree with `decode_record` and the `event-type` header:
/// an unknown type named by the header is never decoded, a header that is
/// not UTF-8 or names another type than the payload is invalid, and an
/// event comes out exactly as decoded.
pub fn check_routing(record: &Record, decoded: &Result<Event, String>, prepared: &Prepared) {
    let header = record.header(EVENT_TYPE).map(std::str::from_utf8);
    let wants = |t: &str| EventType::from_str(t).is_ok();
    match (header, decoded, prepared) {
        (Some(Err(_)), _, Prepared::Invalid(_)) => {}
        (Some(Ok(t)), _, Prepared::Skipped(SkipReason::NotInterested)) if !wants(t) => {}
        (Some(Ok(t)), Err(_), Prepared::Invalid(_)) if wants(t) => {}
        (Some(Ok(t)), Ok(ev), Prepared::Invalid(_)) if wants(t) && t != ev.event_type => {}
        (Some(Ok(t)), Ok(ev), Prepared::Event(got)) if wants(t) && t == ev.event_type => {
            assert_eq!(&**got, ev);
        }
        (None, Err(_), Prepared::Invalid(_)) => {}
        (None, Ok(ev), Prepared::Event(got)) if wants(&ev.event_type) => assert_eq!(&**got, ev),
        (None, Ok(ev), Prepared::Skipped(SkipReason::NotInterested)) if !wants(&ev.event_type) => {}
        (header, decoded, prepared) => {
            let prepared = match prepared {
                Prepared::Event(_) => "Event".to_string(),
                Prepared::Skipped(why) => format!("Skipped({why})"),
                Prepared::Invalid(why) => format!("Invalid({why})"),
            };
            panic!("routing disagrees: header {header:?}, decoded {decoded:?}, prepared {prepared}")
        }
    }
}
