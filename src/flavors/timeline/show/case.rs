//! Sentences for changes to the case's own fields.

use super::words::{list, priority, quote, status, Ctx};
use crate::event::pb::{self, AssignmentReason, StatusChangeReason};

pub(super) fn created(cx: &Ctx, p: &pb::CaseCreated) -> String {
    let Some(s) = p.snapshot.as_deref() else {
        return format!("case created{}", cx.by());
    };
    let mut facts = vec![status(&s.status_name, s.status_group), priority(s.priority)];
    if !p.creation_source.is_empty() && p.creation_source != cx.actor() {
        facts.push(format!("from {}", p.creation_source));
    }
    format!(
        "case created{}: {} ({})",
        cx.by(),
        quote(&s.title, 80),
        facts.join(", ")
    )
}

pub(super) fn title(cx: &Ctx, p: &pb::CaseTitleChanged) -> String {
    if p.old.is_empty() {
        return format!("title set to {}{}", quote(&p.new, 60), cx.by());
    }
    format!(
        "title: {} → {}{}",
        quote(&p.old, 40),
        quote(&p.new, 40),
        cx.by()
    )
}

pub(super) fn description(cx: &Ctx, p: &pb::CaseDescriptionChanged) -> String {
    if p.new.trim().is_empty() {
        return format!("description cleared{}", cx.by());
    }
    format!("description changed{}: {}", cx.by(), quote(&p.new, 80))
}

pub(super) fn status_changed(cx: &Ctx, p: &pb::CaseStatusChanged) -> String {
    let mut text = format!(
        "status: {} → {}{}",
        status(&p.from_status_name, p.from_group),
        status(&p.to_status_name, p.to_group),
        cx.by()
    );
    let why = match StatusChangeReason::try_from(p.reason) {
        Ok(StatusChangeReason::AutoCloseInactive) => Some("closed for inactivity"),
        Ok(StatusChangeReason::MonitorResolved) => Some("the monitor resolved"),
        Ok(StatusChangeReason::Sync) => Some("synced from the external ticket"),
        Ok(StatusChangeReason::Rule) => Some("by an automation"),
        _ => None,
    };
    let mut notes: Vec<String> = why.into_iter().map(str::to_owned).collect();
    if let Some(r) = p.resolved_reason.as_deref().filter(|r| !r.is_empty()) {
        notes.push(format!("resolution {}", r.to_lowercase().replace('_', " ")));
    }
    if !notes.is_empty() {
        text.push_str(&format!(" ({})", notes.join(", ")));
    }
    text
}

pub(super) fn priority_changed(cx: &Ctx, p: &pb::CasePriorityChanged) -> String {
    format!(
        "priority: {} → {}{}",
        priority(p.from),
        priority(p.to),
        cx.by()
    )
}

/// Why an assignment changed, unless a person simply did it.
fn assignment_reason(reason: i32) -> Option<&'static str> {
    match AssignmentReason::try_from(reason) {
        Ok(AssignmentReason::OncallAuto) => Some("on-call acknowledgement"),
        Ok(AssignmentReason::Routing) => Some("routing rule"),
        _ => None,
    }
}

pub(super) fn assigned(cx: &Ctx, p: &pb::CaseAssigned) -> String {
    let was = match p.from.as_deref() {
        Some(from) if !from.is_empty() => format!("was {}", cx.who(from)),
        _ => "was unassigned".into(),
    };
    let selfish = cx.is_actor(&p.to) || p.reason == AssignmentReason::SelfAssigned as i32;
    let mut notes = vec![was];
    notes.extend(assignment_reason(p.reason).map(str::to_owned));
    if selfish {
        notes.insert(0, "self-assigned".into());
        return format!("assigned to {} ({})", cx.who(&p.to), notes.join(", "));
    }
    format!(
        "assigned to {} ({}){}",
        cx.who(&p.to),
        notes.join(", "),
        cx.by()
    )
}

pub(super) fn unassigned(cx: &Ctx, p: &pb::CaseUnassigned) -> String {
    let mut notes = vec![format!("was {}", cx.who(&p.from))];
    notes.extend(assignment_reason(p.reason).map(str::to_owned));
    format!("unassigned ({}){}", notes.join(", "), cx.by())
}

pub(super) fn attribute(cx: &Ctx, p: &pb::CaseAttributeChanged) -> String {
    let change = match (p.added.is_empty(), p.removed.is_empty()) {
        (false, true) => format!("added {}", list(&p.added)),
        (true, false) => format!("removed {}", list(&p.removed)),
        (false, false) => format!("added {}, removed {}", list(&p.added), list(&p.removed)),
        (true, true) => "unchanged".into(),
    };
    format!("attribute {}: {change}{}", p.key, cx.by())
}

pub(super) fn custom_attribute(cx: &Ctx, p: &pb::CaseCustomAttributeChanged) -> String {
    let value = |v: &Option<pb::CustomAttributeValue>| {
        v.as_ref()
            .filter(|v| !v.values.is_empty())
            .map(|v| list(&v.values))
    };
    let change = match (value(&p.old), value(&p.new)) {
        (None, Some(new)) => format!("set to {new}"),
        (Some(old), None) => format!("cleared (was {old})"),
        (Some(old), Some(new)) => format!("{old} → {new}"),
        (None, None) => "cleared".into(),
    };
    format!("attribute {} {change}{}", p.key, cx.by())
}

pub(super) fn due_date(cx: &Ctx, p: &pb::CaseDueDateChanged) -> String {
    let day = |d: &Option<String>| d.clone().filter(|d| !d.is_empty());
    let change = match (day(&p.old), day(&p.new)) {
        (None, Some(new)) => format!("due date set to {new}"),
        (Some(old), None) => format!("due date cleared (was {old})"),
        (Some(old), Some(new)) => format!("due date: {old} → {new}"),
        (None, None) => "due date cleared".into(),
    };
    format!("{change}{}", cx.by())
}

pub(super) fn moved(cx: &Ctx, p: &pb::CaseMovedToProject) -> String {
    let either = |key: &str, id: &str| {
        if key.is_empty() {
            format!("project {id}")
        } else {
            key.to_owned()
        }
    };
    format!(
        "moved from {} to {}{}",
        either(&p.old_key, &p.from_project_id),
        either(&p.new_key, &p.to_project_id),
        cx.by()
    )
}

/// `case.archived`, `case.unarchived`.
pub(super) fn archived(cx: &Ctx, archived: bool) -> String {
    let what = if archived { "archived" } else { "unarchived" };
    format!("case {what}{}", cx.by())
}
