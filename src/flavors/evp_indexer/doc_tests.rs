use std::collections::HashSet;

use chrono::TimeZone;

use super::*;
use crate::event::pb::{
    Actor, ActorKind, CaseCreated, CaseStatusChanged, StatusGroup as G, StringList,
};
use crate::event::synth::{Synth, SynthSpec};

const EVENT_ID: &str = "0190f000-0000-7000-8000-0000000000e1";

fn ctx() -> DocContext {
    DocContext {
        ddsource: "case-event-handler".into(),
        service: "case-management".into(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

fn ts(at: DateTime<Utc>) -> crate::event::Timestamp {
    crate::event::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

fn snapshot() -> CaseSnapshot {
    CaseSnapshot {
        id: "c-1".into(),
        key: "SEC-42".into(),
        title: "Disk full".into(),
        status_name: "In Review".into(),
        status_group: G::InProgress as i32,
        priority: Priority::P1 as i32,
        attributes: [(
            "teams".to_string(),
            StringList {
                values: vec!["Blue Team".into(), "a,b".into()],
            },
        )]
        .into(),
        ..CaseSnapshot::default()
    }
}

fn status_changed(occurred: DateTime<Utc>) -> CaseEvent {
    CaseEvent {
        event_id: EVENT_ID.into(),
        event_type: "case.status_changed".into(),
        schema_version: 1,
        project_key: "SEC".into(),
        case_id: "c-1".into(),
        case_key: "SEC-42".into(),
        aggregate_version: 7,
        occurred_at: Some(ts(occurred)),
        actor: Some(Actor {
            kind: ActorKind::User as i32,
            id: "u-1".into(),
            display_name: "Alice".into(),
        }),
        case_after: Some(snapshot()),
        payload: Some(Payload::CaseStatusChanged(CaseStatusChanged {
            from_status_name: "Open".into(),
            to_status_name: "In Review".into(),
            to_group: G::InProgress as i32,
            ..CaseStatusChanged::default()
        })),
        ..CaseEvent::default()
    }
}

fn valid(e: CaseEvent) -> Event {
    Event::new(e).expect("a valid event")
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn envelope_snapshot_and_payload_land_in_one_flat_document() {
    let d = obj(document(&valid(status_changed(now())), &ctx(), now()).unwrap());
    assert_eq!(d["event_id"], EVENT_ID);
    assert_eq!(d["event_type"], "case.status_changed");
    assert_eq!(d["aggregate_version"], 7);
    assert_eq!(d["actor_kind"], "ACTOR_KIND_USER");
    assert_eq!(d["case.title"], "Disk full");
    assert_eq!(d["case.status_group"], "STATUS_GROUP_IN_PROGRESS");
    assert_eq!(
        d["case.attributes.teams"],
        serde_json::json!(["Blue Team", "a,b"])
    );
    assert_eq!(d["payload.from_status_name"], "Open");
    assert_eq!(d["payload.to_group"], "STATUS_GROUP_IN_PROGRESS");
    assert_eq!(d["ddsource"], "case-event-handler");
    assert_eq!(d["service"], "case-management");
    assert_eq!(d["message"], "SEC-42 case.status_changed by Alice");
    assert!(d.values().all(|v| !v.is_object()), "not flat: {d:?}");
    for reserved in ["status", "host", "hostname", "date", "source"] {
        assert!(
            !d.contains_key(reserved),
            "{reserved} would be read as a reserved attribute"
        );
    }
}

#[test]
fn tags_come_from_project_priority_status_and_teams_normalised() {
    let e = status_changed(now());
    assert_eq!(
        ddtags(&e, e.case_after.as_ref()),
        "project:sec,priority:p1,status:in_review,status_group:in_progress,team:blue_team,team:a_b"
    );
    let project_only = CaseEvent {
        project_key: "OPS".into(),
        ..CaseEvent::default()
    };
    assert_eq!(ddtags(&project_only, None), "project:ops");
}

#[test]
fn priorities_are_named_p1_to_p5_or_not_defined() {
    assert_eq!(priority_name(0), "not_defined");
    assert_eq!(priority_name(99), "not_defined");
    assert_eq!(priority_name(Priority::P5 as i32), "p5");
}

#[test]
fn recent_events_carry_a_timestamp_and_old_ones_only_occurred_at() {
    let fresh = obj(document(
        &valid(status_changed(now() - chrono::Duration::hours(1))),
        &ctx(),
        now(),
    )
    .unwrap());
    assert_eq!(fresh["timestamp"], "2025-03-01T11:00:00.000Z");
    let old = obj(document(
        &valid(status_changed(now() - chrono::Duration::hours(20))),
        &ctx(),
        now(),
    )
    .unwrap());
    assert!(
        !old.contains_key("timestamp"),
        "the intake would drop it: {old:?}"
    );
    assert_eq!(old["occurred_at"], "2025-02-28T16:00:00.000Z");
}

#[test]
fn long_strings_are_cut_and_flagged() {
    let mut e = status_changed(now());
    if let Some(s) = e.case_after.as_mut() {
        s.description = "é".repeat(MAX_STRING_CHARS + 10);
    }
    let d = obj(document(&valid(e), &ctx(), now()).unwrap());
    assert_eq!(
        d["case.description"].as_str().unwrap().chars().count(),
        MAX_STRING_CHARS
    );
    assert_eq!(d["truncated"], true);
    let short = obj(document(&valid(status_changed(now())), &ctx(), now()).unwrap());
    assert!(!short.contains_key("truncated"));
}

#[test]
fn a_created_case_without_case_after_uses_its_payload_snapshot_once() {
    let mut e = status_changed(now());
    e.event_type = "case.created".into();
    e.case_after = None;
    e.payload = Some(Payload::CaseCreated(CaseCreated {
        snapshot: Some(Box::new(snapshot())),
        creation_source: "Manual".into(),
    }));
    let d = obj(document(&valid(e), &ctx(), now()).unwrap());
    assert_eq!(d["case.key"], "SEC-42");
    assert_eq!(d["payload.creation_source"], "Manual");
    assert!(
        !d.keys().any(|k| k.starts_with("payload.snapshot")),
        "{d:?}"
    );
    assert!(d["ddtags"].as_str().unwrap().contains("team:blue_team"));
}

#[test]
fn every_synthetic_event_maps_to_a_valid_document() {
    let spec = SynthSpec {
        cases: 100,
        events_per_case: 30,
        project_events: 20,
        ..SynthSpec::default()
    };
    let mut ids = HashSet::new();
    for e in Synth::new(5, spec) {
        let d = obj(document(&valid(e), &ctx(), now()).unwrap());
        assert!(d["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(ids.insert(d["event_id"].as_str().unwrap().to_string()));
        assert!(d.values().all(|v| !v.is_object()));
        let tags = d["ddtags"].as_str().unwrap();
        assert!(
            tags.split(',').all(|t| t.contains(':') && !t.contains(' ')),
            "{tags}"
        );
    }
    assert_eq!(ids.len(), 3020);
}

#[test]
fn keys_become_snake_case() {
    assert_eq!(snake_case("fromStatusName"), "from_status_name");
    assert_eq!(snake_case("already_snake"), "already_snake");
}
