//! Syntax: precedence, negation, juxtaposition, keywords, escapes, the
//! canonical `Display` form and the serde/`FromStr` entry points.

use super::*;
use crate::query::{Expr, Field, Pattern, Rhs, Term, Value};

/// `a`, `b`, … as free-text terms.
fn t(s: &str) -> Expr {
    Expr::Text(Pattern::Literal(s.into()))
}

fn not(e: Expr) -> Expr {
    Expr::Not(Box::new(e))
}

fn ast(q: &str) -> Expr {
    parse(q).expr().cloned().unwrap()
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let expected = Expr::Or(vec![t("a"), Expr::And(vec![t("b"), t("c")])]);
    assert_eq!(ast("a OR b AND c"), expected);
    assert_eq!(ast("a OR b c"), expected);
    let expected = Expr::Or(vec![Expr::And(vec![not(t("a")), t("b")]), t("c")]);
    assert_eq!(ast("NOT a b OR c"), expected);
    assert_eq!(ast("-a AND b OR c"), expected);
    assert_eq!(
        ast("(a OR b) c"),
        Expr::And(vec![Expr::Or(vec![t("a"), t("b")]), t("c")])
    );
    assert_eq!(ast("NOT (a OR b)"), not(Expr::Or(vec![t("a"), t("b")])));
    assert_eq!(ast("NOT NOT a"), not(not(t("a"))));
    assert_eq!(ast("- -a"), not(not(t("a"))));
}

#[test]
fn precedence_decides_matches() {
    let c = case(); // team payments, P2, in progress
    yes(
        &c,
        &[
            "status:closed OR team:payments priority:P2",
            "team:search priority:P3 OR priority:P2",
        ],
    );
    no(
        &c,
        &[
            "(status:closed OR team:payments) priority:P3",
            "NOT team:payments OR status:closed",
        ],
    );
    yes(
        &c,
        &[
            "NOT (team:search OR status:closed)",
            "-status:closed -team:search",
        ],
    );
    no(&c, &["NOT team:search team:search", "-(team:payments)"]);
}

#[test]
fn juxtaposition_and_explicit_and_agree() {
    assert_eq!(parse("a b c"), parse("a AND b AND c"));
    assert_eq!(
        parse("status:open  priority:P1"),
        parse("status:open AND priority:P1")
    );
    assert_eq!(ast("a b c"), Expr::And(vec![t("a"), t("b"), t("c")]));
}

#[test]
fn keywords_are_upper_case_only() {
    assert_eq!(ast("a and b"), Expr::And(vec![t("a"), t("and"), t("b")]));
    assert_eq!(ast("a or b"), Expr::And(vec![t("a"), t("or"), t("b")]));
    assert_eq!(ast("not a"), Expr::And(vec![t("not"), t("a")]));
    assert_eq!(ast("Or"), t("Or"));
}

#[test]
fn empty_query_matches_everything() {
    for q in ["", "   ", "\t\n"] {
        let query = parse(q);
        assert!(query.is_empty());
        assert!(query.matches(&case(), now()));
        assert_eq!(query.to_string(), "");
    }
    assert_eq!(Query::default(), parse(""));
}

