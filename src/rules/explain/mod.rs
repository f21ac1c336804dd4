//! `rules explain`: why one rule fired or did not for one event — the
//! trigger test, every query term with its value and truth, the edge state
//! before and after, maintenance windows, and what cannot be judged offline
//! (throttle, feature flags). Pure: the case is the event's `case_after`,
//! `now` its `occurred_at`, and the prior edge state is given (none for a
//! single event: the first observation of the case).

mod case;
mod checks;
mod diff;
mod render;
mod triggers;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::schema::Fire;
use super::{Project, RuleKind, RulesSnapshot};
use crate::event::CaseEvent;
use crate::flavors::kit::edge::{EdgeRow, Observation};
use crate::query::{Query, QueryTrace};

use checks::{edge_check, verdict, windows};

pub use case::explain_case;
pub use diff::{diff, DiffReport, Difference, SEEDING};
pub use triggers::TriggerTest;

/// Why a rule cannot be explained for an event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExplainError {
    /// `--project` names no rules file.
    #[error("no project `{0}` in the rules directory")]
    UnknownProject(String),
    /// No rule has the id (in the project, if one was given).
    #[error("no rule `{id}`{}", in_project(.project))]
    UnknownRule { id: String, project: Option<String> },
    /// Several projects have a rule with the id.
    #[error("rule `{id}` is in several projects ({}): give --project", .projects.join(", "))]
    Ambiguous { id: String, projects: Vec<String> },
    /// The rule's kind does not fire on events.
    #[error("rule `{id}` is a {kind} rule: only notification, automation, escalation and incident rules fire on events")]
    NotExplained { id: String, kind: RuleKind },
    /// The event carries no case to evaluate.
    #[error("event {0} has no case_after: nothing to evaluate")]
    NoCase(String),
    /// No event of the case (up to `--at`) in the events given.
    #[error("no event of case `{0}` in the events given (up to --at)")]
    NoEvents(String),
    /// The event has no usable `occurred_at`.
    #[error("event {0} has no occurred_at: no `now` to evaluate the query at")]
    NoTime(String),
}

fn in_project(p: &Option<String>) -> String {
    p.as_ref()
        .map(|p| format!(" in project {p}"))
        .unwrap_or_default()
}

/// The event explained against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventSummary {
    pub event_id: String,
    pub event_type: String,
    pub case_id: String,
    pub case_key: String,
    /// The case's `aggregate_version`.
    pub case_version: u64,
    /// `now` for the queries.
    pub occurred_at: DateTime<Utc>,
}

/// The trigger test: is the event the change the rule runs on?
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerCheck {
    pub matched: bool,
    /// Each trigger of the rule (none for rules without triggers).
    pub tested: Vec<TriggerTest>,
    /// For rules without triggers: every event of the case is an observation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One query of the rule, evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryCheck {
    /// Its key in the rule (`query`, `condition_query`, `auto_escalation_query`).
    pub name: &'static str,
    #[serde(flatten)]
    pub trace: QueryTrace,
}

/// The rising-edge state of a rule that fires on one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeCheck {
    /// `once_per_case` or `every_rising_edge`.
    pub fire: Fire,
    /// The state before, in words.
    pub before: String,
    /// `rising`, `falling`, `level` or `stale`.
    pub edge: &'static str,
    /// Whether the edge fires the rule.
    pub fires: bool,
    /// The state after, in words.
    pub after: String,
    /// The state after (for replays that carry it on).
    #[serde(skip)]
    pub row: Option<EdgeRow>,
}

/// A product maintenance window of the project at `now`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowCheck {
    pub id: String,
    /// Its schedule covers `now`.
    pub open: bool,
    /// Its query matches the case.
    pub matches: bool,
    /// It holds this kind of rule (notifications; pages with `suppress_paging`).
    pub applies: bool,
    /// Open, matching and applying: the rule is held.
    pub holds_rule: bool,
}

/// What is not evaluated offline, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotEvaluated {
    pub evaluated: bool,
    pub note: &'static str,
}

/// The verdict and its first reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub fired: bool,
    pub reason: String,
}

/// Why one rule fired or not for one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub project: String,
    pub rule: String,
    pub kind: RuleKind,
    pub rule_version: String,
    pub event: EventSummary,
    pub enabled: bool,
    pub trigger: TriggerCheck,
    pub queries: Vec<QueryCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge: Option<EdgeCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle: Option<NotEvaluated>,
    pub maintenance: Vec<WindowCheck>,
    pub flags: NotEvaluated,
    pub verdict: Verdict,
    /// With `--case`: the earlier events of the case the edge state was replayed from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
}

/// Finds `rule_id` (in `project`, or in the one project that has it) and
/// explains it for `event`, with no prior edge state.
pub fn explain(
    rules: &RulesSnapshot,
    project: Option<&str>,
    rule_id: &str,
    event: &CaseEvent,
) -> Result<Explanation, ExplainError> {
    let project = find(rules, project, rule_id, event)?;
    explain_in(project, rule_id, event, None)
}

