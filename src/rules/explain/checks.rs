//! The checks of an explanation that are not the trigger or the query: the
//! edge, the maintenance windows, and the verdict with its first reason.

use chrono::{DateTime, Utc};

use super::{render, EdgeCheck, Explanation, Verdict, WindowCheck};
use crate::event::CaseSnapshot;
use crate::flavors::kit::edge::{decide, Edge, EdgeRow, Observation};
use crate::query::Trace;
use crate::rules::schema::ProductWindow;
use crate::rules::RuleKind;

/// `decide` from `prior`, in words.
pub(super) fn edge_check(prior: Option<&EdgeRow>, obs: &Observation<'_>) -> EdgeCheck {
    let before = match prior {
        None => "no prior state: the first observation of this case".to_owned(),
        Some(r) => state(r),
    };
    let (edge, row) = decide(prior, obs);
    let name = match edge {
        Edge::Rising { .. } => "rising",
        Edge::Falling => "falling",
        Edge::Level { .. } => "level",
        Edge::Stale => "stale",
    };
    EdgeCheck {
        fire: obs.fire,
        before,
        edge: name,
        fires: edge.fires(),
        after: row
            .as_ref()
            .map_or_else(|| "unchanged (stale observation)".to_owned(), state),
        row,
    }
}

fn state(r: &EdgeRow) -> String {
    let m = if r.matched { "matched" } else { "not matched" };
    format!(
        "{m} at case version {}, fired {} time(s)",
        r.case_version, r.fired
    )
}

/// The project's windows at `now` for a rule of `kind`.
pub(super) fn windows(
    ws: &[ProductWindow],
    kind: RuleKind,
    case: &CaseSnapshot,
    now: DateTime<Utc>,
) -> Vec<WindowCheck> {
    ws.iter()
        .map(|w| {
            let open = w.is_open(now);
            let matches = w.query.query().matches(case, now);
            let applies = match kind {
                RuleKind::Notification => true,
                RuleKind::Escalation => w.suppress_paging,
                _ => false,
            };
            WindowCheck {
                id: w.id.clone(),
                open,
                matches,
                applies,
                holds_rule: open && matches && applies,
            }
        })
        .collect()
}

/// Fired or not, with the first reason.
pub(super) fn verdict(x: &Explanation) -> Verdict {
    let no = |reason: String| Verdict {
        fired: false,
        reason,
    };
    if !x.enabled {
        return no("the rule is disabled".into());
    }
    if !x.trigger.matched {
        return no(format!(
            "no trigger matches a `{}` event",
            x.event.event_type
        ));
    }
    if let Some(q) = x.queries.iter().find(|q| !q.trace.holds) {
        let why = q.trace.root.as_ref().map(culprit).unwrap_or_default();
        return no(format!("{} does not match the case: {why}", q.name));
    }
    if let Some(e) = x.edge.as_ref().filter(|e| !e.fires) {
        return no(match e.edge {
            "rising" => {
                "rising edge, but the rule already fired for this case (once_per_case)".into()
            }
            "stale" => "stale observation: not newer than the stored case version".into(),
            _ => format!(
                "no rising edge ({}): the query already matched before",
                e.edge
            ),
        });
    }
    if let Some(w) = x.maintenance.iter().find(|w| w.holds_rule) {
        return no(format!("held by maintenance window `{}`", w.id));
    }
    let mut reason = String::from("trigger matched");
    for q in &x.queries {
        reason.push_str(&format!(", {} matched", q.name));
    }
    if x.edge.is_some() {
        reason.push_str(", rising edge");
    }
    reason.push_str(", no maintenance window holds it");
    if x.throttle.is_some() {
        reason.push_str(" (throttle not evaluated offline)");
    }
    Verdict {
        fired: true,
        reason,
    }
}

/// The first term that makes a false node false, in words.
fn culprit(t: &Trace) -> String {
    match t {
        Trace::And { parts, .. } | Trace::Or { parts, .. } => parts
            .iter()
            .find(|p| !p.holds())
            .map(culprit)
            .unwrap_or_default(),
        Trace::Not { part, .. } => match &**part {
            Trace::Term {
                term, field, seen, ..
            } => format!("-{term} is false ({})", render::saw(field, seen)),
            _ => "a NOT group is false".into(),
        },
        Trace::Term {
            term, field, seen, ..
        } => format!("{term} is false ({})", render::saw(field, seen)),
        Trace::Text { term, seen, .. } => {
            format!("{term} is false ({})", render::saw("title", seen))
        }
    }
}
