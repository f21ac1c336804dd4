//! Sentences of the case's own fields.

use super::{by_system, sentence, BOB};
use crate::event::pb::*;
use crate::event::Payload as P;

#[test]
fn created() {
    let p = P::CaseCreated(CaseCreated {
        snapshot: Some(Box::new(CaseSnapshot {
            title: "Suspicious login burst".into(),
            status_name: "Open".into(),
            priority: Priority::NotDefined as i32,
            ..Default::default()
        })),
        creation_source: "Monitor".into(),
    });
    assert_eq!(
        sentence(p),
        "case created by Ana Ruiz: “Suspicious login burst” (Open, no priority, from Monitor)"
    );
}

#[test]
fn title_changed() {
    let p = P::CaseTitleChanged(CaseTitleChanged {
        old: "Disk full".into(),
        new: "Disk usage above 90%".into(),
    });
    assert_eq!(
        sentence(p),
        "title: “Disk full” → “Disk usage above 90%” by Ana Ruiz"
    );
}

#[test]
fn description_changed() {
    let p = P::CaseDescriptionChanged(CaseDescriptionChanged {
        old: String::new(),
        new: "Rolled back.\n\nAffected: `billing-worker`".into(),
    });
    assert_eq!(
        sentence(p),
        "description changed by Ana Ruiz: “Rolled back. Affected: `billing-worker`”"
    );
}

#[test]
fn status_changed() {
    let p = P::CaseStatusChanged(CaseStatusChanged {
        from_status_name: "Open".into(),
        to_status_name: "In Progress".into(),
        reason: StatusChangeReason::Manual as i32,
        ..Default::default()
    });
    assert_eq!(sentence(p), "status: Open → In Progress by Ana Ruiz");
    let closed = P::CaseStatusChanged(CaseStatusChanged {
        from_group: StatusGroup::InProgress as i32,
        to_status_name: "Closed".into(),
        resolved_reason: Some("FALSE_POSITIVE".into()),
        reason: StatusChangeReason::AutoCloseInactive as i32,
        ..Default::default()
    });
    assert_eq!(
        by_system(closed),
        "status: in progress → Closed (closed for inactivity, resolution false positive)"
    );
}

#[test]
fn priority_changed() {
    let p = P::CasePriorityChanged(CasePriorityChanged {
        from: Priority::NotDefined as i32,
        to: Priority::P1 as i32,
    });
    assert_eq!(sentence(p), "priority: no priority → P1 by Ana Ruiz");
    let cleared = P::CasePriorityChanged(CasePriorityChanged {
        from: Priority::P3 as i32,
        to: Priority::Unspecified as i32,
    });
    assert_eq!(sentence(cleared), "priority: P3 → no priority by Ana Ruiz");
}

#[test]
fn assigned() {
    let p = P::CaseAssigned(CaseAssigned {
        from: None,
        to: BOB.into(),
        reason: AssignmentReason::Manual as i32,
    });
    assert_eq!(
        sentence(p),
        "assigned to Bob Lee (was unassigned) by Ana Ruiz"
    );
    let took = P::CaseAssigned(CaseAssigned {
        from: Some(BOB.into()),
        to: super::ANA.into(),
        reason: AssignmentReason::SelfAssigned as i32,
    });
    assert_eq!(
        sentence(took),
        "assigned to Ana Ruiz (self-assigned, was Bob Lee)"
    );
    let unknown = P::CaseAssigned(CaseAssigned {
        from: None,
        to: "u-zoe".into(),
        reason: AssignmentReason::OncallAuto as i32,
    });
    assert_eq!(
        by_system(unknown),
        "assigned to u-zoe (was unassigned, on-call acknowledgement)"
    );
}

#[test]
fn unassigned() {
    let p = P::CaseUnassigned(CaseUnassigned {
        from: BOB.into(),
        reason: AssignmentReason::Manual as i32,
    });
    assert_eq!(sentence(p), "unassigned (was Bob Lee) by Ana Ruiz");
}

#[test]
fn attribute_changed() {
    let p = P::CaseAttributeChanged(CaseAttributeChanged {
        key: "teams".into(),
        added: vec!["payments".into(), "search".into()],
        removed: vec!["data".into()],
    });
    assert_eq!(
        sentence(p),
        "attribute teams: added payments, search, removed data by Ana Ruiz"
    );
}

#[test]
fn custom_attribute_changed() {
    let value = |v: &str| CustomAttributeValue {
        r#type: CustomAttributeType::Text as i32,
        is_multi: false,
        values: vec![v.into()],
    };
    let set = P::CaseCustomAttributeChanged(CaseCustomAttributeChanged {
        key: "region".into(),
        r#type: CustomAttributeType::Text as i32,
        old: None,
        new: Some(value("eu-west")),
    });
    assert_eq!(sentence(set), "attribute region set to eu-west by Ana Ruiz");
    let changed = P::CaseCustomAttributeChanged(CaseCustomAttributeChanged {
        key: "business_impact".into(),
        r#type: CustomAttributeType::Number as i32,
        old: Some(value("2")),
        new: Some(value("3")),
    });
    assert_eq!(
        sentence(changed),
        "attribute business_impact 2 → 3 by Ana Ruiz"
    );
}

#[test]
fn due_date_changed() {
    let p = P::CaseDueDateChanged(CaseDueDateChanged {
        old: None,
        new: Some("2025-01-17".into()),
    });
    assert_eq!(sentence(p), "due date set to 2025-01-17 by Ana Ruiz");
}

#[test]
fn archived_and_unarchived() {
    assert_eq!(
        sentence(P::CaseArchived(CaseArchived {})),
        "case archived by Ana Ruiz"
    );
    assert_eq!(
        sentence(P::CaseUnarchived(CaseUnarchived {})),
        "case unarchived by Ana Ruiz"
    );
}

#[test]
fn moved_to_project() {
    let p = P::CaseMovedToProject(CaseMovedToProject {
        from_project_id: "p-ops".into(),
        to_project_id: "p-sec".into(),
        old_key: "OPS-7".into(),
        new_key: "SEC-43".into(),
    });
    assert_eq!(sentence(p), "moved from OPS-7 to SEC-43 by Ana Ruiz");
}
