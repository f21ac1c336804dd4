//! `rules explain RULE --case ID (--events FILE | --topic T --from-time …)
//! [--at TIME]`: the newest event of a case (up to a time; its `case_after`
//! is what the query sees) explained with the edge state replayed from the
//! case's earlier events in the range read — seeded, as in `rules diff`, by
//! its first event there; never read from the live table.

use chrono::{DateTime, Utc};

use super::diff::seed_row;
use super::{explain_in, find, ExplainError, Explanation};
use crate::event::CaseEvent;
use crate::rules::RulesSnapshot;

/// Explains `rule_id` for the newest event of `case_id` in `events` (in
/// their order: a file's, or a topic's per partition) that occurred at or
/// before `at`.
pub fn explain_case(
    rules: &RulesSnapshot,
    project: Option<&str>,
    rule_id: &str,
    case_id: &str,
    at: Option<DateTime<Utc>>,
    events: &[CaseEvent],
) -> Result<Explanation, ExplainError> {
    let before_at = |e: &&CaseEvent| {
        at.is_none_or(|at| {
            (e.occurred_at)
                .and_then(|t| t.to_datetime())
                .is_some_and(|t| t <= at)
        })
    };
    let history: Vec<&CaseEvent> = (events.iter())
        .filter(|e| e.case_id == case_id)
        .filter(before_at)
        .collect();
    let Some((last, earlier)) = history.split_last() else {
        return Err(ExplainError::NoEvents(case_id.to_owned()));
    };
    let project = find(rules, project, rule_id, last)?;
    let mut state = None;
    for (i, ev) in earlier.iter().enumerate() {
        let x = explain_in(project, rule_id, ev, state.as_ref())?;
        state = x
            .edge
            .and_then(|e| e.row)
            .map(|row| seed_row(row, i == 0, ev));
    }
    let mut x = explain_in(project, rule_id, last, state.as_ref())?;
    if !earlier.is_empty() {
        x.history = Some(format!(
            "edge state replayed from the case's {} earlier event(s) in the range, seeded by its first \
             (which sets the state and fires nothing unless it is version 1); never read from the live table",
            earlier.len()
        ));
    }
    Ok(x)
}
