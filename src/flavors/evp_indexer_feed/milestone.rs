//! Pure: which events are milestones, and the Events v2 body of each. No IO.
//!
//! The kit guarantees a payload: both read it from the validated [`Event`].

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::event::pb::{CaseSnapshot, Priority, StatusGroup};
use crate::event::{CaseEvent, Event, EventType, Payload, Timestamp};
use crate::flavors::kit::datadog::tag;

/// The event types that can be milestones.
pub const CONSUMED: [EventType; 5] = [
    EventType::CaseCreated,
    EventType::CaseStatusChanged,
    EventType::CasePriorityChanged,
    EventType::CaseAssigned,
    EventType::IncidentDeclaredFromCase,
];

/// The intake keeps events at most 18 h old; ten minutes less, for clocks.
pub const MAX_EVENT_AGE: chrono::Duration = chrono::Duration::minutes(18 * 60 - 10);
/// The intake's limits (Events v2 spec).
const MAX_TITLE: usize = 500;
const MAX_MESSAGE: usize = 4_000;
const MAX_AGGREGATION_KEY: usize = 100;
const MAX_TAGS: usize = 100;

/// A point in a case's life worth an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Milestone {
    /// The case was created.
    Created,
    /// Its status moved to another group, neither into nor out of closed.
    StatusGroupChanged { from: StatusGroup, to: StatusGroup },
    /// It entered the closed group.
    Closed,
    /// It left the closed group.
    Reopened,
    /// Its priority changed.
    PriorityChanged { from: Priority, to: Priority },
    /// It got an assignee.
    Assigned { to: String },
    /// An incident was declared from it.
    EscalatedToIncident {
        incident_id: String,
        severity: String,
    },
}

impl Milestone {
    /// The `milestone` tag and custom attribute.
    pub fn name(&self) -> &'static str {
        match self {
            Milestone::Created => "created",
            Milestone::StatusGroupChanged { .. } => "status_group_changed",
            Milestone::Closed => "closed",
            Milestone::Reopened => "reopened",
            Milestone::PriorityChanged { .. } => "priority_changed",
            Milestone::Assigned { .. } => "assigned",
            Milestone::EscalatedToIncident { .. } => "escalated_to_incident",
        }
    }

    /// What happened, as a phrase after the case key.
    fn phrase(&self) -> String {
        match self {
            Milestone::Created => "created".into(),
            Milestone::StatusGroupChanged { from, to } => {
                format!("moved from {} to {}", group(*from), group(*to))
            }
            Milestone::Closed => "closed".into(),
            Milestone::Reopened => "reopened".into(),
            Milestone::PriorityChanged { from, to } => {
                format!("priority {} → {}", priority(*from), priority(*to))
            }
            Milestone::Assigned { to } => format!("assigned to {to}"),
            Milestone::EscalatedToIncident {
                incident_id,
                severity,
            } => format!("escalated to incident {incident_id} ({severity})"),
        }
    }
}

/// What to do with an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// POST this body.
    Send(Value),
    /// Nothing to send, for this reason.
    Skip(&'static str),
}

/// The milestone an event is, if any.
pub fn milestone(event: &Event) -> Option<Milestone> {
    match event.payload() {
        Payload::CaseCreated(_) => Some(Milestone::Created),
        Payload::CaseStatusChanged(c) => {
            let (from, to) = (c.from_group(), c.to_group());
            match (from == StatusGroup::Closed, to == StatusGroup::Closed) {
                _ if from == to => None,
                (false, true) => Some(Milestone::Closed),
                (true, false) => Some(Milestone::Reopened),
                _ => Some(Milestone::StatusGroupChanged { from, to }),
            }
        }
        Payload::CasePriorityChanged(c) => Some(Milestone::PriorityChanged {
            from: c.from(),
            to: c.to(),
        }),
        Payload::CaseAssigned(c) => Some(Milestone::Assigned { to: c.to.clone() }),
        Payload::IncidentDeclaredFromCase(i) => Some(Milestone::EscalatedToIncident {
            incident_id: i.incident_id.clone(),
            severity: i.severity.clone(),
        }),
        _ => None,
    }
}

/// The request body for `event` at `now`, or why none is sent.
pub fn event_body(event: &Event, extra_tags: &[String], now: DateTime<Utc>) -> Outcome {
    let Some(milestone) = milestone(event) else {
        return Outcome::Skip("no-milestone");
    };
    let occurred = event.occurred_at.and_then(Timestamp::to_datetime);
    if occurred.is_some_and(|at| at < now - MAX_EVENT_AGE) {
        return Outcome::Skip("older-than-intake-window");
    }
    // Every milestone is case-scoped, and a validated case event has a case id.
    let aggregation_key = &event.case_id;
    let case = snapshot(event);
    let prio = current_priority(event, case);
    let name = if event.case_key.is_empty() {
        &event.case_id
    } else {
        &event.case_key
    };
    let mut title = format!("{name} {}", milestone.phrase());
    if let Some(case_title) = case.map(|c| c.title.trim()).filter(|t| !t.is_empty()) {
        title = format!("{title}: {case_title}");
    }
    let attributes = json!({
        "status": alert_status(&milestone, case, prio),
        "priority": alert_priority(prio),
        "custom": custom(event, &milestone, case),
    });
    let mut body = json!({"data": {"type": "event", "attributes": {
        "category": "alert",
        "integration_id": "custom-events",
        "title": cut(&title, MAX_TITLE),
        "message": cut(&message(event, &milestone, case, prio), MAX_MESSAGE),
        "aggregation_key": cut(aggregation_key, MAX_AGGREGATION_KEY),
        "tags": tags(event, &milestone, case, prio, extra_tags),
        "attributes": attributes,
    }}});
    if let Some(at) = occurred {
        body["data"]["attributes"]["timestamp"] =
            at.to_rfc3339_opts(SecondsFormat::Millis, true).into();
    }
    Outcome::Send(body)
}

