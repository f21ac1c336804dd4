//! Wire-format guarantees of the event catalogue: protobuf and canonical JSON
//! round-trips, decode validation errors, the event-type table and the
//! invariants of the synthetic stream.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use case_event_handler::event::pb::{CaseCommentAdded, CaseTitleChanged};
use case_event_handler::event::synth::{arbitrary_event_of, Synth, SynthSpec};
use case_event_handler::event::{
    decode, from_json_line, to_json_line, CaseEvent, DecodeError, EventType, Payload, Scope,
};
use proptest::prelude::*;
use prost::Message;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn sample(kind: EventType, seed: u64) -> CaseEvent {
    arbitrary_event_of(&mut StdRng::seed_from_u64(seed), kind)
}

/// Asserts protobuf → decode, protobuf → JSON → protobuf and byte equality.
fn assert_round_trips(event: &CaseEvent) {
    let bytes = event.encode_to_vec();
    let decoded = decode(&bytes).expect("valid event decodes");
    assert_eq!(&decoded, event);

    let line = to_json_line(event).expect("serializable");
    assert!(
        !line.contains('\n'),
        "NDJSON line must be a single line: {line}"
    );
    let parsed = from_json_line(&format!("{line}\n")).expect("own JSON parses");
    assert_eq!(&parsed, event, "JSON round-trip changed the event: {line}");
    assert_eq!(parsed.encode_to_vec(), bytes);
}

proptest! {
    #[test]
    fn every_event_round_trips(index in 0..EventType::ALL.len(), seed in any::<u64>()) {
        assert_round_trips(&sample(EventType::ALL[index], seed));
    }
}

#[test]
fn every_payload_variant_round_trips_deterministically() {
    for (i, &kind) in EventType::ALL.iter().enumerate() {
        for seed in 0..20 {
            let event = sample(kind, seed * 1000 + i as u64);
            assert_eq!(event.payload_kind(), Some(kind));
            assert_round_trips(&event);
        }
    }
}

#[test]
fn event_type_strings_are_distinct_and_parse_back() {
    let names: HashSet<&str> = EventType::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names.len(), EventType::ALL.len());
    assert_eq!(EventType::ALL.len(), 42);
    for &kind in EventType::ALL {
        assert_eq!(kind.as_str().parse::<EventType>(), Ok(kind));
        assert_eq!(kind.to_string(), kind.as_str());
        let (area, verb) = kind.as_str().split_once('.').expect("area.verb");
        assert!(!area.is_empty() && !verb.is_empty() && !verb.contains('.'));
    }
    assert!("case.exploded".parse::<EventType>().is_err());
    assert_eq!(EventType::CaseStatusChanged.as_str(), "case.status_changed");
    assert_eq!(EventType::RuleChanged.scope(), Scope::Project);
}

#[test]
fn decode_rejects_garbage_bytes() {
    let err = decode(&[0xff; 16]).unwrap_err();
    assert!(matches!(err, DecodeError::Protobuf(_)), "{err:?}");
}

