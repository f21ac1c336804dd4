//! `rules explain` in words.

use std::fmt;

use super::Explanation;

pub(super) use crate::query::explain::saw;

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.event;
        let fired = if self.verdict.fired {
            "FIRED"
        } else {
            "NOT FIRED"
        };
        writeln!(
            f,
            "rule {}/{} ({} rule, version {})",
            self.project, self.rule, self.kind, self.rule_version
        )?;
        writeln!(
            f,
            "event {} {} on case {} ({}) version {} at {}",
            e.event_id,
            e.event_type,
            e.case_key,
            e.case_id,
            e.case_version,
            e.occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        )?;
        writeln!(f, "verdict: {fired}: {}", self.verdict.reason)?;
        writeln!(f)?;
        writeln!(f, "enabled: {}", yes(self.enabled))?;
        writeln!(
            f,
            "trigger: {}",
            if self.trigger.matched {
                "matched"
            } else {
                "not matched"
            }
        )?;
        for t in &self.trigger.tested {
            writeln!(
                f,
                "  {} {}",
                if t.matched { "match   " } else { "no match" },
                t.trigger
            )?;
        }
        if let Some(note) = &self.trigger.note {
            writeln!(f, "  {note}")?;
        }
        for q in &self.queries {
            let text = if q.trace.query.is_empty() {
                "(empty)"
            } else {
                &q.trace.query
            };
            writeln!(f, "{}: {text} -> {}", q.name, q.trace.holds)?;
            for line in q.trace.to_string().lines() {
                writeln!(f, "  {line}")?;
            }
        }
        if let Some(edge) = &self.edge {
            let fire = serde_json::to_value(edge.fire).ok();
            let fire = fire.as_ref().and_then(|v| v.as_str()).unwrap_or_default();
            writeln!(
                f,
                "edge ({fire}): {}, fires: {}",
                edge.edge,
                yes(edge.fires)
            )?;
            writeln!(f, "  before: {}", edge.before)?;
            writeln!(f, "  after:  {}", edge.after)?;
            if let Some(history) = &self.history {
                writeln!(f, "  {history}")?;
            }
        }
        match &self.throttle {
            Some(t) => writeln!(f, "throttle: {}", t.note)?,
            None => writeln!(f, "throttle: none")?,
        }
        if self.maintenance.is_empty() {
            writeln!(f, "maintenance: no windows in the project")?;
        } else {
            writeln!(f, "maintenance:")?;
        }
        for w in &self.maintenance {
            writeln!(
                f,
                "  {}: open {}, matches the case {}, applies to {} rules {}{}",
                w.id,
                yes(w.open),
                yes(w.matches),
                self.kind,
                yes(w.applies),
                if w.holds_rule {
                    " -> holds the rule"
                } else {
                    ""
                }
            )?;
        }
        writeln!(f, "flags: {}", self.flags.note)
    }
}
