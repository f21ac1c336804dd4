//! `rules diff`: what a rule change would have done — every rule of two
//! rule sets evaluated over the same events in order (a dry run, nothing
//! sent), and the firings that differ.
//!
//! Edge state per (rule, case) starts from nothing and is carried from event
//! to event; it is seeded by each case's first event in the range: that
//! event sets the state and fires nothing, since what happened before the
//! range is unknown — unless it is the case's version 1 (nothing came
//! before it). It is never read from the live table.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::{explain_in, Verdict};
use crate::event::CaseEvent;
use crate::flavors::kit::edge::EdgeRow;
use crate::rules::{RuleKind, RulesSnapshot};

/// How the edge state of the replay is seeded, for the output.
pub const SEEDING: &str = "edge state per (rule, case) is seeded by each case's first event in the range: \
that event sets the state and fires nothing (unless it is the case's version 1); never read from the live table";

/// One rule's verdict on one event.
type Verdicts = BTreeMap<(usize, String, String), Verdict>;

/// A firing one rule set makes and the other does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub project: String,
    pub rule: String,
    pub case_key: String,
    pub case_id: String,
    pub event_id: String,
    pub event_type: String,
    /// Whether the rule fired under the current rules.
    pub old: bool,
    /// Whether it fired under the new rules.
    pub new: bool,
    /// The first reason of the side that did not fire (or where the rule is absent).
    pub reason: String,
}

/// The differences over a range of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    pub events: usize,
    pub cases: usize,
    pub seeding: &'static str,
    pub differences: Vec<Difference>,
}

/// Replays `events` in order under `old` and `new` and lists the firings
/// that differ, in event order.
pub fn diff(old: &RulesSnapshot, new: &RulesSnapshot, events: &[CaseEvent]) -> DiffReport {
    let (before, after) = (replay(old, events), replay(new, events));
    let keys: std::collections::BTreeSet<_> = before.keys().chain(after.keys()).collect();
    let absent = |side: &str| Verdict {
        fired: false,
        reason: format!("no such rule in the {side} rules"),
    };
    let mut differences = Vec::new();
    for key in keys {
        let o = before
            .get(key)
            .cloned()
            .unwrap_or_else(|| absent("current"));
        let n = after.get(key).cloned().unwrap_or_else(|| absent("new"));
        if o.fired == n.fired {
            continue;
        }
        let (index, project, rule) = key;
        let Some(ev) = events.get(*index) else {
            continue;
        };
        differences.push(Difference {
            project: project.clone(),
            rule: rule.clone(),
            case_key: ev.case_key.clone(),
            case_id: ev.case_id.clone(),
            event_id: ev.event_id.clone(),
            event_type: ev.event_type.clone(),
            old: o.fired,
            new: n.fired,
            reason: if o.fired { n.reason } else { o.reason },
        });
    }
    let cases: HashSet<&str> = events.iter().map(|e| e.case_id.as_str()).collect();
    DiffReport {
        events: events.len(),
        cases: cases.len(),
        seeding: SEEDING,
        differences,
    }
}

/// Every rule's verdict on every event of its project, by (event index,
/// project, rule).
fn replay(rules: &RulesSnapshot, events: &[CaseEvent]) -> Verdicts {
    let mut state: HashMap<(String, String, String), EdgeRow> = HashMap::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut verdicts = Verdicts::new();
    for (i, ev) in events.iter().enumerate() {
        let first = seen.insert(ev.case_id.as_str());
        let Some(project) = rules.project(&ev.project_key) else {
            continue;
        };
        for entry in project.entries.iter().filter(|e| fires_on_events(e.kind)) {
            let key = (project.key.clone(), entry.id.clone(), ev.case_id.clone());
            let Ok(x) = explain_in(project, &entry.id, ev, state.get(&key)) else {
                continue;
            };
            let mut verdict = x.verdict;
            if let Some(row) = x.edge.and_then(|e| e.row) {
                if let Some(seeded) = seed(first, ev) {
                    verdict = seeded;
                }
                state.insert(key, seed_row(row, first, ev));
            }
            verdicts.insert((i, project.key.clone(), entry.id.clone()), verdict);
        }
    }
    verdicts
}

fn fires_on_events(kind: RuleKind) -> bool {
    matches!(
        kind,
        RuleKind::Notification | RuleKind::Automation | RuleKind::Escalation | RuleKind::Incident
    )
}

/// Whether `ev`, a case's `first` event in the range, only seeds the edge
/// state: then the verdict it gets instead of its own.
pub(super) fn seed(first: bool, ev: &CaseEvent) -> Option<Verdict> {
    (first && ev.aggregate_version > 1).then(|| Verdict {
        fired: false,
        reason: "seed: the case's first event in the range sets the edge state".into(),
    })
}

/// The row a case's `first` event leaves: when it seeds, the state before
/// the range is unknown, and a case that matches is taken as already fired.
pub(super) fn seed_row(mut row: EdgeRow, first: bool, ev: &CaseEvent) -> EdgeRow {
    if first && ev.aggregate_version > 1 {
        row.fired = i64::from(row.matched);
    }
    row
}
