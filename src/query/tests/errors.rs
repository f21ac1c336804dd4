//! Compile errors: each names the problem and its character position.

use crate::query::{Query, QueryError, QueryErrorKind, MAX_DEPTH, MAX_QUERY_BYTES, MAX_TERMS};

fn err(q: &str) -> QueryError {
    match Query::parse(q) {
        Ok(parsed) => panic!("{q:?} parsed as {parsed:?}"),
        Err(e) => e,
    }
}

/// Asserts `q` fails at `position` with a message containing `needle`.
#[track_caller]
fn fails(q: &str, position: usize, needle: &str) {
    let e = err(q);
    assert_eq!(e.position, position, "{q:?}: {e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("invalid query at position {position}: ")),
        "{msg}"
    );
    assert!(msg.contains(needle), "{q:?}: {msg:?} lacks {needle:?}");
}

#[test]
fn comparisons_on_unordered_fields_are_rejected() {
    fails(
        "status:>open",
        7,
        "field `status` does not support comparisons or ranges",
    );
    fails("a team:>=3", 7, "field `team` does not support comparisons");
    fails(
        "title:[a TO b]",
        6,
        "field `title` does not support comparisons",
    );
    fails("archived:<true", 9, "field `archived`");
    fails("assignee:[* TO *]", 9, "field `assignee`");
}

#[test]
fn invalid_values_for_built_in_fields_are_rejected() {
    fails(
        "priority:P9",
        9,
        "`P9` is not a valid value for `priority`: P1, P2, P3, P4, P5 or NOT_DEFINED",
    );
    fails(
        "priority:>=P9",
        11,
        "`P9` is not a valid value for `priority`",
    );
    fails("priority:>NOT_DEFINED", 10, "NOT_DEFINED has no order");
    fails("priority:[P1 TO high]", 16, "`high`");
    fails(
        "custom.impact:>abc",
        15,
        "`abc` is not a valid value for `custom.impact`: a number",
    );
    fails("custom.impact:>.5", 15, "a number");
    fails("custom.impact:>inf", 15, "a number");
    fails(
        "created_at:>yesterday",
        12,
        "YYYY-MM-DD, an RFC 3339 time, now, or now-<n>{m,h,d}",
    );
    fails(
        "created_at:>2024-05-01T10:00:00",
        12,
        "`2024-05-01T10:00:00`",
    );
    fails("created_at:>2024-5-1", 12, "`2024-5-1`");
    // Found by the fuzzer: a signed or short year printed back as another
    // text (fuzz/artifacts/cq_parse_eval/crash-a7a97e68…).
    fails("created_at:-024-05-01", 11, "`-024-05-01`");
    fails("created_at:+2024-05-01", 11, "`+2024-05-01`");
    fails("created_at:>now-1w", 12, "`now-1w`");
    fails("created_at:>now-d", 12, "`now-d`");
    fails("due_date:<now-2000000d", 10, "`now-2000000d`");
    fails(
        "archived:yes",
        9,
        "`yes` is not a valid value for `archived`: true or false",
    );
}

#[test]
fn unsupported_forms_are_rejected() {
    fails(
        "created_at:now-1d",
        11,
        "relative time (use a comparison or a range)",
    );
    fails("created_at:2024*", 11, "does not support wildcards");
    fails("archived:t*", 9, "does not support wildcards");
    fails("priority:>P*", 10, "wildcards in comparisons and ranges");
    fails("custom.n:>*", 10, "wildcards in comparisons and ranges");
    fails(
        "priority:[P2 TO *]",
        16,
        "does not support open range bounds (use `>=` or `<=`)",
    );
    fails("priority:[* TO *]", 10, "open range bounds");
    fails(
        "team:(a OR *)",
        11,
        "`*` or `none` combined with other values",
    );
    fails("assignee:(none OR x)", 10, "combined with other values");
}

#[test]
fn unbalanced_parentheses_are_reported_where_they_are() {
    fails("(a OR b", 0, "unbalanced parentheses: `(` is never closed");
    fails("x (a OR (b)", 2, "`(` is never closed");
    fails(
        "a OR b)",
        6,
        "unbalanced parentheses: `)` has no matching `(`",
    );
    fails(")", 0, "`)` has no matching `(`");
    fails("team:(a OR b", 5, "`(` is never closed");
    fails("()", 1, "expected a term inside `( )`, found `)`");
}

