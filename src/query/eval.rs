//! Evaluation of a compiled query against a [`CaseSnapshot`] (domain.md
//! §C.3). Pure: the only clock is the `now` passed in, so replays of the
//! same event give the same answer.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::event::Timestamp;
use chrono::{DateTime, NaiveDate, Utc};

use super::ast::{Bound, CmpOp, Expr, Field, Pattern, Rhs, Term, Value};
use super::values::{parse_number, priority_name, urgency, Resolved};
use crate::event::pb::{CustomAttributeType, StatusGroup};
use crate::event::CaseSnapshot;

/// Built-in case types: (name, type id), as the producers assign them.
pub(crate) const CASE_TYPES: [(&str, &str); 5] = [
    ("Standard", "0190a1b2-0000-7000-8000-000000000001"),
    ("Security", "0190a1b2-0000-7000-8000-000000000002"),
    ("Change Request", "0190a1b2-0000-7000-8000-000000000003"),
    ("Event Management", "0190a1b2-0000-7000-8000-000000000004"),
    ("Error Tracking", "0190a1b2-0000-7000-8000-000000000005"),
];

/// Whether `expr` holds for `case` at `now`.
pub(crate) fn eval(expr: &Expr, case: &CaseSnapshot, now: DateTime<Utc>) -> bool {
    Env { case, now }.expr(expr)
}

/// Whether the single term `t` holds for `case` at `now`.
pub(crate) fn eval_term(t: &Term, case: &CaseSnapshot, now: DateTime<Utc>) -> bool {
    Env { case, now }.term(t)
}

/// The values of `field` in `case` as a term sees them, written out (for
/// explanations): texts, the priority name, times in RFC 3339, `archived`
/// as `true`/`false`.
pub(crate) fn seen(field: &Field, case: &CaseSnapshot) -> Vec<String> {
    let stamp = |t: &Option<Timestamp>| {
        t.and_then(|t| t.to_datetime())
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            .into_iter()
            .collect()
    };
    match field {
        Field::Archived => vec![case.archived_at.is_some().to_string()],
        Field::CreatedAt => stamp(&case.created_at),
        Field::ModifiedAt => stamp(&case.modified_at),
        Field::ClosedAt => stamp(&case.closed_at),
        Field::DueDate => case
            .due_date
            .iter()
            .filter(|d| !d.is_empty())
            .cloned()
            .collect(),
        other => {
            let env = Env {
                case,
                now: DateTime::<Utc>::MIN_UTC,
            };
            let (texts, _) = env.texts(other);
            let mut seen: Vec<String> = Vec::new();
            for t in texts {
                if !seen.iter().any(|s| *s == t) {
                    seen.push(t.into_owned());
                }
            }
            seen
        }
    }
}

/// A value a comparison can order.
#[derive(Debug, Clone, Copy)]
enum Ordinal {
    Urgency(u8),
    Number(f64),
    Time(Resolved),
}

struct Env<'a> {
    case: &'a CaseSnapshot,
    now: DateTime<Utc>,
}

