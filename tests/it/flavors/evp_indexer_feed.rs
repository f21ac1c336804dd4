//! evp-indexer-feed end to end: the flavor through the production wiring
//! (`spawn_flavor`) on Kafka, PostgreSQL (ledger) and the fake events intake.

use std::collections::BTreeMap;
use std::time::Duration;

use case_event_handler::event::pb::{
    CaseAssigned, CaseCommentAdded, CaseCreated, CasePriorityChanged, CaseStatusChanged,
    IncidentDeclaredFromCase, Priority, StatusGroup,
};
use case_event_handler::event::{CaseEvent, CaseSnapshot, Payload, Timestamp};
use case_event_handler::flavors::evp_indexer_feed::EVENTS_INTAKE;
use case_event_handler::runtime::dlq::headers;

use crate::fakes::events_intake::EventsIntake;
use crate::fakes::server::{Exchange, Fault};
use crate::helpers::*;
use crate::kit::spawn_flavor;
use crate::limiter_log;

const KEY: &str = "feed-api-key";

fn yaml(intake: &EventsIntake, key: &str) -> String {
    format!(
        "flavors:\n  evp-indexer-feed:\n    url: \"{}\"\n    api_key: {key}\n    tags: [\"env:test\"]\n    \
         runtime: {{ retry: {{ initial_backoff_ms: 100, max_backoff_ms: 1000 }} }}\n",
        intake.url()
    )
}

/// One case's events, `minutes_ago` old: 7 milestones among 9 events.
fn lifecycle(case: usize, minutes_ago: i64) -> Vec<CaseEvent> {
    use StatusGroup::{Closed, InProgress, Open};
    let status = |from: StatusGroup, to: StatusGroup| {
        Payload::CaseStatusChanged(CaseStatusChanged {
            from_group: from as i32,
            to_group: to as i32,
            ..Default::default()
        })
    };
    let snapshot = CaseSnapshot {
        id: format!("case-{case}"),
        key: format!("FEED-{case}"),
        title: format!("Case number {case}"),
        status_group: Open as i32,
        priority: Priority::P2 as i32,
        ..Default::default()
    };
    let payloads = [
        (
            "case.created",
            Payload::CaseCreated(CaseCreated {
                snapshot: Some(Box::new(snapshot)),
                ..Default::default()
            }),
        ),
        ("case.status_changed", status(Open, InProgress)),
        ("case.status_changed", status(InProgress, InProgress)),
        (
            "case.priority_changed",
            Payload::CasePriorityChanged(CasePriorityChanged {
                from: Priority::P2 as i32,
                to: Priority::P1 as i32,
            }),
        ),
        (
            "case.comment_added",
            Payload::CaseCommentAdded(CaseCommentAdded {
                cell_id: format!("cell-{case}"),
                markdown: "looking".into(),
                ..Default::default()
            }),
        ),
        (
            "case.assigned",
            Payload::CaseAssigned(CaseAssigned {
                to: "user-7".into(),
                ..Default::default()
            }),
        ),
        ("case.status_changed", status(InProgress, Closed)),
        ("case.status_changed", status(Closed, Open)),
        (
            "incident.declared_from_case",
            Payload::IncidentDeclaredFromCase(IncidentDeclaredFromCase {
                incident_id: format!("INC-{case}"),
                severity: "SEV-1".into(),
                ..Default::default()
            }),
        ),
    ];
    let at = chrono::Utc::now() - chrono::Duration::minutes(minutes_ago);
    (payloads.into_iter().enumerate())
        .map(|(i, (event_type, payload))| CaseEvent {
            event_id: uuid::Uuid::new_v4().to_string(),
            event_type: event_type.into(),
            schema_version: 1,
            project_id: "project-feed".into(),
            project_key: "FEED".into(),
            case_id: format!("case-{case}"),
            case_key: format!("FEED-{case}"),
            aggregate_version: i as u64 + 1,
            occurred_at: Some(Timestamp {
                seconds: at.timestamp() + i as i64,
                nanos: 0,
            }),
            payload: Some(payload),
            ..Default::default()
        })
        .collect()
}

const MILESTONES: [&str; 7] = [
    "created",
    "status_group_changed",
    "priority_changed",
    "assigned",
    "closed",
    "reopened",
    "escalated_to_incident",
];

fn milestones_per_case(accepted: &[serde_json::Value]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in accepted {
        let custom = &a["attributes"]["custom"];
        let name = custom["milestone"].as_str().unwrap().to_string();
        out.entry(a["aggregation_key"].as_str().unwrap().into())
            .or_default()
            .push(name);
    }
    out
}

