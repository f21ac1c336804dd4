//! The syntax tree of a compiled query. Fields are resolved (aliases folded)
//! and values typed per field, so evaluation does no parsing. `Display`
//! prints the canonical form, which re-parses to an equal tree.

use std::fmt;

use super::lexer::Ctx;
use super::print::write_pattern;
use super::values::{fmt_number, priority_name, TimeValue};
use crate::event::pb::Priority;

/// A boolean combination of terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All of (at least two) sub-expressions.
    And(Vec<Expr>),
    /// Any of (at least two) sub-expressions.
    Or(Vec<Expr>),
    /// `NOT x` / `-x`.
    Not(Box<Expr>),
    /// Free text: a case-insensitive substring (or glob) of the title.
    Text(Pattern),
    /// `field:rhs`.
    Term(Term),
}

/// One `field:rhs` test.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The field tested.
    pub field: Field,
    /// What it is tested against.
    pub rhs: Rhs,
}

/// A field of the case, after alias resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// `status`: status name or group.
    Status,
    /// `priority`.
    Priority,
    /// `assignee`: assignee user id.
    Assignee,
    /// `project`: project id or project key (`SEC` of `SEC-42`).
    Project,
    /// `type`: case type id or built-in type name.
    Type,
    /// `key`: case key (`SEC-42`).
    Key,
    /// `title` (whole title; free text matches substrings).
    Title,
    /// `created_at`.
    CreatedAt,
    /// `modified_at`.
    ModifiedAt,
    /// `closed_at`.
    ClosedAt,
    /// `due_date` (a calendar day).
    DueDate,
    /// `archived`: `true` iff `archived_at` is set.
    Archived,
    /// `custom.<key>`: a typed custom attribute.
    Custom(String),
    /// Any other name: `attributes[name]` (aliases already folded, so
    /// `team` is `Attribute("teams")`).
    Attribute(String),
}

/// Built-in field names, in the order of [`Field`].
pub(crate) const BUILTINS: [(&str, Field); 12] = [
    ("status", Field::Status),
    ("priority", Field::Priority),
    ("assignee", Field::Assignee),
    ("project", Field::Project),
    ("type", Field::Type),
    ("key", Field::Key),
    ("title", Field::Title),
    ("created_at", Field::CreatedAt),
    ("modified_at", Field::ModifiedAt),
    ("closed_at", Field::ClosedAt),
    ("due_date", Field::DueDate),
    ("archived", Field::Archived),
];

/// Field aliases: (written, attribute key). The short name is canonical.
pub(crate) const ALIASES: [(&str, &str); 5] = [
    ("team", "teams"),
    ("service", "services"),
    ("env", "environments"),
    ("datacenter", "datacenters"),
    ("version", "versions"),
];

/// Right-hand side of a term.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// `field:*`: the field has a (non-empty) value.
    Exists,
    /// `field:v` or `field:(a OR b AND c)`: an OR of ANDs of values; a
    /// single value is `[[v]]`.
    Values(Vec<Vec<Value>>),
    /// `field:>=v` and friends.
    Compare(CmpOp, Bound),
    /// `field:[a TO b]`, inclusive, in either order.
    Range(Bound, Bound),
}

/// A value compared for equality (or glob match).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text, literal or glob.
    Pattern(Pattern),
    /// A priority name (priority globs stay [`Value::Pattern`]).
    Priority(Priority),
    /// A time (time fields).
    Time(TimeValue),
    /// `true` / `false` (`archived`).
    Bool(bool),
}

/// A comparison or range bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// `*`: unbounded (ranges only).
    Open,
    /// A priority, ordered by urgency (P1 highest).
    Priority(Priority),
    /// A number (NUMBER custom attributes).
    Number(f64),
    /// A time (time fields).
    Time(TimeValue),
}

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// A text value: literal, or a glob with `*` (any run) and `?` (any char).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Matched whole (quoted, or a bareword without wildcards).
    Literal(String),
    /// Anchored glob; never empty, adjacent texts merged.
    Glob(Vec<GlobPart>),
}

/// A piece of a glob.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GlobPart {
    /// Literal text (non-empty).
    Text(String),
    /// `?`: exactly one character.
    AnyChar,
    /// `*`: any run of characters, possibly empty.
    AnyRun,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Lt => "<",
            Self::Le => "<=",
        }
    }

    /// Whether `lhs <op> rhs` holds.
    pub(crate) fn holds<T: PartialOrd>(self, lhs: &T, rhs: &T) -> bool {
        match self {
            Self::Gt => lhs > rhs,
            Self::Ge => lhs >= rhs,
            Self::Lt => lhs < rhs,
            Self::Le => lhs <= rhs,
        }
    }
}

