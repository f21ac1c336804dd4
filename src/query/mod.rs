//! CQ, the case query language (domain.md §C.2–C.3): one syntax for views,
//! notification rules, paging escalation, incident auto-escalation and
//! maintenance windows. A [`Query`] is compiled once (at config load) and
//! evaluated per event against the event's `case_after` snapshot.
//!
//! # Syntax
//!
//! ```text
//! status:open priority:>=P2 -service:sandbox-*
//! priority:(P1 OR P2) team:payments
//! "database timeout" assignee:none
//! custom.business_impact:>=3 OR creation_source:"Event Management"
//! team:* NOT (status:closed OR archived:true)
//! created_at:[now-7d TO now] due_date:<now
//! ```
//!
//! - Terms are `field:value`, `field:(a OR b AND c)`, `field:>=v` (also `>`,
//!   `<`, `<=`), `field:[a TO b]` or `field:*`; a bare word or `"phrase"` is
//!   free text. Juxtaposition means `AND`; precedence is `NOT`/`-` over
//!   `AND` over `OR`; parentheses group. Keywords are upper-case only
//!   (`and` is free text). An empty query matches every case.
//! - `\` makes the next character literal (`title:a\ b`, `\-x`, `\AND`);
//!   inside quotes it escapes `"` and `\`. Unescaped `*` and `?` in a bare
//!   value are wildcards; quoted values are always literal.
//! - Limits: [`MAX_QUERY_BYTES`] bytes (for the text and for its canonical
//!   form), [`MAX_DEPTH`] levels of groups and negations, [`MAX_TERMS`]
//!   terms (each value of a list counts).
//! - `field:(…)` lists hold values joined by explicit `OR`/`AND` (AND binds
//!   tighter); `*` and `assignee:none` may only stand alone in them.
//!
//! # Semantics
//!
//! - Built-in fields: `status` (status name, or group `open`,
//!   `in_progress`, `closed`), `priority` (`P1`…`P5`, `NOT_DEFINED`),
//!   `assignee` (user id), `project` (project id or key, `SEC` of `SEC-42`),
//!   `type` (type id or built-in type name: `security`, `"Change Request"`,
//!   `change_request`), `key`, `title` (whole title), `created_at`,
//!   `modified_at`, `closed_at`, `due_date`, `archived` (`true`/`false`).
//!   These match case-insensitively. Field names are case-sensitive, and a
//!   built-in name in other capitals (`Status:`) is rejected.
//! - Aliases: `team`, `service`, `env`, `datacenter`, `version` read the
//!   attributes `teams`, `services`, `environments`, `datacenters`,
//!   `versions`. `custom.<key>` reads a custom attribute; any other name
//!   reads `attributes[name]`. Attribute values match case-sensitively.
//! - Several values: `f:v` holds if any value matches; `-f:v` if none does.
//!   A missing (or empty) field matches no value and no comparison;
//!   `f:*` holds iff the field has a value, `assignee:none` means
//!   `-assignee:*`. `priority:*` means "priority is defined"; `archived:*`
//!   always holds.
//! - Globs are anchored (`sandbox-*` is a prefix match); free text is a
//!   case-insensitive substring (or unanchored glob) of the title.
//! - Ordering: priority by urgency (`priority:>=P2` is P1 or P2;
//!   `NOT_DEFINED` fails every comparison); numbers on NUMBER custom
//!   attributes; times on the time fields, written `YYYY-MM-DD`, RFC 3339,
//!   or `now`/`now-<n>{m,h,d}`/`now+<n>{m,h,d}` relative to the `now` given
//!   to [`Query::matches`]. Against a `YYYY-MM-DD` value (or for
//!   `due_date`), times compare by UTC calendar day. Ranges are inclusive
//!   and accept their bounds in either order; `*` leaves a side open
//!   (except for priority, where "open" would be ambiguous). Other fields,
//!   and relative times or globs where equality is asked, are rejected when
//!   the query is parsed.

mod ast;
mod error;
mod eval;
pub(crate) mod explain;
mod fields;
mod glob;
mod lexer;
mod parser;
mod print;
mod values;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

pub use ast::{Bound, CmpOp, Expr, Field, GlobPart, Pattern, Rhs, Term, Value};
pub use error::{QueryError, QueryErrorKind};
pub use explain::{QueryTrace, Trace};
pub use values::{TimeUnit, TimeValue};

use crate::event::CaseSnapshot;

/// Longest accepted query text, in bytes.
pub const MAX_QUERY_BYTES: usize = 2048;
/// Deepest accepted nesting of groups and negations.
pub const MAX_DEPTH: usize = 32;
/// Most terms (field terms, free-text terms and list values) in one query.
pub const MAX_TERMS: usize = 256;

/// A compiled CQ query. Parse with [`Query::parse`] (or `str::parse`, or
/// serde from a string); `Display` prints the canonical form, which parses
/// back to an equal query. The default query is empty and matches every case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    expr: Option<Expr>,
}

impl Query {
    /// Compiles `text`, rejecting syntax errors, exceeded limits, unknown
    /// spellings of built-in fields, comparisons on fields without an order
    /// and values a built-in field cannot hold.
    ///
    /// The length limit applies to the text and to its canonical form
    /// (`Display`), so that the canonical form of a valid query is valid.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        if text.len() > MAX_QUERY_BYTES {
            let position = text
                .char_indices()
                .take_while(|&(i, _)| i < MAX_QUERY_BYTES)
                .count();
            let kind = QueryErrorKind::TooLong {
                len: text.len(),
                max: MAX_QUERY_BYTES,
            };
            return Err(QueryError::new(position, kind));
        }
        let query = Self {
            expr: parser::parse(lexer::tokenize(text)?)?,
        };
        let canonical = query.to_string().len();
        if canonical > MAX_QUERY_BYTES {
            let kind = QueryErrorKind::CanonicalTooLong {
                len: canonical,
                max: MAX_QUERY_BYTES,
            };
            return Err(QueryError::new(text.chars().count(), kind));
        }
        Ok(query)
    }

    /// Whether `case` matches, with relative times (`now-1d`) taken from
    /// `now` — pass the event's `occurred_at` so that replays agree.
    pub fn matches(&self, case: &CaseSnapshot, now: DateTime<Utc>) -> bool {
        self.expr.as_ref().is_none_or(|e| eval::eval(e, case, now))
    }

    /// The syntax tree; `None` for the empty query.
    pub fn expr(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }

    /// Whether this is the empty query (matches every case).
    pub fn is_empty(&self) -> bool {
        self.expr.is_none()
    }
}

impl From<Expr> for Query {
    fn from(expr: Expr) -> Self {
        Self { expr: Some(expr) }
    }
}

impl FromStr for Query {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Query {
    /// The canonical form: `-` for `NOT`, juxtaposition for `AND`,
    /// parentheses only where needed, aliases (`team`) for the reserved
    /// attributes, values quoted when that saves escapes, typed values
    /// normalised (`P1`, `true`, `2024-05-01T08:00:00Z`, `3`). It parses back
    /// to an equal query ([`Query::parse`] checks it fits the length limit).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expr {
            Some(e) => ast::write_expr(f, e),
            None => Ok(()),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Query {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Query {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
