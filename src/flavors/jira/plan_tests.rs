//! Unit tests of the pure plan.

use super::*;
use crate::event::pb::{self, Priority};
use crate::event::{CaseEvent, Event, EventType};

static NONE_SENT: BTreeSet<String> = BTreeSet::new();

fn cfg() -> ProjectConfig {
    crate::flavors::jira::config::test_project(
        "    fields: {description: one-way, labels: one-way}
    priorities: {P1: Highest, P2: High, P3: Medium}
    users: {u-1: acc-1}
    label_attributes: [teams]
    custom_fields:
      - {attribute: env, field_id: customfield_10050, shape: select}
",
    )
}

fn snapshot() -> pb::CaseSnapshot {
    let mut s = pb::CaseSnapshot {
        id: "c1".into(),
        key: "SEC-1".into(),
        title: "Disk full".into(),
        description: "See **logs**".into(),
        status_group: StatusGroup::Open as i32,
        priority: Priority::P2 as i32,
        assignee_id: Some("u-1".into()),
        due_date: Some("2026-12-01".into()),
        ..Default::default()
    };
    s.attributes.insert(
        "teams".into(),
        pb::StringList {
            values: vec!["sre core".into()],
        },
    );
    s
}

fn event(payload: Payload) -> Event {
    event_after(payload, snapshot())
}

/// An event of case c1 whose `case_after` is `after`.
fn event_after(payload: Payload, after: pb::CaseSnapshot) -> Event {
    Event::new(CaseEvent {
        event_id: "0190f000-0000-7000-8000-0000000000e1".into(),
        event_type: EventType::of(&payload).as_str().into(),
        project_id: "p1".into(),
        case_id: "c1".into(),
        case_after: Some(after),
        payload: Some(payload),
        ..CaseEvent::default()
    })
    .expect("a valid event")
}

fn created_from(snapshot: pb::CaseSnapshot) -> Event {
    event(Payload::CaseCreated(pb::CaseCreated {
        snapshot: Some(Box::new(snapshot)),
        ..Default::default()
    }))
}

fn created() -> Event {
    created_from(snapshot())
}

fn linked(hashes: &BTreeMap<String, String>) -> Option<LinkView<'_>> {
    Some(LinkView {
        stale: false,
        hashes,
        sent_comments: &NONE_SENT,
    })
}

fn hashes_of(synced: &[Synced]) -> BTreeMap<String, String> {
    synced
        .iter()
        .map(|s| (s.field.clone(), s.digest.clone()))
        .collect()
}

#[test]
fn create_carries_label_property_and_mapped_fields() {
    let Plan::Create { body, synced, then } = plan(&created(), None, &cfg()) else {
        panic!("create expected")
    };
    let f = &body["fields"];
    assert_eq!(f["project"]["key"], "OPS");
    assert_eq!(f["issuetype"]["name"], "Task");
    assert_eq!(f["summary"], "Disk full");
    assert_eq!(f["priority"]["name"], "High");
    assert_eq!(f["assignee"]["accountId"], "acc-1");
    assert_eq!(f["duedate"], "2026-12-01");
    assert_eq!(f["labels"], json!(["case-c1", "teams:sre_core"]));
    assert_eq!(f["description"]["type"], "doc");
    assert_eq!(body["properties"][0]["key"], ISSUE_PROPERTY);
    assert_eq!(body["properties"][0]["value"]["caseId"], "c1");
    assert!(
        then.is_empty(),
        "an open case needs no transition: {then:?}"
    );
    let fields: Vec<&str> = synced.iter().map(|s| s.field.as_str()).collect();
    for f in [
        "summary", "priority", "assignee", "duedate", "labels", "status",
    ] {
        assert!(fields.contains(&f), "{f} not remembered: {fields:?}");
    }
}

#[test]
fn create_of_an_in_progress_case_transitions_after() {
    let mut s = snapshot();
    s.status_group = StatusGroup::InProgress as i32;
    let e = created_from(s);
    let Plan::Create { then, .. } = plan(&e, None, &cfg()) else {
        panic!("create expected")
    };
    assert!(
        matches!(&then[..], [Action::Transition { category, .. }] if category == "indeterminate")
    );
}