#[tokio::test]
async fn evp_feed_sends_each_milestone_once_in_order_through_faults() {
    limiter_log::install();
    let intake = EventsIntake::start(KEY).await;
    let cases = 12;
    let mut events: Vec<CaseEvent> = (0..cases).flat_map(|c| lifecycle(c, 5)).collect();
    let stale = lifecycle(99, 19 * 60); // 19 h old: skipped, never sent
    events.extend(stale);
    let duplicates: Vec<CaseEvent> = events.iter().step_by(7).cloned().collect();
    events.extend(duplicates.iter().cloned());
    let poison = lifecycle(50, 5);
    let poisoned = poison[5].event_id.clone(); // its `assigned`
    intake.poison(&poisoned);
    events.extend(poison);
    // The first requests meet Datadog's rate limit, outages and a dropped connection.
    intake.inject([
        Fault::RateLimited(1),
        Fault::Status(503),
        Fault::Drop,
        Fault::Status(500),
        Fault::Status(502),
    ]);

    let mut run = spawn_flavor("evp-indexer-feed", &yaml(&intake, KEY), 3).await;
    publish(&run.topic, &events).await;
    run.caught_up(3, Duration::from_secs(120)).await;
    let summary = run.stop().await;

    let per_case = milestones_per_case(&intake.accepted());
    for c in 0..cases {
        assert_eq!(
            per_case[&format!("case-{c}")],
            MILESTONES,
            "case {c}: once each, in order"
        );
    }
    let mut poisoned_case = MILESTONES.to_vec();
    poisoned_case.retain(|m| *m != "assigned");
    assert_eq!(
        per_case["case-50"], poisoned_case,
        "the rest of the poisoned case"
    );
    assert!(
        !per_case.contains_key("case-99"),
        "19 h old events are not sent"
    );
    assert_eq!(per_case.len(), cases + 1);
    assert_eq!(intake.dropped_stale(), 0, "nothing sent only to be dropped");

    let exchanges = intake.exchanges();
    let refused: Vec<_> = (exchanges.iter())
        .filter(|e| e.status == Some(400))
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "only the poison is refused: every request valid"
    );
    let limited = (exchanges.iter())
        .find(|e| e.status == Some(429))
        .expect("the 429 was served");
    // Whether a request started inside the hold is decided on the limiter's
    // own clock: a request admitted just before the 429 came back may reach
    // the fake late on a loaded machine, and is no fault.
    let log = limiter_log::of(EVENTS_INTAKE.name);
    let hold = (log.hold_of_at_least(Duration::from_secs(1)))
        .unwrap_or_else(|| panic!("the 429 held the intake for the reset: {log:?}"));
    assert_eq!(
        log.admitted_inside_a_hold(),
        Vec::<u64>::new(),
        "X-RateLimit-Reset: 1 holds every request ({log:?})"
    );
    assert!(log.admitted_since(hold.1) > 0, "requests went on after it");
    let event_of = |e: &Exchange| {
        let body: serde_json::Value = serde_json::from_slice(&e.request.body).unwrap();
        body["data"]["attributes"]["attributes"]["custom"]["event_id"].clone()
    };
    let again = (exchanges.iter())
        .find(|e| e.at > limited.at && event_of(e) == event_of(limited))
        .expect("the rate-limited event went again");
    let waited = again.at - limited.at;
    assert!(
        waited >= Duration::from_millis(900),
        "retried after {waited:?}, not after the reset"
    );

    let dead = read_all(&format!("{}.dlq.evp-indexer-feed", run.topic)).await;
    assert_eq!(dead.len(), 1, "one dead letter: the poison");
    assert_eq!(dead[0].header(headers::REASON), Some(&b"discarded"[..]));
    let skipped = summary.to_string();
    assert!(skipped.contains("older-than-intake-window"), "{skipped}");
    assert!(skipped.contains("no-milestone"), "{skipped}");
}

#[tokio::test]
async fn evp_feed_a_wrong_api_key_dead_letters_without_retrying() {
    let intake = EventsIntake::start(KEY).await;
    let events: Vec<CaseEvent> = lifecycle(1, 5).into_iter().take(2).collect();
    let mut run = spawn_flavor("evp-indexer-feed", &yaml(&intake, "wrong-key"), 1).await;
    publish(&run.topic, &events).await;
    run.caught_up(1, Duration::from_secs(60)).await;
    run.stop().await;
    let statuses: Vec<_> = intake.exchanges().iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [Some(403), Some(403)],
        "one request per event, no retry"
    );
    let dead = read_all(&format!("{}.dlq.evp-indexer-feed", run.topic)).await;
    assert_eq!(dead.len(), 2);
    assert!(intake.accepted().is_empty());
}
