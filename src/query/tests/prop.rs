//! Property: the canonical `Display` of a query parses back to an equal
//! syntax tree — for generated trees, and for whatever random token soup
//! happens to parse. Strategies come from proptest itself (no `rand`).

use chrono::{DateTime, NaiveDate, TimeDelta};
use proptest::prelude::*;

use crate::event::pb::Priority;
use crate::query::{
    Bound, CmpOp, Expr, Field, GlobPart, Pattern, Query, Rhs, Term, TimeUnit, TimeValue, Value,
    MAX_QUERY_BYTES,
};

/// Text with every character the lexer treats specially, plus keywords.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 ():\"\\\\*?<>\\[\\]é.-]{0,8}",
        1 => prop::sample::select(vec!["AND", "OR", "NOT", "TO", "none", "NONE", "-", "*"]).prop_map(String::from),
    ]
}

fn glob_part() -> impl Strategy<Value = GlobPart> {
    prop_oneof![
        text().prop_map(GlobPart::Text),
        Just(GlobPart::AnyChar),
        Just(GlobPart::AnyRun),
    ]
}

/// A glob in the parser's normal form: adjacent texts merged, no empty
/// text, at least one wildcard.
fn glob() -> impl Strategy<Value = Vec<GlobPart>> {
    prop::collection::vec(glob_part(), 1..5).prop_map(|parts| {
        let mut out: Vec<GlobPart> = Vec::new();
        for part in parts {
            match (part, out.last_mut()) {
                (GlobPart::Text(t), _) if t.is_empty() => {}
                (GlobPart::Text(t), Some(GlobPart::Text(prev))) => prev.push_str(&t),
                (part, _) => out.push(part),
            }
        }
        if !out.iter().any(|p| !matches!(p, GlobPart::Text(_))) {
            out.push(GlobPart::AnyRun);
        }
        out
    })
}

fn pattern() -> impl Strategy<Value = Pattern> {
    prop_oneof![
        text().prop_map(Pattern::Literal),
        glob().prop_map(Pattern::Glob)
    ]
}

/// A pattern usable as a field value: a lone `*` would mean `field:*`.
fn value_pattern() -> impl Strategy<Value = Pattern> {
    pattern().prop_map(|p| match p {
        Pattern::Glob(parts) if parts == [GlobPart::AnyRun] => {
            Pattern::Glob(vec![GlobPart::AnyRun; 2])
        }
        p => p,
    })
}

fn priority(ordered: bool) -> impl Strategy<Value = Priority> {
    let mut all = vec![
        Priority::P1,
        Priority::P2,
        Priority::P3,
        Priority::P4,
        Priority::P5,
    ];
    if !ordered {
        all.push(Priority::NotDefined);
    }
    prop::sample::select(all)
}

fn time(relative: bool) -> BoxedStrategy<TimeValue> {
    let date = (0i64..47_000).prop_map(|d| {
        TimeValue::Date(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + TimeDelta::days(d))
    });
    let instant = (
        0i64..4_102_444_800,
        prop_oneof![Just(0u32), 0u32..1_000_000_000],
    )
        .prop_map(|(s, n)| TimeValue::Instant(DateTime::from_timestamp(s, n).unwrap()));
    let now = (
        -1_000_000i64..=1_000_000,
        prop::sample::select(vec![TimeUnit::Minutes, TimeUnit::Hours, TimeUnit::Days]),
    )
        .prop_map(|(offset, unit)| TimeValue::Now {
            offset,
            unit: if offset == 0 { TimeUnit::Minutes } else { unit },
        });
    if relative {
        prop_oneof![date, instant, now].boxed()
    } else {
        prop_oneof![date, instant].boxed()
    }
}

fn ident() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_-]{0,4}(\\.[a-zA-Z_][a-zA-Z0-9_-]{0,3})?"
}

fn field() -> impl Strategy<Value = Field> {
    let builtins: Vec<Field> = crate::query::ast::BUILTINS
        .iter()
        .map(|(_, f)| f.clone())
        .collect();
    let reserved: Vec<&str> = crate::query::ast::BUILTINS
        .iter()
        .map(|(n, _)| *n)
        .chain(crate::query::ast::ALIASES.iter().map(|(n, _)| *n))
        .collect();
    prop_oneof![
        prop::sample::select(builtins),
        ident().prop_map(Field::Custom),
        ident()
            .prop_filter("built-in names are not attributes", move |k| !reserved
                .contains(&k.as_str())
                && !k.starts_with("custom."))
            .prop_map(Field::Attribute),
        prop::sample::select(vec!["teams", "environments", "versions"])
            .prop_map(|k| Field::Attribute(k.into())),
    ]
}

