use chrono::{DateTime, Utc};

use super::*;
use crate::event::fixtures;
use crate::event::pb::{CaseCommentAdded, CaseCreated, CasePriorityChanged, Priority, StringList};
use crate::event::{Payload, Timestamp};
use crate::rules::{diff, explain_case};

fn rules() -> RulesSnapshot {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules");
    crate::rules::load_dir(&dir).unwrap()
}

/// A SEC case: P1 security in prod on the VPN, at `at`.
fn event(payload: Payload, at: &str) -> CaseEvent {
    let mut ev = fixtures::on_case("case-7", 3, payload);
    ev.project_key = "SEC".into();
    let at: DateTime<Utc> = at.parse().unwrap();
    ev.occurred_at = Some(Timestamp::from(at));
    let case = ev.case_after.as_mut().unwrap();
    case.set_priority(Priority::P1);
    case.type_id = "0190a1b2-0000-7000-8000-000000000002".into();
    for (k, v) in [("environments", "prod"), ("services", "vpn")] {
        let values = vec![v.to_owned()];
        case.attributes.insert(k.into(), StringList { values });
    }
    ev
}

fn created() -> CaseEvent {
    event(
        Payload::CaseCreated(CaseCreated::default()),
        "2026-12-01T09:30:00Z",
    )
}

#[test]
fn a_notification_rule_fires_with_its_trigger_and_query() {
    let x = explain(&rules(), None, "urgent-to-slack", &created()).unwrap();
    assert!(x.verdict.fired, "{x}");
    assert_eq!(x.project, "SEC");
    assert!(x.trigger.matched);
    assert_eq!(x.trigger.tested[0].trigger, "CASE_CREATED");
    assert!(!x.trigger.tested[1].matched);
    assert!(x.queries[0].trace.holds);
    assert!(x.edge.is_none(), "notification rules are level-triggered");
    assert!(x.throttle.as_ref().is_some_and(|t| !t.evaluated));
    assert!(!x.flags.evaluated);
}

#[test]
fn the_first_reason_is_given_when_a_rule_does_not_fire() {
    let comment = event(
        Payload::CaseCommentAdded(CaseCommentAdded::default()),
        "2026-12-01T09:30:00Z",
    );
    let x = explain(&rules(), Some("SEC"), "urgent-to-slack", &comment).unwrap();
    assert!(!x.verdict.fired);
    assert_eq!(
        x.verdict.reason,
        "no trigger matches a `case.comment_added` event"
    );
    let x = explain(&rules(), None, "page-owning-team", &created()).unwrap();
    assert_eq!(
        x.verdict.reason,
        "query does not match the case: team:* is false (team has no value)"
    );
    let edge = x.edge.unwrap();
    assert_eq!((edge.edge, edge.fires), ("level", false));
    assert_eq!(
        edge.before,
        "no prior state: the first observation of this case"
    );
    let x = explain(&rules(), None, "closed-digest", &created()).unwrap();
    assert_eq!(x.verdict.reason, "the rule is disabled");
}

#[test]
fn priority_change_triggers_and_edges_from_a_prior_state() {
    let change = CasePriorityChanged {
        from: Priority::P3 as i32,
        to: Priority::P1 as i32,
    };
    let ev = event(Payload::CasePriorityChanged(change), "2026-12-01T09:30:00Z");
    let x = explain(&rules(), None, "urgent-to-slack", &ev).unwrap();
    assert!(x.verdict.fired && x.trigger.tested[1].matched, "{x}");
    let sec = rules();
    let project = sec.project("SEC").unwrap();
    let first = explain_in(project, "page-secops", &ev, None).unwrap();
    assert!(first.verdict.fired);
    let row = first.edge.unwrap().row.unwrap();
    let mut later = ev.clone();
    later.aggregate_version = 4;
    let again = explain_in(project, "page-secops", &later, Some(&row)).unwrap();
    assert!(!again.verdict.fired);
    assert!(
        again.verdict.reason.starts_with("no rising edge (level)"),
        "{}",
        again.verdict.reason
    );
    assert!(again
        .to_string()
        .contains("before: matched at case version 3, fired 1 time(s)"));
}

#[test]
fn an_open_matching_window_holds_notifications() {
    // Sunday 02:30 in Paris: `weekly-patching` (service:vpn) is open.
    let ev = event(
        Payload::CaseCreated(CaseCreated::default()),
        "2026-12-06T01:30:00Z",
    );
    let x = explain(&rules(), None, "urgent-to-slack", &ev).unwrap();
    assert!(!x.verdict.fired);
    assert_eq!(
        x.verdict.reason,
        "held by maintenance window `weekly-patching`"
    );
    let page = explain(&rules(), None, "page-secops", &ev).unwrap();
    assert!(
        page.verdict.fired,
        "without suppress_paging pages go out: {page}"
    );
}