impl Env<'_> {
    fn expr(&self, e: &Expr) -> bool {
        match e {
            Expr::And(xs) => xs.iter().all(|x| self.expr(x)),
            Expr::Or(xs) => xs.iter().any(|x| self.expr(x)),
            Expr::Not(x) => !self.expr(x),
            Expr::Text(p) => p.occurs_in(&self.case.title),
            Expr::Term(t) => self.term(t),
        }
    }

    fn term(&self, t: &Term) -> bool {
        match &t.rhs {
            Rhs::Exists => self.exists(&t.field),
            Rhs::Values(alts) => alts
                .iter()
                .any(|all| all.iter().all(|v| self.equals(&t.field, v))),
            Rhs::Compare(op, b) => self.compare(&t.field, *op, b),
            Rhs::Range(lo, hi) => self.within(&t.field, lo, hi),
        }
    }

    /// `field:*`: the field has a value (empty strings count as none).
    fn exists(&self, field: &Field) -> bool {
        let c = self.case;
        match field {
            Field::Priority => urgency(c.priority()).is_some(),
            Field::Archived => true,
            Field::CreatedAt => c.created_at.is_some(),
            Field::ModifiedAt => c.modified_at.is_some(),
            Field::ClosedAt => c.closed_at.is_some(),
            Field::DueDate => c.due_date.as_deref().is_some_and(|d| !d.is_empty()),
            text => !self.texts(text).0.is_empty(),
        }
    }

    /// `field:value`: true if any of the field's values matches.
    fn equals(&self, field: &Field, v: &Value) -> bool {
        match v {
            Value::Priority(p) => priority_name(self.case.priority()) == priority_name(*p),
            Value::Bool(b) => self.case.archived_at.is_some() == *b,
            Value::Time(t) => match (self.time(field), t.resolve(self.now)) {
                (Some(a), Some(b)) => order_time(a, b) == Ordering::Equal,
                _ => false,
            },
            Value::Pattern(p) => self.pattern(field, p),
        }
    }

    fn pattern(&self, field: &Field, p: &Pattern) -> bool {
        if let (Some(nums), Pattern::Literal(lit)) = (self.numbers(field), p) {
            if let Some(n) = parse_number(lit) {
                return nums.contains(&n);
            }
        }
        let (texts, ci) = self.texts(field);
        texts.iter().any(|t| p.matches(t, ci))
    }

    fn compare(&self, field: &Field, op: CmpOp, b: &Bound) -> bool {
        let Some(bound) = self.bound(b) else {
            return false;
        };
        self.ordinals(field)
            .iter()
            .any(|x| order(x, &bound).is_some_and(|o| op.holds(&o, &Ordering::Equal)))
    }

    /// `[lo TO hi]`, inclusive, bounds in either order; `*` is unbounded.
    fn within(&self, field: &Field, lo: &Bound, hi: &Bound) -> bool {
        let (lo_open, hi_open) = (*lo == Bound::Open, *hi == Bound::Open);
        let (lo_b, hi_b) = (self.bound(lo), self.bound(hi));
        if (!lo_open && lo_b.is_none()) || (!hi_open && hi_b.is_none()) {
            return false;
        }
        let above = |x: &Ordinal, b: Option<Ordinal>| {
            b.is_none_or(|b| order(x, &b).is_some_and(Ordering::is_ge))
        };
        let below = |x: &Ordinal, b: Option<Ordinal>| {
            b.is_none_or(|b| order(x, &b).is_some_and(Ordering::is_le))
        };
        self.ordinals(field).iter().any(|x| {
            (above(x, lo_b) && below(x, hi_b))
                || (!lo_open && !hi_open && above(x, hi_b) && below(x, lo_b))
        })
    }

    /// A bound as an ordinal; `None` for `*` or a time that overflows.
    fn bound(&self, b: &Bound) -> Option<Ordinal> {
        match *b {
            Bound::Open => None,
            Bound::Priority(p) => urgency(p).map(Ordinal::Urgency),
            Bound::Number(n) => Some(Ordinal::Number(n)),
            Bound::Time(t) => t.resolve(self.now).map(Ordinal::Time),
        }
    }

    /// The field's orderable values (empty when missing or unordered).
    fn ordinals(&self, field: &Field) -> Vec<Ordinal> {
        match field {
            Field::Priority => urgency(self.case.priority())
                .map(Ordinal::Urgency)
                .into_iter()
                .collect(),
            Field::Custom(_) => self
                .numbers(field)
                .unwrap_or_default()
                .into_iter()
                .map(Ordinal::Number)
                .collect(),
            _ => self.time(field).map(Ordinal::Time).into_iter().collect(),
        }
    }

    /// Values of a NUMBER custom attribute that parse; `None` for any other field.
    fn numbers(&self, field: &Field) -> Option<Vec<f64>> {
        let Field::Custom(key) = field else {
            return None;
        };
        let attr = self.case.custom_attributes.get(key)?;
        (attr.r#type() == CustomAttributeType::Number).then(|| {
            attr.values
                .iter()
                .filter_map(|v| parse_number(v.trim()))
                .collect()
        })
    }

    /// The time a time field holds, if any.
    fn time(&self, field: &Field) -> Option<Resolved> {
        let c = self.case;
        let stamp = match field {
            Field::CreatedAt => &c.created_at,
            Field::ModifiedAt => &c.modified_at,
            Field::ClosedAt => &c.closed_at,
            Field::DueDate => {
                let date = NaiveDate::parse_from_str(c.due_date.as_deref()?, "%Y-%m-%d");
                return date.ok().map(Resolved::Day);
            }
            _ => return None,
        };
        stamp.as_ref().and_then(instant).map(Resolved::At)
    }

    /// The non-empty texts a field holds, and whether they match
    /// case-insensitively.
    fn texts(&self, field: &Field) -> (Vec<Cow<'_, str>>, bool) {
        let c = self.case;
        let (texts, ci): (Vec<Cow<'_, str>>, bool) = match field {
            Field::Status => (status_texts(c), true),
            Field::Priority => (vec![Cow::Borrowed(priority_name(c.priority()))], true),
            Field::Assignee => (
                c.assignee_id
                    .iter()
                    .map(|s| Cow::Borrowed(s.as_str()))
                    .collect(),
                true,
            ),
            Field::Project => (
                vec![
                    Cow::Borrowed(c.project_id.as_str()),
                    Cow::Borrowed(project_key(&c.key)),
                ],
                true,
            ),
            Field::Type => (type_texts(&c.type_id), true),
            Field::Key => (vec![Cow::Borrowed(c.key.as_str())], true),
            Field::Title => (vec![Cow::Borrowed(c.title.as_str())], true),
            Field::Custom(k) => (
                borrow_all(c.custom_attributes.get(k).map(|a| &a.values)),
                false,
            ),
            Field::Attribute(k) => (borrow_all(c.attributes.get(k).map(|l| &l.values)), false),
            _ => (Vec::new(), false),
        };
        (texts.into_iter().filter(|t| !t.is_empty()).collect(), ci)
    }
}