#[test]
fn escapes_make_characters_literal() {
    assert_eq!(ast("\\AND"), t("AND"));
    assert_eq!(ast("\\-a"), t("-a"));
    assert_eq!(ast("a\\:b"), t("a:b"));
    assert_eq!(ast("a\\ b"), t("a b"));
    assert_eq!(ast("\\(x\\)"), t("(x)"));
    assert_eq!(ast(r#""say \"hi\" \\o/""#), t(r#"say "hi" \o/"#));
    assert_eq!(ast("a\\*"), t("a*"));
    let term = |v: &str| {
        Expr::Term(Term {
            field: Field::Attribute("teams".into()),
            rhs: Rhs::Values(vec![vec![Value::Pattern(Pattern::Literal(v.into()))]]),
        })
    };
    assert_eq!(ast("team:a\\ b"), term("a b"));
    assert_eq!(ast("team:\\(x"), term("(x"));
    assert_eq!(ast("team:\\*"), term("*"));
    assert_eq!(ast("team:\"*\""), term("*"));
}

#[test]
fn values_may_contain_colons_dashes_and_brackets() {
    let c = with(|c| {
        c.custom_attributes.insert(
            "link".into(),
            custom(CustomAttributeType::Url, &["https://x.io/a?b=1"]),
        );
        c.attributes
            .insert("ranges".into(), list(&["-1", "a[0]", "x>y"]));
    });
    yes(
        &c,
        &[
            "custom.link:https://x.io/a\\?b=1",
            "custom.link:https://*",
            "ranges:-1",
            "ranges:a[0]",
            "ranges:x>y",
        ],
    );
    yes(&c, &["ranges:(-1 AND a[0])", "ranges:x>*", "ranges:a[*]"]);
    no(&c, &["ranges:\\>*", "ranges:\\[*"]);
}

#[test]
fn canonical_form() {
    let cases = [
        (
            "priority:(P1 OR P2) team:payments",
            "priority:(P1 OR P2) team:payments",
        ),
        (
            "status:open AND priority:>=p2 NOT service:sandbox-*",
            "status:open priority:>=P2 -service:sandbox-*",
        ),
        (
            "teams:a environments:b services:c datacenters:d versions:e",
            "team:a env:b service:c datacenter:d version:e",
        ),
        (
            "\"database timeout\"  assignee:none",
            "\"database timeout\" -assignee:*",
        ),
        ("\"a b c d\"", "\"a b c d\""),
        (
            "custom.business_impact:>=3.0 OR creation_source:\"Event Management\"",
            "custom.business_impact:>=3 OR creation_source:\"Event Management\"",
        ),
        (
            "team:* NOT (status:closed OR archived:TRUE)",
            "team:* -(status:closed OR archived:true)",
        ),
        ("((a)) OR (b OR c)", "a OR (b OR c)"),
        ("a (b c)", "a (b c)"),
        ("team:(x)", "team:x"),
        ("team:(*)", "team:*"),
        (
            "created_at:[now-0d TO 2024-05-01T10:00:00+02:00]",
            "created_at:[now TO 2024-05-01T08:00:00Z]",
        ),
        (
            "custom.n:<1e22 custom.n:>-0.50",
            "custom.n:<1e22 custom.n:>-0.5",
        ),
        ("\"AND\" \"-x\" \"a:b\"", "\"AND\" \"-x\" \"a:b\""),
        (
            "\\AND \\-x a\\:b team:a\\\"b",
            "\"AND\" \"-x\" \"a:b\" team:a\\\"b",
        ),
        (
            "created_at:>2024-05-01T10:00:00.500+00:00",
            "created_at:>2024-05-01T10:00:00.5Z",
        ),
        ("assignee:\"none\"", "assignee:\\none"),
        ("team:\"\"", "team:\"\""),
    ];
    for (input, canonical) in cases {
        let q = parse(input);
        assert_eq!(q.to_string(), canonical, "display of {input:?}");
        assert_eq!(parse(canonical), q, "re-parse of {canonical:?}");
    }
}

#[test]
fn from_str_and_serde_use_the_parser() {
    let q: Query = "status:open priority:P1".parse().unwrap();
    assert_eq!(q, parse("status:open priority:P1"));
    let from_json: Query = serde_json::from_str("\"status:open priority:P1\"").unwrap();
    assert_eq!(from_json, q);
    assert_eq!(
        serde_json::to_string(&q).unwrap(),
        "\"status:open priority:P1\""
    );

    #[derive(Debug, serde::Deserialize)]
    struct Rule {
        #[allow(dead_code)]
        query: Query,
    }
    let err = serde_yaml::from_str::<Rule>("query: 'priority:>=P9'")
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid query at position 11"), "{err}");
    assert!(err.contains("P9"), "{err}");
    let err = serde_json::from_str::<Query>("\"(a\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unbalanced parentheses"), "{err}");
}

#[test]
fn glued_terms_are_separated_in_canonical_form() {
    assert_eq!(parse("a\"b\"(c d)e").to_string(), "a b (c d) e");
    assert_eq!(parse("t:x\\ y").to_string(), "t:\"x y\"");
}
