//! Pure: which cell an event writes, and how. No IO, so it cannot fail on
//! anything but the event itself. The kit guarantees a payload: the plan
//! reads it from the validated [`Event`].

use crate::event::{CaseEvent, Event, EventType, Payload};

/// The kind of a timeline cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellType {
    /// Created, archived, moved, title, description, due date, reviews.
    Lifecycle,
    /// Status changes.
    Status,
    /// Priority changes.
    Priority,
    /// Assignee and watcher changes.
    Assignment,
    /// Attribute and custom attribute changes.
    Attribute,
    /// Comments.
    Comment,
    /// Links to other entities.
    Link,
    /// Insights and correlated signals.
    Insight,
    /// Jira / ServiceNow tickets.
    Integration,
    /// On-call pages.
    Page,
    /// Incidents.
    Incident,
    /// Notifications sent or suppressed.
    Notification,
    /// Automation rules and workflows.
    Automation,
    /// SLA warnings and breaches.
    Sla,
}

impl CellType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CellType::Lifecycle => "lifecycle",
            CellType::Status => "status",
            CellType::Priority => "priority",
            CellType::Assignment => "assignment",
            CellType::Attribute => "attribute",
            CellType::Comment => "comment",
            CellType::Link => "link",
            CellType::Insight => "insight",
            CellType::Integration => "integration",
            CellType::Page => "page",
            CellType::Incident => "incident",
            CellType::Notification => "notification",
            CellType::Automation => "automation",
            CellType::Sla => "sla",
        }
    }
}

/// The cell type of an event type.
pub fn cell_type(t: EventType) -> CellType {
    use EventType as E;
    match t {
        E::CaseStatusChanged => CellType::Status,
        E::CasePriorityChanged => CellType::Priority,
        E::CaseAssigned | E::CaseUnassigned | E::CaseWatcherAdded | E::CaseWatcherRemoved => {
            CellType::Assignment
        }
        E::CaseAttributeChanged | E::CaseCustomAttributeChanged => CellType::Attribute,
        E::CaseCommentAdded | E::CaseCommentEdited | E::CaseCommentDeleted => CellType::Comment,
        E::CaseLinked | E::CaseUnlinked => CellType::Link,
        E::CaseInsightAdded | E::CaseInsightRemoved | E::CaseSignalCorrelated => CellType::Insight,
        E::ExternalTicketLinked | E::ExternalTicketChanged | E::ExternalSyncFailed => {
            CellType::Integration
        }
        E::PageTriggered | E::PageAcknowledged | E::PageEscalated | E::PageResolved => {
            CellType::Page
        }
        E::IncidentDeclaredFromCase | E::IncidentChanged => CellType::Incident,
        E::NotificationDispatched | E::NotificationSuppressed => CellType::Notification,
        E::AutomationRuleFired | E::WorkflowTriggerRequested => CellType::Automation,
        E::SlaWarning | E::SlaBreached => CellType::Sla,
        E::CaseCreated
        | E::CaseTitleChanged
        | E::CaseDescriptionChanged
        | E::CaseDueDateChanged
        | E::CaseArchived
        | E::CaseUnarchived
        | E::CaseMovedToProject
        | E::CaseReviewRequested
        | E::CaseReviewDecided
        | E::ProjectSettingsChanged
        | E::RuleChanged => CellType::Lifecycle,
    }
}

/// A new cell, with everything the table holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub cell_id: String,
    pub case_id: String,
    pub case_key: String,
    pub project_id: String,
    pub cell_type: CellType,
    pub event_type: EventType,
    pub event_id: String,
    pub actor_kind: String,
    pub actor_id: String,
    pub actor_name: String,
    pub occurred_at_ms: i64,
    pub version: i64,
    pub content: String,
}

/// What an event does to the timeline.
#[derive(Debug, Clone, PartialEq)]
pub enum CellWrite {
    /// Insert the cell (or replace an older version of it).
    Upsert(Cell),
    /// Replace a comment's content, if this version is newer.
    Edit {
        cell_id: String,
        content: String,
        version: i64,
        at_ms: i64,
    },
    /// Tombstone a comment, if this version is newer.
    Tombstone {
        cell_id: String,
        version: i64,
        at_ms: i64,
    },
}

