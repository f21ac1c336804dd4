//! Why a query holds or not for one case: every term with the values it saw
//! and its truth, and how `AND`/`OR`/`NOT` combined them ([`Query::explain`]).
//! Pure, like [`Query::matches`], and always agrees with it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ast::Expr;
use super::eval::{eval_term, seen};
use super::lexer::Ctx;
use super::print::write_pattern;
use super::Query;
use crate::event::CaseSnapshot;

/// The evaluation of a whole query against one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryTrace {
    /// The query in canonical form (empty: matches every case).
    pub query: String,
    /// Whether it holds.
    pub holds: bool,
    /// The evaluation tree; `None` for the empty query.
    pub root: Option<Trace>,
}

/// One node of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Trace {
    /// All parts must hold.
    And {
        /// Whether it holds.
        holds: bool,
        /// The parts, in query order.
        parts: Vec<Trace>,
    },
    /// Some part must hold.
    Or {
        /// Whether it holds.
        holds: bool,
        /// The parts, in query order.
        parts: Vec<Trace>,
    },
    /// The negation of its part.
    Not {
        /// Whether it holds.
        holds: bool,
        /// The negated part.
        part: Box<Trace>,
    },
    /// `field:rhs`.
    Term {
        /// Whether it holds.
        holds: bool,
        /// The term in canonical form (`priority:(P1 OR P2)`).
        term: String,
        /// The field's name.
        field: String,
        /// The case's values of the field the term saw (empty: none).
        seen: Vec<String>,
    },
    /// Free text, tested against the title.
    Text {
        /// Whether it holds.
        holds: bool,
        /// The text as written.
        term: String,
        /// The title it was looked for in.
        seen: Vec<String>,
    },
}

impl Trace {
    /// Whether this node holds.
    pub fn holds(&self) -> bool {
        match self {
            Self::And { holds, .. }
            | Self::Or { holds, .. }
            | Self::Not { holds, .. }
            | Self::Term { holds, .. }
            | Self::Text { holds, .. } => *holds,
        }
    }

    fn of(e: &Expr, case: &CaseSnapshot, now: DateTime<Utc>) -> Self {
        let all = |xs: &[Expr]| {
            xs.iter()
                .map(|x| Self::of(x, case, now))
                .collect::<Vec<_>>()
        };
        match e {
            Expr::And(xs) => {
                let parts = all(xs);
                let holds = parts.iter().all(Self::holds);
                Self::And { holds, parts }
            }
            Expr::Or(xs) => {
                let parts = all(xs);
                let holds = parts.iter().any(Self::holds);
                Self::Or { holds, parts }
            }
            Expr::Not(x) => {
                let part = Box::new(Self::of(x, case, now));
                Self::Not {
                    holds: !part.holds(),
                    part,
                }
            }
            Expr::Text(p) => {
                let mut term = String::new();
                // Writing to a String cannot fail.
                let _ = write_pattern(&mut term, p, Ctx::Term);
                Self::Text {
                    holds: p.occurs_in(&case.title),
                    term,
                    seen: vec![case.title.clone()],
                }
            }
            Expr::Term(t) => Self::Term {
                holds: eval_term(t, case, now),
                term: t.to_string(),
                field: t.field.name(),
                seen: seen(&t.field, case),
            },
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        let truth = |h: bool| if h { "true " } else { "false" };
        match self {
            Self::And { holds, parts } | Self::Or { holds, parts } => {
                let how = if matches!(self, Self::And { .. }) {
                    "all of (AND)"
                } else {
                    "any of (OR)"
                };
                writeln!(f, "{pad}{} {how}", truth(*holds))?;
                parts.iter().try_for_each(|p| p.write(f, depth + 1))
            }
            Self::Not { holds, part } => {
                writeln!(f, "{pad}{} NOT", truth(*holds))?;
                part.write(f, depth + 1)
            }
            Self::Term {
                holds,
                term,
                field,
                seen,
            } => writeln!(f, "{pad}{} {term}    ({})", truth(*holds), saw(field, seen)),
            Self::Text { holds, term, seen } => {
                writeln!(
                    f,
                    "{pad}{} {term}    ({})",
                    truth(*holds),
                    saw("title", seen)
                )
            }
        }
    }
}

/// `priority is P1`, `teams is a, b`, `assignee has no value`.
pub(crate) fn saw(field: &str, seen: &[String]) -> String {
    if seen.is_empty() {
        format!("{field} has no value")
    } else {
        format!("{field} is {}", seen.join(", "))
    }
}

impl Query {
    /// Why the query holds or not for `case` at `now`: every term with the
    /// values it saw. `holds` always equals [`Query::matches`].
    pub fn explain(&self, case: &CaseSnapshot, now: DateTime<Utc>) -> QueryTrace {
        let root = self.expr().map(|e| Trace::of(e, case, now));
        QueryTrace {
            query: self.to_string(),
            holds: root.as_ref().is_none_or(Trace::holds),
            root,
        }
    }
}

impl fmt::Display for QueryTrace {
    /// Indented, one line per node: truth, then the term and what it saw.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.root {
            None => writeln!(f, "true  (empty query: matches every case)"),
            Some(root) => root.write(f, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::pb::{Priority, StatusGroup};

    fn case() -> CaseSnapshot {
        let mut c = CaseSnapshot {
            key: "SEC-1".into(),
            title: "Phishing report".into(),
            status_name: "Open".into(),
            ..Default::default()
        };
        c.set_priority(Priority::P1);
        c.set_status_group(StatusGroup::Open);
        c
    }

    fn now() -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH
    }

    #[test]
    fn every_term_shows_its_values_and_truth() {
        let q = Query::parse("priority:(P1 OR P2) -status:closed team:payments").unwrap();
        let t = q.explain(&case(), now());
        assert!(!t.holds);
        assert_eq!(t.holds, q.matches(&case(), now()));
        let Some(Trace::And {
            holds: false,
            parts,
        }) = &t.root
        else {
            panic!("{t:?}");
        };
        assert_eq!(
            parts[0],
            Trace::Term {
                holds: true,
                term: "priority:(P1 OR P2)".into(),
                field: "priority".into(),
                seen: vec!["P1".into()],
            }
        );
        assert!(matches!(&parts[1], Trace::Not { holds: true, .. }));
        assert_eq!(
            parts[2],
            Trace::Term {
                holds: false,
                term: "team:payments".into(),
                field: "team".into(),
                seen: vec![],
            }
        );
        let words = t.to_string();
        assert!(words.starts_with("false all of (AND)\n"), "{words}");
        assert!(
            words.contains("  true  priority:(P1 OR P2)    (priority is P1)"),
            "{words}"
        );
        assert!(
            words.contains("    false status:closed    (status is Open, open, SG_OPEN)"),
            "{words}"
        );
        assert!(
            words.contains("  false team:payments    (team has no value)"),
            "{words}"
        );
    }

    #[test]
    fn or_free_text_and_the_empty_query() {
        let q = Query::parse("phishing OR priority:P5").unwrap();
        let t = q.explain(&case(), now());
        assert!(t.holds);
        let Some(Trace::Or { parts, .. }) = &t.root else {
            panic!("{t:?}");
        };
        assert!(matches!(&parts[0], Trace::Text { holds: true, .. }));
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["root"]["op"], "or");
        assert_eq!(json["root"]["parts"][1]["seen"][0], "P1");
        let empty = Query::default().explain(&case(), now());
        assert!(empty.holds && empty.root.is_none());
        assert!(empty.to_string().contains("empty query"));
    }
}