/// The case as of this event, when the event carries it.
fn snapshot(event: &Event) -> Option<&CaseSnapshot> {
    event.case_after.as_ref().or(match event.payload() {
        Payload::CaseCreated(created) => created.snapshot.as_deref(),
        _ => None,
    })
}

fn current_priority(event: &Event, case: Option<&CaseSnapshot>) -> Priority {
    match (event.payload(), case) {
        (Payload::CasePriorityChanged(c), _) => c.to(),
        (_, Some(case)) => case.priority(),
        _ => Priority::Unspecified,
    }
}

/// closed → ok; an incident, or an open P1/P2 → error; anything else → warn.
fn alert_status(m: &Milestone, case: Option<&CaseSnapshot>, prio: Priority) -> &'static str {
    let closed = case.is_some_and(|c| c.status_group() == StatusGroup::Closed);
    match m {
        Milestone::Closed => "ok",
        _ if closed => "ok",
        Milestone::EscalatedToIncident { .. } => "error",
        _ if matches!(prio, Priority::P1 | Priority::P2) => "error",
        _ => "warn",
    }
}

/// "1".."5"; a case without a priority is "5", the intake's default.
fn alert_priority(prio: Priority) -> &'static str {
    match prio {
        Priority::P1 => "1",
        Priority::P2 => "2",
        Priority::P3 => "3",
        Priority::P4 => "4",
        _ => "5",
    }
}

fn custom(event: &CaseEvent, m: &Milestone, case: Option<&CaseSnapshot>) -> Value {
    let mut out = Map::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() {
            out.insert(k.into(), v.into());
        }
    };
    put("event_id", &event.event_id);
    put("event_type", &event.event_type);
    put("case_id", &event.case_id);
    put("case_key", &event.case_key);
    put("project_key", &event.project_key);
    put("milestone", m.name());
    if let Some(case) = case {
        put("status_name", &case.status_name);
        put(
            "assignee_id",
            case.assignee_id.as_deref().unwrap_or_default(),
        );
    }
    if let Some(actor) = &event.actor {
        put("actor_id", &actor.id);
        put("actor_name", &actor.display_name);
    }
    Value::Object(out)
}

fn message(
    event: &CaseEvent,
    m: &Milestone,
    case: Option<&CaseSnapshot>,
    prio: Priority,
) -> String {
    let mut lines = vec![format!("Case {} {}.", event.case_key, m.phrase())];
    if let Some(case) = case {
        lines.push(format!("Title: {}", case.title.trim()));
        let status = group(case.status_group());
        lines.push(format!("Status: {} ({status})", case.status_name));
        let assignee = case.assignee_id.as_deref().unwrap_or("nobody");
        lines.push(format!("Assignee: {assignee}"));
    }
    lines.push(format!("Priority: {}", priority(prio)));
    if let Some(actor) = event.actor.as_ref().filter(|a| !a.display_name.is_empty()) {
        lines.push(format!("By: {}", actor.display_name));
    }
    lines.join("\n")
}

fn tags(
    event: &CaseEvent,
    m: &Milestone,
    case: Option<&CaseSnapshot>,
    prio: Priority,
    extra: &[String],
) -> Vec<String> {
    let mut out = vec![
        tag("case", &event.case_key),
        tag("case_id", &event.case_id),
        tag("project", &event.project_key),
        tag("priority", &priority_tag(prio)),
        tag("milestone", m.name()),
    ];
    if let Some(case) = case {
        for (attribute, key) in [("teams", "team"), ("services", "service")] {
            let values = case.attributes.get(attribute).map(|l| l.values.as_slice());
            out.extend(values.unwrap_or_default().iter().map(|v| tag(key, v)));
        }
    }
    out.extend(extra.iter().cloned());
    out.retain(|t| !t.is_empty() && !t.ends_with(':'));
    out.dedup();
    out.truncate(MAX_TAGS);
    out
}

/// `P1`..`P5`, or `no priority`.
fn priority(p: Priority) -> String {
    match p {
        Priority::Unspecified | Priority::NotDefined => "no priority".into(),
        p => p.as_str_name().trim_start_matches("PRIORITY_").into(),
    }
}

/// `p1`..`p5`, or `not_defined` (as the evp-indexer tags its documents).
fn priority_tag(p: Priority) -> String {
    match p {
        Priority::Unspecified | Priority::NotDefined => "not_defined".into(),
        p => priority(p).to_lowercase(),
    }
}

fn group(g: StatusGroup) -> String {
    g.as_str_name()
        .trim_start_matches("STATUS_GROUP_")
        .to_lowercase()
        .replace('_', " ")
}

/// At most `max` characters, cut on a character boundary with "…".
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) => {
            let keep: String = text.chars().take(max - 1).collect();
            format!("{keep}…")
        }
    }
}

#[cfg(test)]
#[path = "milestone_tests.rs"]
mod tests;