fn borrow_all(values: Option<&Vec<String>>) -> Vec<Cow<'_, str>> {
    values
        .into_iter()
        .flatten()
        .map(|s| Cow::Borrowed(s.as_str()))
        .collect()
}

/// Status name plus the group's query names (`open`, `SG_OPEN`, …).
fn status_texts(c: &CaseSnapshot) -> Vec<Cow<'_, str>> {
    let group: &[&'static str] = match c.status_group() {
        StatusGroup::Open => &["open", "SG_OPEN"],
        StatusGroup::InProgress => &["in_progress", "SG_IN_PROGRESS"],
        StatusGroup::Closed => &["closed", "SG_CLOSED"],
        StatusGroup::Unspecified => &[],
    };
    let mut texts = vec![Cow::Borrowed(c.status_name.as_str())];
    texts.extend(group.iter().map(|g| Cow::Borrowed(*g)));
    texts
}

/// Type id plus, for a built-in type, its name (`Security`) and snake-case
/// name (`change_request`).
fn type_texts(type_id: &str) -> Vec<Cow<'_, str>> {
    let mut texts = vec![Cow::Borrowed(type_id)];
    if let Some((name, _)) = CASE_TYPES
        .iter()
        .find(|(_, id)| id.eq_ignore_ascii_case(type_id))
    {
        texts.push(Cow::Borrowed(*name));
        texts.push(Cow::Owned(name.replace(' ', "_")));
    }
    texts
}

/// Project key of a case key: `SEC` of `SEC-42` (empty if none).
fn project_key(key: &str) -> &str {
    key.rsplit_once('-').map_or("", |(project, _)| project)
}

fn instant(t: &Timestamp) -> Option<DateTime<Utc>> {
    t.to_datetime()
}

/// Orders two ordinals of the same kind; `None` across kinds.
fn order(a: &Ordinal, b: &Ordinal) -> Option<Ordering> {
    match (a, b) {
        (Ordinal::Urgency(x), Ordinal::Urgency(y)) => Some(x.cmp(y)),
        (Ordinal::Number(x), Ordinal::Number(y)) => x.partial_cmp(y),
        (Ordinal::Time(x), Ordinal::Time(y)) => Some(order_time(*x, *y)),
        _ => None,
    }
}

/// Orders two times: by calendar day (UTC) when either is a day, else exactly.
fn order_time(a: Resolved, b: Resolved) -> Ordering {
    match (a, b) {
        (Resolved::At(x), Resolved::At(y)) => x.cmp(&y),
        _ => a.day().cmp(&b.day()),
    }
}