fn value(f: &Field) -> BoxedStrategy<Value> {
    match f {
        Field::Priority => prop_oneof![
            priority(false).prop_map(Value::Priority),
            glob().prop_map(|g| Value::Pattern(Pattern::Glob(g)))
        ]
        .prop_map(|v| match v {
            Value::Pattern(Pattern::Glob(g)) if g == [GlobPart::AnyRun] => {
                Value::Priority(Priority::P1)
            }
            v => v,
        })
        .boxed(),
        Field::CreatedAt | Field::ModifiedAt | Field::ClosedAt => {
            time(false).prop_map(Value::Time).boxed()
        }
        Field::DueDate => time(true).prop_map(Value::Time).boxed(),
        Field::Archived => any::<bool>().prop_map(Value::Bool).boxed(),
        _ => value_pattern().prop_map(Value::Pattern).boxed(),
    }
}

/// A bound for an ordered field; `None` for unordered fields.
fn bound(f: &Field) -> Option<BoxedStrategy<Bound>> {
    let number = prop_oneof![
        (-1000i32..1000).prop_map(f64::from),
        any::<f64>().prop_filter("finite", |n| n.is_finite())
    ];
    match f {
        Field::Priority => Some(priority(true).prop_map(Bound::Priority).boxed()),
        Field::Custom(_) => Some(number.prop_map(Bound::Number).boxed()),
        Field::CreatedAt | Field::ModifiedAt | Field::ClosedAt | Field::DueDate => {
            Some(time(true).prop_map(Bound::Time).boxed())
        }
        _ => None,
    }
}

fn rhs(f: &Field) -> BoxedStrategy<Rhs> {
    let values =
        prop::collection::vec(prop::collection::vec(value(f), 1..3), 1..3).prop_map(Rhs::Values);
    let Some(bound) = bound(f) else {
        return prop_oneof![1 => Just(Rhs::Exists), 4 => values].boxed();
    };
    let op = prop::sample::select(vec![CmpOp::Gt, CmpOp::Ge, CmpOp::Lt, CmpOp::Le]);
    let can_open = *f != Field::Priority;
    let open_or = move |b: BoxedStrategy<Bound>| {
        prop_oneof![1 => Just(Bound::Open), 3 => b].prop_map(move |b| {
            if can_open {
                b
            } else {
                Bound::Priority(Priority::P3)
            }
        })
    };
    prop_oneof![
        1 => Just(Rhs::Exists),
        3 => values,
        2 => (op, bound.clone()).prop_map(|(op, b)| Rhs::Compare(op, b)),
        2 => (open_or(bound.clone()), open_or(bound)).prop_map(|(lo, hi)| Rhs::Range(lo, hi)),
    ]
    .boxed()
}

fn leaf() -> impl Strategy<Value = Expr> {
    let term = field().prop_flat_map(|f| {
        rhs(&f).prop_map(move |rhs| {
            Expr::Term(Term {
                field: f.clone(),
                rhs,
            })
        })
    });
    prop_oneof![1 => pattern().prop_map(Expr::Text), 3 => term]
}

fn expr() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// Fragments that combine into valid and invalid queries alike.
fn soup() -> impl Strategy<Value = String> {
    let vocab = vec![
        "a",
        "b",
        "é",
        " ",
        " ",
        "team:",
        "priority:",
        "status:",
        "custom.n:",
        "created_at:",
        "assignee:",
        "due_date:",
        "(",
        ")",
        "[",
        "]",
        "\"",
        "\\",
        "*",
        "?",
        ">=",
        "<",
        "-",
        ":",
        "OR",
        "AND",
        "NOT",
        "TO",
        " OR ",
        " TO ",
        "P1",
        "p2",
        "3",
        "-2.5",
        "now-1d",
        "2024-05-01",
        "none",
        "x y",
        "true",
    ];
    let sep = prop::sample::select(vec!["", " ", " "]);
    prop::collection::vec((prop::sample::select(vocab), sep), 0..16).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(token, sep)| [token, sep])
            .collect()
    })
}

proptest! {
    // Failures print their minimal case; nothing is written into the tree.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn display_of_a_tree_parses_back_to_it(e in expr()) {
        let shown = Query::from(e.clone()).to_string();
        prop_assume!(shown.len() <= MAX_QUERY_BYTES);
        let parsed = Query::parse(&shown).map_err(|err| TestCaseError::fail(format!("{shown:?}: {err}")))?;
        prop_assert_eq!(parsed.expr(), Some(&e), "display: {}", shown);
    }

    #[test]
    fn display_of_a_parsed_query_parses_back_to_it(input in soup()) {
        if let Ok(q) = Query::parse(&input) {
            let shown = q.to_string();
            let again = Query::parse(&shown).map_err(|err| TestCaseError::fail(format!("{input:?} -> {shown:?}: {err}")))?;
            prop_assert_eq!(again, q, "input {:?}, display {:?}", input, shown);
        }
    }
}
