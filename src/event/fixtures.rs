//! Events for tests: a valid [`CaseEvent`] from a payload, with the
//! envelope filled (ids, keys, times, actor) and a default snapshot, so a
//! flavor's test states only what it is about.
//!
//! ```
//! use case_event_handler::event::fixtures;
//! use case_event_handler::event::pb::CaseTitleChanged;
//! use case_event_handler::event::Payload;
//!
//! let ev = fixtures::on_case("c-7", 3, Payload::CaseTitleChanged(CaseTitleChanged {
//!     old: "a".into(),
//!     new: "b".into(),
//! }));
//! assert_eq!(ev.event_type, "case.title_changed");
//! assert!(case_event_handler::event::validate(&ev).is_ok());
//! ```

use super::pb::{Actor, ActorKind, CaseEvent, CaseSnapshot, Priority, StatusGroup};
use super::{EventType, Payload, Scope, Timestamp, SCHEMA_VERSION};

/// The project every fixture belongs to.
pub const PROJECT_ID: &str = "0190f000-0000-7000-8000-00000000f001";
/// Its key.
pub const PROJECT_KEY: &str = "SEC";
/// The organisation.
pub const ORG_ID: &str = "org-fixtures";
/// `occurred_at` of version 1 (2026-01-01T00:00:00Z); each version is one
/// second later.
pub const EPOCH_S: i64 = 1_767_225_600;

/// Version 1 of case `case-1` with `payload`.
pub fn event(payload: Payload) -> CaseEvent {
    on_case("case-1", 1, payload)
}

/// Version `version` of case `case_id` with `payload` (project-scoped
/// payloads get no case id, version 0 and no snapshot). The event id is
/// derived from the case and version, so fixtures are stable.
pub fn on_case(case_id: &str, version: u64, payload: Payload) -> CaseEvent {
    let kind = EventType::of(&payload);
    let project = kind.scope() == Scope::Project;
    let seconds = EPOCH_S + version as i64;
    let at = Timestamp { seconds, nanos: 0 };
    let id = crate::flavors::kit::ids::from_parts(seconds * 1000, &[case_id, &version.to_string()]);
    CaseEvent {
        event_id: id.clone(),
        event_type: kind.as_str().into(),
        schema_version: SCHEMA_VERSION,
        org_id: ORG_ID.into(),
        project_id: PROJECT_ID.into(),
        project_key: PROJECT_KEY.into(),
        case_id: if project {
            String::new()
        } else {
            case_id.into()
        },
        case_key: if project {
            String::new()
        } else {
            format!("{PROJECT_KEY}-{version}")
        },
        aggregate_version: if project { 0 } else { version },
        occurred_at: Some(at),
        published_at: Some(at),
        actor: Some(Actor {
            kind: ActorKind::User as i32,
            id: "0190f000-0000-7000-8000-0000000000e1".into(),
            display_name: "Fixture User".into(),
        }),
        correlation_id: id,
        case_after: (!project).then(|| snapshot(case_id)),
        payload: Some(payload),
        ..CaseEvent::default()
    }
}

/// The same event without `case_after` (the producer could not provide it).
pub fn without_snapshot(mut ev: CaseEvent) -> CaseEvent {
    ev.case_after = None;
    ev
}

/// An open, untriaged case with a title.
pub fn snapshot(case_id: &str) -> CaseSnapshot {
    CaseSnapshot {
        id: case_id.into(),
        key: format!("{PROJECT_KEY}-1"),
        project_id: PROJECT_ID.into(),
        title: format!("Fixture case {case_id}"),
        status_name: "Open".into(),
        status_group: StatusGroup::Open as i32,
        priority: Priority::NotDefined as i32,
        created_at: Some(Timestamp {
            seconds: EPOCH_S,
            nanos: 0,
        }),
        ..CaseSnapshot::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::pb::{CaseStatusChanged, RuleChanged};

    #[test]
    fn fixtures_are_valid_and_stable() {
        let payload = || Payload::CaseStatusChanged(CaseStatusChanged::default());
        let a = on_case("c-1", 4, payload());
        assert!(crate::event::validate(&a).is_ok());
        assert_eq!(a, on_case("c-1", 4, payload()));
        assert_ne!(a.event_id, on_case("c-1", 5, payload()).event_id);
        assert_eq!(a.aggregate_version, 4);
        assert!(a.case_after.is_some());
        assert!(without_snapshot(a).case_after.is_none());
    }

    #[test]
    fn a_project_scoped_fixture_has_no_case() {
        let ev = event(Payload::RuleChanged(RuleChanged::default()));
        assert!(crate::event::validate(&ev).is_ok());
        assert!(ev.case_id.is_empty() && ev.case_after.is_none());
        assert_eq!(ev.aggregate_version, 0);
    }
}