#[test]
fn syntax_errors_name_what_was_expected() {
    fails("\"abc", 0, "unterminated quoted string");
    fails("a \"b\\\"", 2, "unterminated quoted string");
    fails("abc\\", 3, "escapes nothing");
    fails(
        "status:",
        7,
        "expected a value right after `:`, found the end of the query",
    );
    fails("status: open", 7, "found whitespace");
    fails("status:)", 7, "found `)`");
    fails(
        "priority:>= P1",
        11,
        "a value right after the comparison operator",
    );
    fails(
        "a OR",
        4,
        "expected a term, `(`, `NOT` or `-`, found the end of the query",
    );
    fails("AND a", 0, "found `AND`");
    fails("a OR OR b", 5, "found `OR`");
    fails("NOT", 3, "found the end of the query");
    fails(
        "team:(a b)",
        8,
        "expected `OR`, `AND` or `)` in the value list, found `b`",
    );
    fails("team:()", 6, "expected a value, found `)`");
    fails("team:(a OR)", 10, "expected a value, found `)`");
    fails("priority:[P1 P3]", 13, "expected `TO`, found `P3`");
    fails("priority:[P1 TO P3", 9, "`]` closing this range");
    fails("priority:[P1 TO P3 P4]", 19, "expected `]`");
}

#[test]
fn field_names_are_checked() {
    fails("12:30", 0, "`12` is not a field name");
    fails("x custom.:v", 2, "`custom.` is not a field name");
    fails("a..b:v", 0, "`a..b` is not a field name");
    fails("te*m:v", 0, "`te*m` is not a field name");
    fails(
        "Status:open",
        0,
        "field names are case-sensitive: `Status` should be `status`",
    );
    fails("TEAM:a", 0, "`TEAM` should be `team`");
    assert!(Query::parse("a\\:b x-y.z_1:v _k:v").is_ok());
}

#[test]
fn positions_count_characters_not_bytes() {
    fails("\"héllo wörld\" status:>x", 21, "field `status`");
}

#[test]
fn length_limit() {
    let at_limit = "a".repeat(MAX_QUERY_BYTES);
    assert!(Query::parse(&at_limit).is_ok());
    let e = err(&"a".repeat(MAX_QUERY_BYTES + 1));
    assert_eq!(
        e.kind,
        QueryErrorKind::TooLong {
            len: MAX_QUERY_BYTES + 1,
            max: MAX_QUERY_BYTES
        }
    );
    assert_eq!(e.position, MAX_QUERY_BYTES);
    assert!(e.to_string().contains("the limit is 2048 bytes"));
    let e = err(&"é".repeat(MAX_QUERY_BYTES / 2 + 1));
    assert_eq!(e.position, MAX_QUERY_BYTES / 2);
}

#[test]
fn length_limit_applies_to_the_canonical_form_too() {
    // 256 terms of 7 bytes (2047 bytes); quoting each value adds 256.
    let input = vec!["tt:x\\ y"; MAX_TERMS].join(" ");
    let e = err(&input);
    assert_eq!(
        e.kind,
        QueryErrorKind::CanonicalTooLong {
            len: 2047 + 256,
            max: MAX_QUERY_BYTES
        }
    );
    assert_eq!(e.position, 2047);
    assert!(e.to_string().contains("canonical form is 2303 bytes"));
    let fits = vec!["tt:x\\ y"; 200].join(" ");
    assert_eq!(
        Query::parse(&fits).unwrap().to_string(),
        vec!["tt:\"x y\""; 200].join(" ")
    );
}

#[test]
fn depth_limit() {
    let nest = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
    assert!(Query::parse(&nest(MAX_DEPTH)).is_ok());
    fails(
        &nest(MAX_DEPTH + 1),
        MAX_DEPTH,
        "nest deeper than 32 levels",
    );
    assert!(Query::parse(&format!("{}a", "-".repeat(MAX_DEPTH))).is_ok());
    fails(
        &format!("{}a", "NOT ".repeat(MAX_DEPTH + 1)),
        4 * MAX_DEPTH,
        "deeper than 32",
    );
    fails(
        &format!("{}(a)", "-".repeat(MAX_DEPTH)),
        MAX_DEPTH,
        "deeper than 32",
    );
    // `assignee:none` is `-assignee:*`, one level.
    let unassigned = |n: usize| format!("{}assignee:none", "-".repeat(n));
    assert!(Query::parse(&unassigned(MAX_DEPTH - 1)).is_ok());
    fails(&unassigned(MAX_DEPTH), MAX_DEPTH + 9, "deeper than 32");
}

#[test]
fn term_limit() {
    let words = |n: usize| {
        (0..n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(Query::parse(&words(MAX_TERMS)).is_ok());
    let over = words(MAX_TERMS + 1);
    fails(&over, over.rfind(' ').unwrap() + 1, "more than 256 terms");
    let values = |n: usize| {
        (0..n)
            .map(|i| format!("v{i}"))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    assert!(Query::parse(&format!("team:({})", values(MAX_TERMS))).is_ok());
    let e = err(&format!("x team:({})", values(MAX_TERMS)));
    assert_eq!(e.kind, QueryErrorKind::TooManyTerms(MAX_TERMS));
}
