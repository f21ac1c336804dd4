//! Parse-time field semantics: resolving a written field name to a
//! [`Field`], and typing (and validating) the values and bounds used with it,
//! so that a query that compiles can always be evaluated.

use super::ast::{Bound, Field, Pattern, Value, ALIASES, BUILTINS};
use super::error::{QueryError, QueryErrorKind};
use super::values::{parse_priority, TimeValue};
use crate::event::pb::Priority;

/// A resolved field and its name as written (for messages).
#[derive(Debug, Clone)]
pub(crate) struct FieldRef {
    pub field: Field,
    pub name: String,
}

/// Resolves `name`: built-ins, aliases, `custom.<k>`, else an attribute.
/// Built-in and alias names are case-sensitive; a different capitalisation
/// of one is rejected rather than silently read as an attribute.
pub(crate) fn resolve(name: &str, pos: usize) -> Result<FieldRef, QueryError> {
    let field_ref = |field| FieldRef {
        field,
        name: name.to_owned(),
    };
    if let Some((_, f)) = BUILTINS.iter().find(|(n, _)| *n == name) {
        return Ok(field_ref(f.clone()));
    }
    if let Some((_, key)) = ALIASES.iter().find(|(n, _)| *n == name) {
        return Ok(field_ref(Field::Attribute((*key).to_owned())));
    }
    if let Some(key) = name.strip_prefix("custom.") {
        return Ok(field_ref(Field::Custom(key.to_owned())));
    }
    let known = BUILTINS
        .iter()
        .map(|(n, _)| *n)
        .chain(ALIASES.iter().map(|(n, _)| *n));
    if let Some(canonical) = known.into_iter().find(|n| n.eq_ignore_ascii_case(name)) {
        return Err(QueryError::new(
            pos,
            QueryErrorKind::FieldCase {
                written: name.to_owned(),
                canonical,
            },
        ));
    }
    Ok(field_ref(Field::Attribute(name.to_owned())))
}

/// Whether `field` holds a time (instant or day).
fn is_time(field: &Field) -> bool {
    matches!(
        field,
        Field::CreatedAt | Field::ModifiedAt | Field::ClosedAt | Field::DueDate
    )
}

/// Types a value compared for equality with `f`.
pub(crate) fn value(f: &FieldRef, p: Pattern, pos: usize) -> Result<Value, QueryError> {
    let literal = match p {
        Pattern::Glob(_) if is_time(&f.field) || f.field == Field::Archived => {
            return Err(unsupported(f, "wildcards", pos));
        }
        Pattern::Literal(s) => s,
        glob => return Ok(Value::Pattern(glob)),
    };
    match &f.field {
        Field::Priority => parse_priority(&literal)
            .map(Value::Priority)
            .ok_or_else(|| invalid(f, &literal, pos, "P1, P2, P3, P4, P5 or NOT_DEFINED")),
        Field::Archived => match literal.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(invalid(f, &literal, pos, "true or false")),
        },
        field if is_time(field) => time_value(f, &literal, pos),
        _ => Ok(Value::Pattern(Pattern::Literal(literal))),
    }
}

/// Types a time compared for equality: a day or an instant; relative times
/// only for `due_date` (elsewhere an exact instant never matches in practice).
fn time_value(f: &FieldRef, literal: &str, pos: usize) -> Result<Value, QueryError> {
    let t = TimeValue::parse(literal).ok_or_else(|| invalid(f, literal, pos, TIME_FORMS))?;
    if t.is_relative() && f.field != Field::DueDate {
        return Err(unsupported(
            f,
            "equality with a relative time (use a comparison or a range)",
            pos,
        ));
    }
    Ok(Value::Time(t))
}

const TIME_FORMS: &str = "YYYY-MM-DD, an RFC 3339 time, now, or now-<n>{m,h,d}";

/// Fails unless `f` supports comparisons and ranges (`op_pos`: operator).
pub(crate) fn check_ordered(f: &FieldRef, op_pos: usize) -> Result<(), QueryError> {
    let ordered = matches!(f.field, Field::Priority | Field::Custom(_)) || is_time(&f.field);
    if ordered {
        Ok(())
    } else {
        Err(unsupported(f, ORDER_HINT, op_pos))
    }
}

const ORDER_HINT: &str =
    "comparisons or ranges (only priority, the time fields and NUMBER custom.<key> attributes do)";

/// Types a comparison or range bound for `f` (already [`check_ordered`]).
pub(crate) fn bound(f: &FieldRef, literal: &str, pos: usize) -> Result<Bound, QueryError> {
    match &f.field {
        Field::Priority => match parse_priority(literal) {
            Some(Priority::NotDefined) | None => {
                Err(invalid(f, literal, pos, "P1…P5 (NOT_DEFINED has no order)"))
            }
            Some(p) => Ok(Bound::Priority(p)),
        },
        Field::Custom(_) => super::values::parse_number(literal)
            .map(Bound::Number)
            .ok_or_else(|| invalid(f, literal, pos, "a number")),
        _ => TimeValue::parse(literal)
            .map(Bound::Time)
            .ok_or_else(|| invalid(f, literal, pos, TIME_FORMS)),
    }
}

/// Error: `f` does not support `what`.
pub(crate) fn unsupported(f: &FieldRef, what: &'static str, pos: usize) -> QueryError {
    QueryError::new(
        pos,
        QueryErrorKind::Unsupported {
            field: f.name.clone(),
            what,
        },
    )
}

fn invalid(f: &FieldRef, value: &str, pos: usize, expected: &'static str) -> QueryError {
    let kind = QueryErrorKind::InvalidValue {
        field: f.name.clone(),
        value: value.to_owned(),
        expected,
    };
    QueryError::new(pos, kind)
}