/// The project to look for `rule_id` in.
pub(super) fn find<'a>(
    rules: &'a RulesSnapshot,
    project: Option<&str>,
    rule_id: &str,
    event: &CaseEvent,
) -> Result<&'a Project, ExplainError> {
    if let Some(key) = project {
        return rules
            .project(key)
            .ok_or_else(|| ExplainError::UnknownProject(key.to_owned()));
    }
    let having: Vec<&Project> = rules
        .projects()
        .filter(|p| p.entries.iter().any(|e| e.id == rule_id))
        .collect();
    match having.as_slice() {
        [] => Err(ExplainError::UnknownRule {
            id: rule_id.to_owned(),
            project: None,
        }),
        [one] => Ok(one),
        many => many
            .iter()
            .find(|p| p.key == event.project_key)
            .copied()
            .ok_or_else(|| ExplainError::Ambiguous {
                id: rule_id.to_owned(),
                projects: many.iter().map(|p| p.key.clone()).collect(),
            }),
    }
}

/// Explains `rule_id` of `project` for `event`, from the edge state `prior`
/// (`None`: the first observation of the case).
pub fn explain_in(
    project: &Project,
    rule_id: &str,
    event: &CaseEvent,
    prior: Option<&EdgeRow>,
) -> Result<Explanation, ExplainError> {
    let entry = (project.entries.iter())
        .find(|e| e.id == rule_id)
        .ok_or_else(|| ExplainError::UnknownRule {
            id: rule_id.to_owned(),
            project: Some(project.key.clone()),
        })?;
    let case =
        (event.case_after.as_ref()).ok_or_else(|| ExplainError::NoCase(event.event_id.clone()))?;
    let now = (event.occurred_at)
        .and_then(|t| t.to_datetime())
        .ok_or_else(|| ExplainError::NoTime(event.event_id.clone()))?;
    let rules = &project.rules;
    let eval = |name, q: &Query| QueryCheck {
        name,
        trace: q.explain(case, now),
    };
    let every_event = || TriggerCheck {
        matched: true,
        tested: Vec::new(),
        note: Some("no triggers: every event of the case is an observation of the query".into()),
    };
    let (trigger, queries, fire, throttle) = match entry.kind {
        RuleKind::Notification => {
            let r = (rules.notification_rules.iter()).find(|r| r.id == rule_id);
            let Some(r) = r else {
                return Err(not_explained(entry));
            };
            let tested: Vec<_> = r
                .triggers
                .iter()
                .map(|t| triggers::notification(t, event))
                .collect();
            let trigger = TriggerCheck {
                matched: tested.iter().any(|t| t.matched),
                tested,
                note: None,
            };
            let throttle = r.throttle.map(|_| NotEvaluated {
                evaluated: false,
                note: "throttle needs the live store (the rule's last notification of the case): not evaluated offline",
            });
            (
                trigger,
                vec![eval("query", r.query.query())],
                None,
                throttle,
            )
        }
        RuleKind::Automation => {
            let r = (rules.automation_rules.iter()).find(|r| r.id == rule_id);
            let Some(r) = r else {
                return Err(not_explained(entry));
            };
            let test = triggers::automation(&r.trigger, event);
            let trigger = TriggerCheck {
                matched: test.matched,
                tested: vec![test],
                note: None,
            };
            let condition = r.condition_query.as_ref();
            let queries = condition
                .map(|c| eval("condition_query", c.query()))
                .into_iter()
                .collect();
            (trigger, queries, condition.map(|_| r.fire), None)
        }
        RuleKind::Escalation => {
            let r = (rules.escalation_queries.iter()).find(|r| r.id == rule_id);
            let Some(r) = r else {
                return Err(not_explained(entry));
            };
            (
                every_event(),
                vec![eval("query", r.query.query())],
                Some(r.fire),
                None,
            )
        }
        RuleKind::Incident => {
            let Some(r) = rules.incident_escalation.as_ref() else {
                return Err(not_explained(entry));
            };
            let q = eval("auto_escalation_query", r.auto_escalation_query.query());
            (every_event(), vec![q], Some(r.fire), None)
        }
        _ => return Err(not_explained(entry)),
    };
    let matched = queries.iter().all(|q| q.trace.holds);
    let edge = fire.map(|fire| {
        let obs = Observation {
            rule_id,
            rule_version: &entry.version,
            case_id: &event.case_id,
            case_version: i64::try_from(event.aggregate_version).unwrap_or(i64::MAX),
            matched,
            closed_at: case.closed_at.map(|_| now.timestamp_millis()),
            fire,
        };
        edge_check(prior, &obs)
    });
    let maintenance = windows(&rules.maintenance_windows, entry.kind, case, now);
    let enabled = entry.enabled;
    let mut x = Explanation {
        project: project.key.clone(),
        rule: rule_id.to_owned(),
        kind: entry.kind,
        rule_version: entry.version.clone(),
        event: EventSummary {
            event_id: event.event_id.clone(),
            event_type: event.event_type.clone(),
            case_id: event.case_id.clone(),
            case_key: event.case_key.clone(),
            case_version: event.aggregate_version,
            occurred_at: now,
        },
        enabled,
        trigger,
        queries,
        edge,
        throttle,
        maintenance,
        flags: NotEvaluated {
            evaluated: false,
            note: "feature flags are the running service's configuration: not evaluated offline",
        },
        verdict: Verdict {
            fired: false,
            reason: String::new(),
        },
        history: None,
    };
    x.verdict = verdict(&x);
    Ok(x)
}

fn not_explained(entry: &super::RuleEntry) -> ExplainError {
    ExplainError::NotExplained {
        id: entry.id.clone(),
        kind: entry.kind,
    }
}

#[cfg(test)]
mod tests;