#[test]
fn unknown_rules_and_kinds_are_errors() {
    let ev = created();
    let unknown = explain(&rules(), None, "nope", &ev).unwrap_err();
    assert_eq!(unknown.to_string(), "no rule `nope`");
    let project = explain(&rules(), Some("XYZ"), "nope", &ev).unwrap_err();
    assert_eq!(project, ExplainError::UnknownProject("XYZ".into()));
    let sla = explain(&rules(), None, "p1-ack", &ev).unwrap_err();
    assert!(matches!(sla, ExplainError::NotExplained { .. }), "{sla}");
    let none = explain(
        &rules(),
        None,
        "urgent-to-slack",
        &fixtures::without_snapshot(ev),
    )
    .unwrap_err();
    assert!(matches!(none, ExplainError::NoCase(_)));
}

/// The example rules with `from` replaced by `to` in SEC.yaml.
fn changed(from: &str, to: &str) -> RulesSnapshot {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules");
    let mut files = crate::rules::read_dir(&dir).unwrap();
    let sec = files.iter_mut().find(|f| f.name == "SEC.yaml").unwrap();
    assert!(sec.text.contains(from));
    sec.text = sec.text.replace(from, to);
    crate::rules::build(&files).unwrap()
}

/// Case `case-8`: created at P2 (version 1), then raised to P1 (version 2).
fn raised() -> Vec<CaseEvent> {
    let mut created = event(
        Payload::CaseCreated(CaseCreated::default()),
        "2026-12-01T10:00:00Z",
    );
    created.aggregate_version = 1;
    created
        .case_after
        .as_mut()
        .unwrap()
        .set_priority(Priority::P2);
    let change = CasePriorityChanged {
        from: Priority::P2 as i32,
        to: Priority::P1 as i32,
    };
    let mut raised = event(Payload::CasePriorityChanged(change), "2026-12-01T10:05:00Z");
    raised.aggregate_version = 2;
    vec![created, raised]
}

#[test]
fn diff_lists_the_firings_a_changed_query_would_change() {
    let old = rules();
    let new = changed(
        "query: \"priority:P1 type:security\"",
        "query: \"priority:(P1 OR P2) type:security\"",
    );
    let report = diff(&old, &new, &raised());
    assert_eq!((report.events, report.cases), (2, 1));
    let got: Vec<_> = (report.differences.iter())
        .map(|d| (d.rule.as_str(), d.case_id.as_str(), d.old, d.new))
        .collect();
    // The new query pages at creation; the old one on the raise.
    assert_eq!(
        got,
        [
            ("page-secops", "case-7", false, true),
            ("page-secops", "case-7", true, false)
        ]
    );
    assert!(
        report.differences[1].reason.starts_with("no rising edge"),
        "{report:?}"
    );
    assert!(diff(&old, &old, &raised()).differences.is_empty());
}

#[test]
fn diff_seeds_the_edge_state_with_a_cases_first_event_in_the_range() {
    let old = rules();
    let new = changed(
        "query: \"priority:P1 type:security\"",
        "query: \"priority:P1\"",
    );
    // Only the raise is in the range: it seeds the state and fires nothing,
    // under either rules, so nothing differs.
    let range = &raised()[1..];
    assert!(diff(&old, &new, range).differences.is_empty());
    let gone = changed("  - id: page-secops\n", "  - id: page-secops-2\n");
    let report = diff(&old, &gone, &raised());
    let d = &report.differences;
    assert_eq!(d.len(), 2, "{d:?}");
    assert_eq!(
        (d[0].rule.as_str(), d[0].old, d[0].new, d[0].reason.as_str()),
        ("page-secops", true, false, "no such rule in the new rules")
    );
    assert_eq!(
        (d[1].rule.as_str(), d[1].old, d[1].new),
        ("page-secops-2", false, true)
    );
    assert!(report.seeding.contains("never read from the live table"));
}

#[test]
fn explain_case_replays_the_edge_state_from_the_cases_earlier_events() {
    let events = raised();
    let x = explain_case(&rules(), None, "page-secops", "case-7", None, &events).unwrap();
    assert!(x.verdict.fired, "{x}");
    let edge = x.edge.as_ref().unwrap();
    assert_eq!(
        edge.before,
        "not matched at case version 1, fired 0 time(s)"
    );
    assert!(x
        .history
        .as_ref()
        .is_some_and(|h| h.contains("1 earlier event(s)")));
    let at = "2026-12-01T10:01:00Z".parse().ok();
    let x = explain_case(&rules(), None, "page-secops", "case-7", at, &events).unwrap();
    assert_eq!(x.event.case_version, 1);
    assert!(x.history.is_none() && !x.verdict.fired);
    // The raise alone only seeds: a matching case is taken as already paged.
    let mut seeded = events.clone();
    seeded.push(seeded[1].clone());
    seeded[2].aggregate_version = 3;
    let x = explain_case(&rules(), None, "page-secops", "case-7", None, &seeded[1..]).unwrap();
    assert_eq!(
        x.edge.unwrap().before,
        "matched at case version 2, fired 1 time(s)"
    );
    let none = explain_case(&rules(), None, "page-secops", "nope", None, &events).unwrap_err();
    assert_eq!(none, ExplainError::NoEvents("nope".into()));
}
