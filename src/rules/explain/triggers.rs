//! Whether an event is the change a rule's trigger names: notification
//! [`Trigger`]s and automation [`AutomationTrigger`]s against the event's
//! type and payload.

use serde::Serialize;

use crate::event::pb::{ApprovalType as PbApproval, Priority};
use crate::event::{CaseEvent, Payload};
use crate::rules::schema::{ApprovalType, AutomationTrigger, ChangeType, Trigger, ValueChange};

/// One trigger tested against the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriggerTest {
    /// The trigger as written in words (`ATTRIBUTE_VALUE_CHANGED priority changed`).
    pub trigger: String,
    /// Whether the event is that change.
    pub matched: bool,
}

/// A notification trigger tested against `event`.
pub fn notification(t: &Trigger, event: &CaseEvent) -> TriggerTest {
    let (trigger, matched) = match t {
        Trigger::CaseCreated => ("CASE_CREATED".to_owned(), created(event)),
        Trigger::StatusTransitioned {
            from_status_name,
            to_status_name,
        } => status(
            event,
            from_status_name.as_deref(),
            to_status_name.as_deref(),
        ),
        Trigger::AttributeValueChanged { field, change_type } => {
            attribute(event, field, *change_type)
        }
        Trigger::EventCorrelationSignalCorrelated => (
            "EVENT_CORRELATION_SIGNAL_CORRELATED".to_owned(),
            matches!(event.payload, Some(Payload::CaseSignalCorrelated(_))),
        ),
        Trigger::CommentAdded => (
            "COMMENT_ADDED".to_owned(),
            matches!(event.payload, Some(Payload::CaseCommentAdded(_))),
        ),
        Trigger::SlaBreached => (
            "SLA_BREACHED".to_owned(),
            matches!(event.payload, Some(Payload::SlaBreached(_))),
        ),
    };
    TriggerTest { trigger, matched }
}

/// An automation trigger tested against `event`: the triggers it shares
/// with notification rules are tested as those are.
pub fn automation(t: &AutomationTrigger, event: &CaseEvent) -> TriggerTest {
    let shared = match t {
        AutomationTrigger::CaseCreated => Trigger::CaseCreated,
        AutomationTrigger::StatusTransitioned {
            from_status_name,
            to_status_name,
        } => Trigger::StatusTransitioned {
            from_status_name: from_status_name.clone(),
            to_status_name: to_status_name.clone(),
        },
        AutomationTrigger::AttributeValueChanged { field, change_type } => {
            Trigger::AttributeValueChanged {
                field: field.clone(),
                change_type: match change_type {
                    ValueChange::ValueAdded => ChangeType::Added,
                    ValueChange::ValueDeleted => ChangeType::Removed,
                    ValueChange::AnyChanges => ChangeType::Changed,
                },
            }
        }
        AutomationTrigger::EventCorrelationSignalCorrelated => {
            Trigger::EventCorrelationSignalCorrelated
        }
        AutomationTrigger::CommentAdded => Trigger::CommentAdded,
        AutomationTrigger::CaseReviewApproved { approval_type } => {
            return review_approved(*approval_type, event)
        }
    };
    notification(&shared, event)
}

/// `CASE_REVIEW_APPROVED <type>`: the review's decision satisfied it.
fn review_approved(approval_type: ApprovalType, event: &CaseEvent) -> TriggerTest {
    let wanted = match approval_type {
        ApprovalType::First => PbApproval::First,
        ApprovalType::Each => PbApproval::Each,
        ApprovalType::All => PbApproval::All,
    };
    let matched = match &event.payload {
        Some(Payload::CaseReviewDecided(d)) => d.satisfied.contains(&(wanted as i32)),
        _ => false,
    };
    let name = wanted.as_str_name().trim_start_matches("APPROVAL_TYPE_");
    TriggerTest {
        trigger: format!("CASE_REVIEW_APPROVED {name}"),
        matched,
    }
}

fn created(event: &CaseEvent) -> bool {
    matches!(event.payload, Some(Payload::CaseCreated(_)))
}

/// `STATUS_TRANSITIONED [from A] [to B]`: names compare case-insensitively.
fn status(event: &CaseEvent, from: Option<&str>, to: Option<&str>) -> (String, bool) {
    let mut words = "STATUS_TRANSITIONED".to_owned();
    if let Some(from) = from {
        words.push_str(&format!(" from {from}"));
    }
    if let Some(to) = to {
        words.push_str(&format!(" to {to}"));
    }
    let same = |want: Option<&str>, got: &str| want.is_none_or(|w| w.eq_ignore_ascii_case(got));
    let matched = match &event.payload {
        Some(Payload::CaseStatusChanged(c)) => {
            same(from, &c.from_status_name) && same(to, &c.to_status_name)
        }
        _ => false,
    };
    (words, matched)
}

/// `ATTRIBUTE_VALUE_CHANGED field how`: `priority` and `assignee` are
/// their own events; `custom.<key>` (or a custom key) a custom attribute;
/// any other field an attribute by key.
fn attribute(event: &CaseEvent, field: &str, how: ChangeType) -> (String, bool) {
    let how_word = match how {
        ChangeType::Added => "added",
        ChangeType::Removed => "removed",
        ChangeType::Changed => "changed",
    };
    let words = format!("ATTRIBUTE_VALUE_CHANGED {field} {how_word}");
    // (a value appeared, a value went away) for the change, if it is one of `field`.
    let change: Option<(bool, bool)> = match (&event.payload, field) {
        (Some(Payload::CasePriorityChanged(c)), "priority") => {
            Some((undefined(c.from), undefined(c.to)))
        }
        (Some(Payload::CaseAssigned(c)), "assignee") => Some((c.from.is_none(), false)),
        (Some(Payload::CaseUnassigned(_)), "assignee") => Some((false, true)),
        (Some(Payload::CaseAttributeChanged(c)), f) if c.key == f => {
            Some((!c.added.is_empty(), !c.removed.is_empty()))
        }
        (Some(Payload::CaseCustomAttributeChanged(c)), f)
            if c.key == f || f.strip_prefix("custom.") == Some(c.key.as_str()) =>
        {
            Some((c.old.is_none(), c.new.is_none()))
        }
        _ => None,
    };
    let matched = change.is_some_and(|(added, removed)| match how {
        ChangeType::Added => added,
        ChangeType::Removed => removed,
        ChangeType::Changed => true,
    });
    (words, matched)
}

/// Priority `UNSPECIFIED` or `NOT_DEFINED`: no priority.
fn undefined(p: i32) -> bool {
    p == Priority::Unspecified as i32 || p == Priority::NotDefined as i32
}