impl Field {
    /// Canonical name as written in a query.
    pub fn name(&self) -> String {
        match self {
            Self::Custom(k) => format!("custom.{k}"),
            Self::Attribute(k) => ALIASES
                .iter()
                .find(|(_, key)| key == k)
                .map_or_else(|| k.clone(), |(alias, _)| (*alias).to_owned()),
            builtin => BUILTINS
                .iter()
                .find(|(_, f)| f == builtin)
                .map_or_else(String::new, |(name, _)| (*name).to_owned()),
        }
    }
}

impl fmt::Display for Expr {
    /// The canonical form (see [`Query`](super::Query)'s `Display`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self)
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_term(f, self)
    }
}

/// Writes `e` in canonical form: `-` for negation, juxtaposition for AND,
/// parentheses exactly where the tree needs them.
pub(crate) fn write_expr(f: &mut impl fmt::Write, e: &Expr) -> fmt::Result {
    match e {
        Expr::And(xs) => join(f, xs, " ", |x| matches!(x, Expr::And(_) | Expr::Or(_))),
        Expr::Or(xs) => join(f, xs, " OR ", |x| matches!(x, Expr::Or(_))),
        Expr::Not(x) => {
            f.write_str("-")?;
            child(f, x, matches!(**x, Expr::And(_) | Expr::Or(_)))
        }
        Expr::Text(p) => write_pattern(f, p, Ctx::Term),
        Expr::Term(t) => write_term(f, t),
    }
}

/// Writes `xs` separated by `sep`, parenthesising those `needs_parens` picks.
fn join(
    f: &mut impl fmt::Write,
    xs: &[Expr],
    sep: &str,
    needs_parens: impl Fn(&Expr) -> bool,
) -> fmt::Result {
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        child(f, x, needs_parens(x))?;
    }
    Ok(())
}

/// Writes `x`, in parentheses if `parens`.
fn child(f: &mut impl fmt::Write, x: &Expr, parens: bool) -> fmt::Result {
    if parens {
        f.write_str("(")?;
        write_expr(f, x)?;
        f.write_str(")")
    } else {
        write_expr(f, x)
    }
}

fn write_term(f: &mut impl fmt::Write, t: &Term) -> fmt::Result {
    write!(f, "{}:", t.field.name())?;
    let reserved = t.field == Field::Assignee;
    match &t.rhs {
        Rhs::Exists => f.write_str("*"),
        Rhs::Values(alts) => match alts.as_slice() {
            [single] if single.len() == 1 => write_value(f, &single[0], Ctx::Value, reserved),
            _ => write_list(f, alts, reserved),
        },
        Rhs::Compare(op, b) => {
            f.write_str(op.as_str())?;
            write_bound(f, b)
        }
        Rhs::Range(lo, hi) => {
            f.write_str("[")?;
            write_bound(f, lo)?;
            f.write_str(" TO ")?;
            write_bound(f, hi)?;
            f.write_str("]")
        }
    }
}

/// Writes `(a OR b AND c)`.
fn write_list(f: &mut impl fmt::Write, alts: &[Vec<Value>], reserved: bool) -> fmt::Result {
    f.write_str("(")?;
    for (i, all) in alts.iter().enumerate() {
        if i > 0 {
            f.write_str(" OR ")?;
        }
        for (j, v) in all.iter().enumerate() {
            if j > 0 {
                f.write_str(" AND ")?;
            }
            write_value(f, v, Ctx::List, reserved)?;
        }
    }
    f.write_str(")")
}

/// Writes one value; `reserved` escapes a literal `none` (assignee).
fn write_value(f: &mut impl fmt::Write, v: &Value, ctx: Ctx, reserved: bool) -> fmt::Result {
    match v {
        Value::Pattern(Pattern::Literal(s)) if reserved && s.eq_ignore_ascii_case("none") => {
            write!(f, "\\{s}")
        }
        Value::Pattern(p) => write_pattern(f, p, ctx),
        Value::Priority(p) => f.write_str(priority_name(*p)),
        Value::Time(t) => write!(f, "{t}"),
        Value::Bool(b) => write!(f, "{b}"),
    }
}

/// Writes a bound (its texts need no escaping in any value position).
fn write_bound(f: &mut impl fmt::Write, b: &Bound) -> fmt::Result {
    match b {
        Bound::Open => f.write_str("*"),
        Bound::Priority(p) => f.write_str(priority_name(*p)),
        Bound::Number(n) => f.write_str(&fmt_number(*n)),
        Bound::Time(t) => write!(f, "{t}"),
    }
}