#[test]
fn no_create_without_auto_creation_or_for_closed_cases() {
    let mut c = cfg();
    c.section.auto_creation = false;
    assert!(matches!(plan(&created(), None, &c), Plan::Skip(_)));
    let mut closed = snapshot();
    closed.status_group = StatusGroup::Closed as i32;
    let e = event_after(
        Payload::CaseCommentAdded(pb::CaseCommentAdded::default()),
        closed,
    );
    assert!(matches!(plan(&e, None, &cfg()), Plan::Skip(_)));
}

#[test]
fn a_change_already_synced_is_skipped() {
    let Plan::Create { synced, .. } = plan(&created(), None, &cfg()) else {
        panic!("create expected")
    };
    let hashes = hashes_of(&synced);
    assert!(matches!(
        plan(&created(), linked(&hashes), &cfg()),
        Plan::Skip(_)
    ));
    let same = event(Payload::CaseTitleChanged(pb::CaseTitleChanged {
        old: "x".into(),
        new: "Disk full".into(),
    }));
    assert!(matches!(
        plan(&same, linked(&hashes), &cfg()),
        Plan::Skip(_)
    ));
    let new = event(Payload::CaseTitleChanged(pb::CaseTitleChanged {
        old: "Disk full".into(),
        new: "Disk full on db-1".into(),
    }));
    let Plan::Apply(actions) = plan(&new, linked(&hashes), &cfg()) else {
        panic!("apply expected")
    };
    assert!(
        matches!(&actions[..], [Action::Edit { fields, .. }] if fields["summary"] == "Disk full on db-1")
    );
}

