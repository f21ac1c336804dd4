use chrono::TimeZone;

use super::*;
use crate::event::pb::{
    Actor, CaseAssigned, CaseCreated, CasePriorityChanged, CaseStatusChanged,
    IncidentDeclaredFromCase, StringList,
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn case(group: StatusGroup, prio: Priority) -> CaseSnapshot {
    CaseSnapshot {
        id: "c-1".into(),
        key: "SEC-42".into(),
        title: "Disk full".into(),
        status_name: "Investigating".into(),
        status_group: group as i32,
        priority: prio as i32,
        attributes: [
            ("teams".to_string(), list(&["Blue Team"])),
            ("services".to_string(), list(&["case-api"])),
        ]
        .into(),
        ..CaseSnapshot::default()
    }
}

fn list(values: &[&str]) -> StringList {
    StringList {
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

const EVENT_ID: &str = "0190f000-0000-7000-8000-0000000000e1";

fn event(payload: Payload, after: Option<CaseSnapshot>) -> Event {
    valid(raw(payload, after))
}

fn valid(e: CaseEvent) -> Event {
    Event::new(e).expect("a valid event")
}

/// The envelope, to change before it is validated.
fn raw(payload: Payload, after: Option<CaseSnapshot>) -> CaseEvent {
    CaseEvent {
        event_id: EVENT_ID.into(),
        event_type: EventType::of(&payload).as_str().into(),
        project_key: "SEC".into(),
        case_id: "c-1".into(),
        case_key: "SEC-42".into(),
        occurred_at: Some(Timestamp {
            seconds: (now() - chrono::Duration::minutes(5)).timestamp(),
            nanos: 120_000_000,
        }),
        actor: Some(Actor {
            id: "u-1".into(),
            display_name: "Ada".into(),
            ..Actor::default()
        }),
        case_after: after,
        payload: Some(payload),
        ..CaseEvent::default()
    }
}

fn status(from: StatusGroup, to: StatusGroup) -> Payload {
    Payload::CaseStatusChanged(CaseStatusChanged {
        from_group: from as i32,
        to_group: to as i32,
        ..CaseStatusChanged::default()
    })
}

fn sent(e: &Event) -> Value {
    match event_body(e, &["env:test".into()], now()) {
        Outcome::Send(body) => body["data"]["attributes"].clone(),
        other => panic!("not sent: {other:?}"),
    }
}

use StatusGroup::{Closed, InProgress, Open};

#[test]
fn every_milestone_is_named_and_mapped_to_an_alert_status() {
    let p1 = Some(case(InProgress, Priority::P1));
    let p4 = Some(case(InProgress, Priority::P4));
    let closed = Some(case(Closed, Priority::P1));
    let created = Payload::CaseCreated(CaseCreated {
        snapshot: Some(Box::new(case(Open, Priority::P3))),
        ..CaseCreated::default()
    });
    let prio = Payload::CasePriorityChanged(CasePriorityChanged {
        from: Priority::P3 as i32,
        to: Priority::P2 as i32,
    });
    let assigned = Payload::CaseAssigned(CaseAssigned {
        to: "u-9".into(),
        ..CaseAssigned::default()
    });
    let incident = Payload::IncidentDeclaredFromCase(IncidentDeclaredFromCase {
        incident_id: "INC-7".into(),
        severity: "SEV-2".into(),
        ..IncidentDeclaredFromCase::default()
    });
    let cases = [
        (
            event(created, None),
            "created",
            "warn",
            "3",
            "SEC-42 created: Disk full",
        ),
        (
            event(status(Open, InProgress), p4.clone()),
            "status_group_changed",
            "warn",
            "4",
            "SEC-42 moved from open to in progress: Disk full",
        ),
        (
            event(status(InProgress, Closed), closed.clone()),
            "closed",
            "ok",
            "1",
            "SEC-42 closed: Disk full",
        ),
        (
            event(status(Closed, Open), p1.clone()),
            "reopened",
            "error",
            "1",
            "SEC-42 reopened: Disk full",
        ),
        (
            event(prio, p4.clone()),
            "priority_changed",
            "error",
            "2",
            "SEC-42 priority P3 → P2: Disk full",
        ),
        (
            event(assigned, closed),
            "assigned",
            "ok",
            "1",
            "SEC-42 assigned to u-9: Disk full",
        ),
        (
            event(incident, p4),
            "escalated_to_incident",
            "error",
            "4",
            "SEC-42 escalated to incident INC-7 (SEV-2): Disk full",
        ),
    ];
    for (e, name, alert, priority, title) in cases {
        let a = sent(&e);
        assert_eq!(a["attributes"]["custom"]["milestone"], name, "{a}");
        assert_eq!(a["attributes"]["status"], alert, "{name}");
        assert_eq!(a["attributes"]["priority"], priority, "{name}");
        assert_eq!(a["attributes"]["custom"]["event_id"], EVENT_ID);
        assert_eq!(a["title"], title);
        assert_eq!(a["category"], "alert");
        assert_eq!(a["aggregation_key"], "c-1");
        assert_eq!(a["timestamp"], "2026-03-01T11:55:00.120Z");
        let tags: Vec<&str> = a["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        for t in [
            "case:sec-42",
            "project:sec",
            &format!("milestone:{name}"),
            "env:test",
        ] {
            assert!(tags.contains(&t), "{name}: {t} not in {tags:?}");
        }
    }
    let a = sent(&event(
        status(Open, InProgress),
        Some(case(InProgress, Priority::P4)),
    ));
    let tags = a["tags"].to_string();
    for t in ["team:blue_team", "service:case-api", "priority:p4"] {
        assert!(tags.contains(t), "{t}: {tags}");
    }
}

#[test]
fn a_status_change_within_a_group_and_other_events_are_not_milestones() {
    let same = event(status(Open, Open), None);
    assert_eq!(event_body(&same, &[], now()), Outcome::Skip("no-milestone"));
    let other = event(Payload::CaseArchived(Default::default()), None);
    assert_eq!(
        event_body(&other, &[], now()),
        Outcome::Skip("no-milestone")
    );
}

#[test]
fn events_older_than_the_intake_window_are_skipped_with_a_reason() {
    for (hours, sent) in [(17, true), (18, false), (40, false)] {
        let mut e = raw(status(Open, Closed), None);
        e.occurred_at = Some(Timestamp {
            seconds: (now() - chrono::Duration::hours(hours)).timestamp(),
            nanos: 0,
        });
        let out = event_body(&valid(e), &[], now());
        match sent {
            true => assert!(matches!(out, Outcome::Send(_)), "{hours} h"),
            false => assert_eq!(out, Outcome::Skip("older-than-intake-window"), "{hours} h"),
        }
    }
}

#[test]
fn titles_messages_keys_and_tags_stay_within_the_intake_limits() {
    let mut snapshot = case(Open, Priority::P2);
    snapshot.title = "é".repeat(900);
    let teams: Vec<String> = (0..300)
        .map(|i| format!("team {i} {}", "x".repeat(300)))
        .collect();
    snapshot
        .attributes
        .insert("teams".into(), StringList { values: teams });
    let mut e = raw(status(Open, InProgress), Some(snapshot.clone()));
    e.case_id = "i".repeat(150);
    e.actor.as_mut().unwrap().display_name = "🔥".repeat(5_000);
    let a = sent(&valid(e));
    let title = a["title"].as_str().unwrap();
    assert_eq!(title.chars().count(), 500);
    assert!(title.ends_with('…'));
    assert!(a["message"].as_str().unwrap().chars().count() <= 4_000);
    assert_eq!(a["aggregation_key"].as_str().unwrap().chars().count(), 100);
    let tags = a["tags"].as_array().unwrap();
    assert_eq!(tags.len(), 100);
    assert!(tags
        .iter()
        .all(|t| (1..=200).contains(&t.as_str().unwrap().len())));
}