#[test]
fn decode_rejects_truncated_protobuf() {
    for &kind in EventType::ALL {
        let bytes = sample(kind, 7).encode_to_vec();
        // The payload oneof has the highest tags, so it is encoded last:
        // dropping the final byte always cuts a length-delimited field.
        let err = decode(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(matches!(err, DecodeError::Protobuf(_)), "{kind}: {err:?}");
    }
}

#[test]
fn decode_rejects_mismatched_event_type() {
    let mut event = sample(EventType::CaseTitleChanged, 1);
    event.event_type = "case.status_changed".into();
    let err = decode(&event.encode_to_vec()).unwrap_err();
    assert!(
        matches!(&err, DecodeError::EventTypeMismatch { event_type, payload }
            if event_type == "case.status_changed" && *payload == EventType::CaseTitleChanged),
        "{err:?}"
    );
    let err = from_json_line(&to_json_line(&event).unwrap()).unwrap_err();
    assert!(
        matches!(err, DecodeError::EventTypeMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn decode_names_each_envelope_problem() {
    let valid = sample(EventType::CaseCommentAdded, 3);
    let check = |edit: &dyn Fn(&mut CaseEvent), expected: fn(&DecodeError) -> bool| {
        let mut event = valid.clone();
        edit(&mut event);
        let err = decode(&event.encode_to_vec()).unwrap_err();
        assert!(expected(&err), "unexpected {err:?}");
        assert!(!err.to_string().is_empty());
    };
    check(&|e| e.event_id.clear(), |e| {
        matches!(e, DecodeError::MissingEventId)
    });
    check(
        &|e| e.event_id = "not-a-uuid".into(),
        |e| matches!(e, DecodeError::InvalidEventId { event_id, .. } if event_id == "not-a-uuid"),
    );
    check(&|e| e.payload = None, |e| {
        matches!(e, DecodeError::MissingPayload)
    });
    check(&|e| e.case_id.clear(), |e| {
        matches!(e, DecodeError::MissingCaseId(EventType::CaseCommentAdded))
    });

    let mut project_event = sample(EventType::ProjectSettingsChanged, 4);
    project_event.case_id.clear();
    assert!(
        decode(&project_event.encode_to_vec()).is_ok(),
        "no case_id needed"
    );
    project_event.project_id.clear();
    let err = decode(&project_event.encode_to_vec()).unwrap_err();
    assert!(matches!(err, DecodeError::MissingProjectId(_)), "{err:?}");
}

#[test]
fn json_rejects_unknown_fields_by_name() {
    let line = to_json_line(&sample(EventType::CaseWatcherAdded, 5)).unwrap();
    let top = line.replacen('{', r#"{"surpriseField":1,"#, 1);
    let err = from_json_line(&top).unwrap_err().to_string();
    assert!(err.contains("unknown field `surpriseField`"), "{err}");

    let mut event = sample(EventType::CaseTitleChanged, 6);
    event.payload = Some(Payload::CaseTitleChanged(CaseTitleChanged {
        old: "a".into(),
        new: "b".into(),
    }));
    let line = to_json_line(&event).unwrap();
    let nested = line.replace(r#""old":"a""#, r#""old":"a","typo":true"#);
    assert_ne!(nested, line);
    let err = from_json_line(&nested).unwrap_err().to_string();
    assert!(err.contains("unknown field `typo`"), "{err}");
}

#[test]
fn json_uses_canonical_proto3_form() {
    let mut event = sample(EventType::CaseCommentAdded, 8);
    event.aggregate_version = 42;
    event.occurred_at = Some(case_event_handler::event::Timestamp {
        seconds: 1_736_150_400,
        nanos: 0,
    });
    event.payload = Some(Payload::CaseCommentAdded(CaseCommentAdded {
        cell_id: "c1".into(),
        ..Default::default()
    }));
    let json: serde_json::Value = serde_json::from_str(&to_json_line(&event).unwrap()).unwrap();
    assert_eq!(json["eventType"], "case.comment_added");
    assert_eq!(json["aggregateVersion"], "42", "uint64 is a JSON string");
    assert_eq!(
        json["occurredAt"], "2025-01-06T08:00:00Z",
        "RFC 3339 with Z"
    );
    assert_eq!(json["caseCommentAdded"]["cellId"], "c1");
    // Proto field names are accepted on input too.
    let snake = to_json_line(&event)
        .unwrap()
        .replace("\"eventType\"", "\"event_type\"");
    assert_eq!(from_json_line(&snake).unwrap(), event);
}

fn stream(seed: u64, cases: usize) -> Vec<CaseEvent> {
    let spec = SynthSpec {
        cases,
        events_per_case: 15,
        project_events: 5,
        ..SynthSpec::default()
    };
    let events: Vec<_> = Synth::new(seed, spec.clone()).collect();
    assert_eq!(events.len(), spec.total_events());
    events
}

#[test]
fn synth_stream_has_consistent_per_case_lifecycles() {
    let events = stream(42, 50);
    let mut by_case: BTreeMap<&str, Vec<&CaseEvent>> = BTreeMap::new();
    let mut ids = HashSet::new();
    for event in &events {
        assert_round_trips(event);
        assert!(ids.insert(&event.event_id), "duplicate event_id");
        if event.payload_kind().map(EventType::scope) == Some(Scope::Case) {
            by_case.entry(&event.case_id).or_default().push(event);
        } else {
            assert_eq!(event.aggregate_version, 0);
        }
    }
    assert_eq!(by_case.len(), 50);

    for (case_id, case_events) in &by_case {
        assert_eq!(case_events[0].payload_kind(), Some(EventType::CaseCreated));
        let mut comments = BTreeSet::new();
        for (i, event) in case_events.iter().enumerate() {
            assert_eq!(event.aggregate_version, i as u64 + 1, "case {case_id}");
            if i > 0 {
                let prev = case_events[i - 1].occurred_at.unwrap();
                let now = event.occurred_at.unwrap();
                assert!((now.seconds, now.nanos) > (prev.seconds, prev.nanos));
                assert_ne!(event.payload_kind(), Some(EventType::CaseCreated));
            }
            let after = event.case_after.as_ref().expect("case_after");
            assert_eq!(&after.id, case_id);
            assert_eq!(after.key, event.case_key);
            assert_eq!(after.project_id, event.project_id);
            let (prefix, seq) = event.case_key.rsplit_once('-').expect("KEY-seq");
            assert_eq!(prefix, event.project_key);
            assert!(
                seq.parse::<u64>().is_ok_and(|n| n > 0),
                "{}",
                event.case_key
            );
            check_payload_against_state(event, &mut comments);
        }
    }
}

/// Payload-specific consistency with `case_after` and earlier events.
fn check_payload_against_state(event: &CaseEvent, comments: &mut BTreeSet<String>) {
    let after = event.case_after.as_ref().unwrap();
    match event.payload.as_ref().unwrap() {
        Payload::CaseCreated(c) => {
            assert_eq!(c.snapshot.as_deref(), Some(after));
            assert_eq!(after.status_name, "Open");
        }
        Payload::CaseCommentAdded(c) => assert!(comments.insert(c.cell_id.clone())),
        Payload::CaseCommentEdited(c) => assert!(comments.contains(&c.cell_id)),
        Payload::CaseCommentDeleted(c) => assert!(comments.remove(&c.cell_id)),
        Payload::CaseStatusChanged(c) => {
            assert_eq!(c.to_status_name, after.status_name);
            assert_eq!(c.to_group, after.status_group);
            assert_eq!(
                after.closed_at.is_some(),
                c.to_group == 3,
                "closed_at iff closed"
            );
        }
        Payload::CaseTitleChanged(c) => assert_eq!(c.new, after.title),
        Payload::CasePriorityChanged(c) => assert_eq!(c.to, after.priority),
        Payload::CaseAssigned(c) => assert_eq!(after.assignee_id.as_ref(), Some(&c.to)),
        Payload::CaseUnassigned(_) => assert_eq!(after.assignee_id, None),
        Payload::CaseWatcherAdded(c) => assert!(after.watchers.contains(&c.user_id)),
        Payload::CaseWatcherRemoved(c) => assert!(!after.watchers.contains(&c.user_id)),
        Payload::CaseArchived(_) => assert!(after.archived_at.is_some()),
        Payload::CaseUnarchived(_) => assert!(after.archived_at.is_none()),
        Payload::CaseMovedToProject(c) => {
            assert_eq!(c.new_key, after.key);
            assert_eq!(c.to_project_id, event.project_id);
        }
        _ => {}
    }
}

#[test]
fn synth_is_deterministic_and_interleaved() {
    let a = stream(7, 20);
    assert_eq!(a, stream(7, 20));
    assert_ne!(a, stream(8, 20));
    // Cases overlap in time: some case's events are not contiguous.
    let mut seen_case_switch_back = false;
    let mut finished: HashSet<&str> = HashSet::new();
    for pair in a.windows(2) {
        if pair[0].case_id != pair[1].case_id {
            seen_case_switch_back |= finished.contains(pair[1].case_id.as_str());
            finished.insert(&pair[0].case_id);
        }
    }
    assert!(
        seen_case_switch_back,
        "events of different cases are interleaved"
    );
}

#[test]
fn synth_covers_most_event_types() {
    let kinds: BTreeSet<EventType> = stream(3, 200)
        .iter()
        .filter_map(|e| e.payload_kind())
        .collect();
    // Everything except what needs rare preconditions shows up at this size.
    assert!(kinds.len() >= 36, "only {} kinds: {kinds:?}", kinds.len());
}