#[test]
fn field_events_map_to_their_writes() {
    let none = BTreeMap::new();
    let cases = [
        (
            Payload::CasePriorityChanged(pb::CasePriorityChanged {
                from: Priority::P2 as i32,
                to: Priority::P1 as i32,
            }),
            "edit",
        ),
        (
            Payload::CaseAssigned(pb::CaseAssigned {
                to: "u-1".into(),
                ..Default::default()
            }),
            "assign",
        ),
        (
            Payload::CaseUnassigned(pb::CaseUnassigned::default()),
            "edit",
        ),
        (
            Payload::CaseStatusChanged(pb::CaseStatusChanged {
                to_group: StatusGroup::Closed as i32,
                ..Default::default()
            }),
            "transition",
        ),
        (
            Payload::CaseCommentAdded(pb::CaseCommentAdded {
                cell_id: "cm1".into(),
                markdown: "hi".into(),
                ..Default::default()
            }),
            "comment",
        ),
        (
            Payload::CaseAttributeChanged(pb::CaseAttributeChanged {
                key: "teams".into(),
                added: vec!["db".into()],
                removed: vec!["sre core".into()],
            }),
            "labels",
        ),
    ];
    for (payload, want) in cases {
        let name = payload.event_type();
        let Plan::Apply(actions) = plan(&event(payload), linked(&none), &cfg()) else {
            panic!("{name}: apply expected")
        };
        let got = match &actions[0] {
            Action::Edit { .. } => "edit",
            Action::Assign { .. } => "assign",
            Action::Transition { .. } => "transition",
            Action::Comment { .. } => "comment",
            Action::Labels { add, remove, .. } => {
                assert_eq!(
                    (add[0].as_str(), remove[0].as_str()),
                    ("teams:db", "teams:sre_core")
                );
                "labels"
            }
        };
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn once_fields_unmapped_values_and_sent_comments_are_left_alone() {
    let none = BTreeMap::new();
    let mut c = cfg();
    c.section.fields.title = SyncMode::Once;
    let title = event(Payload::CaseTitleChanged(pb::CaseTitleChanged::default()));
    assert!(matches!(plan(&title, linked(&none), &c), Plan::Skip(_)));
    let p5 = event(Payload::CasePriorityChanged(pb::CasePriorityChanged {
        to: Priority::P5 as i32,
        ..Default::default()
    }));
    assert!(matches!(plan(&p5, linked(&none), &c), Plan::Skip(_)));
    let stranger = event(Payload::CaseAssigned(pb::CaseAssigned {
        to: "u-unknown".into(),
        ..Default::default()
    }));
    assert!(matches!(plan(&stranger, linked(&none), &c), Plan::Skip(_)));
    let comment = event(Payload::CaseCommentAdded(pb::CaseCommentAdded {
        cell_id: "cm1".into(),
        ..Default::default()
    }));
    let sent: BTreeSet<String> = ["cm1".to_string()].into();
    let view = LinkView {
        stale: false,
        hashes: &none,
        sent_comments: &sent,
    };
    assert!(matches!(plan(&comment, Some(view), &c), Plan::Skip(_)));
    assert!(
        matches!(plan(&comment, linked(&none), &c), Plan::Apply(a) if matches!(a[..], [Action::Comment { .. }])),
        "a comment not sent yet is planned"
    );
}

#[test]
fn stale_links_skip_and_moves_stop_sync() {
    let none = BTreeMap::new();
    let stale = Some(LinkView {
        stale: true,
        hashes: &none,
        sent_comments: &NONE_SENT,
    });
    assert!(matches!(plan(&created(), stale, &cfg()), Plan::Skip(_)));
    let moved = event(Payload::CaseMovedToProject(
        pb::CaseMovedToProject::default(),
    ));
    assert!(matches!(
        plan(&moved, linked(&none), &cfg()),
        Plan::StopSync(_)
    ));
}

#[test]
fn digest_is_stable_and_field_scoped() {
    assert_eq!(digest("summary", "x "), digest("summary", "x"));
    assert_ne!(digest("summary", "x"), digest("description", "x"));
    assert_eq!(digest("a", "b").len(), 32);
}

/// The summary sent on create and on a title change, for `title`.
fn summaries_of(title: &str) -> (String, String) {
    let mut s = snapshot();
    s.title = title.into();
    let create = event(Payload::CaseCreated(pb::CaseCreated {
        snapshot: Some(Box::new(s.clone())),
        ..Default::default()
    }));
    let Plan::Create { body, .. } = plan(&create, None, &cfg()) else {
        panic!("create expected")
    };
    let change = event_after(
        Payload::CaseTitleChanged(pb::CaseTitleChanged {
            old: "Disk full".into(),
            new: title.into(),
        }),
        s,
    );
    let none = BTreeMap::new();
    let Plan::Apply(actions) = plan(&change, linked(&none), &cfg()) else {
        panic!("apply expected")
    };
    let [Action::Edit { fields, .. }] = &actions[..] else {
        panic!("one edit expected: {actions:?}")
    };
    let summary = |v: &Value| v.as_str().unwrap().to_string();
    (
        summary(&body["fields"]["summary"]),
        summary(&fields["summary"]),
    )
}

#[test]
fn titles_past_255_characters_are_cut_the_same_on_create_and_on_update() {
    let utf16 = |s: &str| s.encode_utf16().count();
    for n in [254, 255] {
        let title = "t".repeat(n);
        assert_eq!(summaries_of(&title), (title.clone(), title), "{n} fits");
    }
    for n in [256, 1_000] {
        let (create, update) = summaries_of(&"t".repeat(n));
        assert_eq!(create, update, "{n}: the same everywhere");
        assert_eq!(utf16(&create), 255, "{n}");
        assert!(create.ends_with('…') && create.starts_with("ttt"), "{n}");
    }
    // Multi-byte: é is one UTF-16 unit, 🔥 two; the cut never splits one.
    for title in [
        "é".repeat(300),
        "🔥".repeat(200),
        format!("{}🔥x", "a".repeat(253)),
    ] {
        let (create, update) = summaries_of(&title);
        assert_eq!(create, update);
        assert!(utf16(&create) <= 255, "{}", utf16(&create));
        assert!(create.ends_with('…'));
        let kept = create.trim_end_matches('…');
        assert!(title.starts_with(kept), "a prefix of the title");
    }
    let (line, _) = summaries_of("two\nlines");
    assert_eq!(line, "two lines", "a summary is one line");
}
