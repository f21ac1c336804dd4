//! The webhook plan: which endpoints take an event, and what they get.

use crate::event::pb::{self, Priority};
use crate::event::{fixtures, Event, Payload};
use crate::rules::{build, RulesSnapshot, SourceFile};

use super::plan::{destination, endpoint, plan};

fn rules(project: &str, webhooks: &str) -> RulesSnapshot {
    let file = SourceFile {
        name: format!("{project}.yaml"),
        text: format!("webhooks:\n{webhooks}"),
    };
    build(&[file]).expect("valid rules")
}

fn created(priority: Priority) -> Event {
    let mut ev = fixtures::event(Payload::CaseCreated(pb::CaseCreated::default()));
    if let Some(case) = ev.case_after.as_mut() {
        case.priority = priority as i32;
    }
    Event::new(ev).expect("a valid event")
}

fn commented() -> Event {
    let payload = Payload::CaseCommentAdded(pb::CaseCommentAdded {
        cell_id: "cm-1".into(),
        markdown: "hi".into(),
        ..Default::default()
    });
    Event::new(fixtures::on_case("case-1", 2, payload)).expect("a valid event")
}

const ENDPOINTS: &str = "  - {name: all, url: https://a.example.com/h, secret: s}
  - {name: created, url: https://b.example.com/h, secret: s, events: [case.created]}
  - {name: urgent, url: https://c.example.com/h, secret: s, query: \"priority:P1\"}
  - {name: off, url: https://d.example.com/h, secret: s, enabled: false}
";

fn destinations(snapshot: &RulesSnapshot, event: &Event) -> Vec<String> {
    let wanted = plan(snapshot, event).expect("a plan");
    wanted.into_iter().map(|w| w.destination).collect()
}

#[test]
fn an_event_goes_to_each_enabled_endpoint_that_takes_its_type_and_case() {
    let key = fixtures::PROJECT_KEY;
    let snapshot = rules(key, ENDPOINTS);
    let d = |name| destination(key, name);
    assert_eq!(
        destinations(&snapshot, &created(Priority::P1)),
        [d("all"), d("created"), d("urgent")]
    );
    assert_eq!(
        destinations(&snapshot, &created(Priority::P3)),
        [d("all"), d("created")]
    );
    assert_eq!(destinations(&snapshot, &commented()), [d("all")]);
}

#[test]
fn a_query_never_matches_an_event_without_its_case() {
    let snapshot = rules(fixtures::PROJECT_KEY, ENDPOINTS);
    let mut ev = fixtures::event(Payload::CaseCreated(pb::CaseCreated::default()));
    ev.case_after = None;
    let event = Event::new(ev).expect("valid");
    let got = destinations(&snapshot, &event);
    assert!(!got.iter().any(|d| d.ends_with("/urgent")), "{got:?}");
    assert_eq!(got.len(), 2, "{got:?}");
}

#[test]
fn another_projects_endpoints_get_nothing() {
    let snapshot = rules("OTHER", ENDPOINTS);
    assert!(destinations(&snapshot, &created(Priority::P1)).is_empty());
}

#[test]
fn the_payload_is_the_standard_webhooks_envelope_of_the_event() {
    let snapshot = rules(fixtures::PROJECT_KEY, ENDPOINTS);
    let event = created(Priority::P1);
    let wanted = plan(&snapshot, &event).expect("a plan");
    let body = &wanted[0].payload;
    assert_eq!(body["type"], "case.created");
    assert_eq!(body["data"]["eventId"], event.event_id.as_str());
    assert_eq!(body["data"]["caseAfter"]["id"], "case-1");
    assert_eq!(body["timestamp"], body["data"]["occurredAt"]);
    assert!(
        wanted.iter().all(|w| &w.payload == body),
        "one body for every endpoint"
    );
    let again = plan(&snapshot, &event).expect("a plan");
    assert_eq!(again, wanted, "pure: the same plan twice");
}

#[test]
fn a_destination_names_its_endpoint() {
    let snapshot = rules(fixtures::PROJECT_KEY, ENDPOINTS);
    let name = destination(fixtures::PROJECT_KEY, "urgent");
    assert_eq!(
        endpoint(&snapshot, &name).map(|e| e.url.as_str()),
        Some("https://c.example.com/h")
    );
    assert!(endpoint(&snapshot, "NOPE/urgent").is_none());
    assert!(endpoint(&snapshot, "no-slash").is_none());
}