/// Plans the write of one event.
pub fn plan(event: &Event) -> Result<CellWrite, String> {
    let payload = event.payload();
    let version = event.aggregate_version as i64;
    let at_ms = event.occurred_at_ms();
    match payload {
        Payload::CaseCommentEdited(p) => Ok(CellWrite::Edit {
            cell_id: p.cell_id.clone(),
            content: content_of(event)?,
            version,
            at_ms,
        }),
        Payload::CaseCommentDeleted(p) => Ok(CellWrite::Tombstone {
            cell_id: p.cell_id.clone(),
            version,
            at_ms,
        }),
        _ => Ok(CellWrite::Upsert(new_cell(event, version, at_ms)?)),
    }
}

fn new_cell(event: &Event, version: i64, at_ms: i64) -> Result<Cell, String> {
    let event_type = event.kind();
    let cell_id = match event.payload() {
        Payload::CaseCommentAdded(p) if !p.cell_id.is_empty() => p.cell_id.clone(),
        _ => format!("tl-{}", event.event_id),
    };
    let actor = event.actor.clone().unwrap_or_default();
    Ok(Cell {
        cell_id,
        case_id: event.case_id.clone(),
        case_key: event.case_key.clone(),
        project_id: event.project_id.clone(),
        cell_type: cell_type(event_type),
        event_type,
        event_id: event.event_id.clone(),
        actor_kind: actor
            .kind()
            .as_str_name()
            .trim_start_matches("ACTOR_KIND_")
            .to_lowercase(),
        actor_id: actor.id,
        actor_name: actor.display_name,
        occurred_at_ms: at_ms,
        version,
        content: content_of(event)?,
    })
}

/// The payload's canonical JSON: serialize an envelope holding only the
/// payload, whose single field is then the payload document.
fn content_of(event: &Event) -> Result<String, String> {
    let only_payload = CaseEvent {
        payload: Some(event.payload().clone()),
        ..CaseEvent::default()
    };
    let value = serde_json::to_value(&only_payload).map_err(|e| e.to_string())?;
    let doc = value
        .as_object()
        .and_then(|o| o.values().next().cloned())
        .unwrap_or_else(|| serde_json::json!({}));
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{fixtures, pb};

    fn event(payload: Payload, version: u64) -> Event {
        Event::new(fixtures::on_case("c1", version, payload)).expect("a valid fixture")
    }

    #[test]
    fn status_change_is_a_status_cell_with_from_and_to() {
        let p = Payload::CaseStatusChanged(pb::CaseStatusChanged {
            from_status_name: "Open".into(),
            to_status_name: "In Progress".into(),
            ..Default::default()
        });
        let ev = event(p, 3);
        let CellWrite::Upsert(cell) = plan(&ev).unwrap() else {
            panic!("upsert expected")
        };
        assert_eq!(cell.cell_type, CellType::Status);
        assert_eq!(cell.cell_id, format!("tl-{}", ev.event_id));
        assert_eq!(cell.version, 3);
        let doc: serde_json::Value = serde_json::from_str(&cell.content).unwrap();
        assert_eq!(doc["fromStatusName"], "Open");
        assert_eq!(doc["toStatusName"], "In Progress");
    }

    #[test]
    fn comments_use_their_cell_id_and_edits_target_it() {
        let add = Payload::CaseCommentAdded(pb::CaseCommentAdded {
            cell_id: "cm-1".into(),
            markdown: "hi".into(),
            ..Default::default()
        });
        let CellWrite::Upsert(cell) = plan(&event(add, 2)).unwrap() else {
            panic!("upsert expected")
        };
        assert_eq!(cell.cell_id, "cm-1");
        let edit = Payload::CaseCommentEdited(pb::CaseCommentEdited {
            cell_id: "cm-1".into(),
            markdown: "hello".into(),
        });
        assert!(
            matches!(plan(&event(edit, 3)).unwrap(), CellWrite::Edit { ref cell_id, version: 3, .. } if cell_id == "cm-1")
        );
        let del = Payload::CaseCommentDeleted(pb::CaseCommentDeleted {
            cell_id: "cm-1".into(),
        });
        assert!(matches!(
            plan(&event(del, 4)).unwrap(),
            CellWrite::Tombstone { version: 4, .. }
        ));
    }
}
