//! The order `timeline show` lists cells in, read back from the table.

use crate::event::pb::{self, Actor, ActorKind, ExternalSystem, Origin, OriginChannel};
use crate::event::{CaseEvent, Event, EventType, Payload, Timestamp};
use crate::flavors::timeline::plan::plan;
use crate::flavors::timeline::show::{load, render};
use crate::flavors::timeline::write::ops;
use crate::store::rows::Planned;
use crate::store::Store;

/// When Jira sent the change (ms), and the issue's `updated` just before.
const SENT_MS: i64 = 1_764_918_601_000;

/// A priority change in Jira as the webhook publishes it (the flavor's own
/// test checks its builder makes this shape; flavors do not import each
/// other): Jira's time in the payload, case version 0 (unknown), occurred
/// when Jira sent it.
fn jira_change() -> CaseEvent {
    CaseEvent {
        event_id: "0190f000-0000-7000-8000-00000000a001".into(),
        event_type: EventType::ExternalTicketChanged.as_str().into(),
        case_id: "c-7".into(),
        case_key: "SEC-7".into(),
        project_id: "p1".into(),
        aggregate_version: 0,
        occurred_at: Some(Timestamp {
            seconds: SENT_MS / 1000,
            nanos: 0,
        }),
        actor: Some(Actor {
            kind: ActorKind::Integration as i32,
            id: "jira".into(),
            display_name: "Hu Man".into(),
        }),
        origin: Some(Origin {
            channel: OriginChannel::Jira as i32,
            external_ref: Some("wh-1".into()),
        }),
        payload: Some(Payload::ExternalTicketChanged(pb::ExternalTicketChanged {
            system: ExternalSystem::Jira as i32,
            ext_id: "10001".into(),
            field: "priority".into(),
            old: "Medium".into(),
            new: "Highest".into(),
            ext_event_id: "wh-1".into(),
            ext_item_id: String::new(),
            ext_version: SENT_MS - 750,
        })),
        ..CaseEvent::default()
    }
}

/// An event of the Jira change's case, `at_ms`, at case version `version`.
fn case_event(jira: &CaseEvent, version: u64, at_ms: i64, payload: Payload) -> CaseEvent {
    CaseEvent {
        event_id: format!("0190f000-0000-7000-8000-00000000c{version:03}"),
        event_type: EventType::of(&payload).as_str().into(),
        case_id: jira.case_id.clone(),
        case_key: jira.case_key.clone(),
        project_id: jira.project_id.clone(),
        aggregate_version: version,
        occurred_at: Some(Timestamp {
            seconds: at_ms / 1000,
            nanos: 0,
        }),
        actor: Some(Actor {
            kind: ActorKind::User as i32,
            id: "u-ana".into(),
            display_name: "Ana Ruiz".into(),
        }),
        payload: Some(payload),
        ..CaseEvent::default()
    }
}

#[tokio::test]
async fn a_jira_change_shows_when_it_happened_between_case_events() {
    let jira = jira_change();
    let at = |e: &CaseEvent| e.occurred_at.unwrap().seconds * 1000;
    let jira_ms = at(&jira);
    let created = Payload::CaseCreated(pb::CaseCreated::default());
    let archived = Payload::CaseArchived(pb::CaseArchived {});
    let before = case_event(&jira, 1, jira_ms - 60_000, created);
    let after = case_event(&jira, 2, jira_ms + 60_000, archived);

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = Store::connect(&url, 2).await.unwrap();
    let batch: Vec<Planned> = [&after, &jira, &before]
        .into_iter()
        .map(|e| Planned {
            event_id: e.event_id.clone(),
            ops: ops(plan(&Event::new(e.clone()).unwrap()).unwrap()).unwrap(),
        })
        .collect();
    store.apply_rows("timeline", &batch).await.unwrap();

    let cells = load(&store, &jira.case_key).await.unwrap();
    let kinds: Vec<&str> = cells.iter().map(|c| c.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        ["case.created", "external_ticket.changed", "case.archived"]
    );
    let text = render(&cells);
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert!(lines[0].starts_with("  v1 "), "{text}");
    assert!(lines[1].starts_with("  v-  "), "version unknown: {text}");
    assert!(
        lines[1].contains("Jira ticket 10001 changed priority"),
        "{text}"
    );
    assert!(lines[2].starts_with("  v2 "), "{text}");
}
