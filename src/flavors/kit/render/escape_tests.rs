//! The pure escaping and cutting functions.

use super::escape::*;
use super::limits::*;

#[test]
fn cut_chars_keeps_short_text_and_cuts_long_text_with_an_ellipsis() {
    assert_eq!(cut_chars("abc", 3), "abc");
    assert_eq!(cut_chars("abcd", 3), "ab…");
    assert_eq!(cut_chars("abcd", 1), "…");
    assert_eq!(cut_chars("abcd", 0), "");
    assert_eq!(cut_chars("", 0), "");
}

#[test]
fn cut_chars_cuts_on_char_boundaries() {
    let text = "🔥é\u{301}שלום";
    for max in 0..10 {
        let cut = cut_chars(text, max);
        assert!(chars(&cut) <= max, "{max}: {cut}");
    }
    assert_eq!(cut_chars(text, 3), "🔥é…");
}

#[test]
fn one_line_replaces_breaks_controls_and_bidi_overrides() {
    assert_eq!(one_line("a\r\nb\nc\rd\te\u{0}f"), "a  b c d e f");
    assert_eq!(one_line("x\u{2028}y\u{202E}z\u{2066}w"), "x y z w");
    assert_eq!(one_line("שלום 👋 e\u{301}"), "שלום 👋 e\u{301}");
}

#[test]
fn multi_line_keeps_line_feeds_only() {
    assert_eq!(multi_line("a\r\nb\rc\nd\u{7}e"), "a\nb\nc\nd e");
}

#[test]
fn subject_has_no_cr_or_lf() {
    let s = subject("hi\r\nBcc: victim@example.com");
    assert!(!s.contains('\r') && !s.contains('\n'));
}

#[test]
fn http_link_accepts_http_and_https_only() {
    assert_eq!(
        http_link("https://x.example/a"),
        Some("https://x.example/a")
    );
    assert_eq!(http_link(" HTTP://x.example "), Some("HTTP://x.example"));
    for bad in [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>",
        "//x.example",
        "https://",
        "https://x.example/a b",
        "vbscript:x",
        "",
    ] {
        assert!(http_link(bad).is_none(), "{bad} accepted");
    }
    assert!(http_link(&format!("https://x.example/{}", "a".repeat(LINK_CHARS))).is_none());
}

#[test]
fn slack_mrkdwn_makes_mentions_and_links_inert() {
    assert_eq!(slack_mrkdwn("<!channel>"), "&lt;!channel&gt;");
    assert_eq!(slack_mrkdwn("<@U123>"), "&lt;@U123&gt;");
    assert_eq!(
        slack_mrkdwn("<https://evil|click>"),
        "&lt;https://evil|click&gt;"
    );
    assert_eq!(slack_mrkdwn("&amp;"), "&amp;amp;");
}

#[test]
fn slack_link_escapes_url_and_label() {
    assert_eq!(
        slack_link("https://x.example/?a=1&b=2|x", "Open <!here>"),
        "<https://x.example/?a=1&amp;b=2%7Cx|Open &lt;!here&gt;>"
    );
    assert_eq!(
        slack_link("javascript:alert(1)", "Open"),
        "Open (javascript:alert(1))"
    );
}

#[test]
fn slack_quote_prefixes_every_line() {
    assert_eq!(slack_quote("a\nb"), ">a\n>b");
}

#[test]
fn card_markdown_escapes_control_characters() {
    assert_eq!(
        card_markdown("*b* _i_ [x](javascript:alert(1)) `c` # h ~s~ a|b \\"),
        "\\*b\\* \\_i\\_ \\[x\\]\\(javascript:alert\\(1\\)\\) \\`c\\` \\# h \\~s\\~ a\\|b \\\\"
    );
    assert_eq!(
        card_markdown("- item\n> quote\n+ x"),
        "\\- item\n\\> quote\n\\+ x"
    );
    assert_eq!(card_markdown("a-b+c"), "a-b+c");
    assert_eq!(
        card_markdown("<at>x</at> &amp;"),
        "\\<at\\>x\\</at\\> \\&amp;"
    );
}

#[test]
fn fit_shrinks_the_budget_until_the_escaped_text_fits() {
    let raw = "&".repeat(10_000);
    let limit = Limit::chars("test", "text", 3_000);
    let out = fit_text(limit, 3_000, |budget| {
        Ok(format!("key: {}", slack_mrkdwn(&cut_chars(&raw, budget))))
    })
    .unwrap();
    assert!(chars(&out) <= 3_000);
    assert!(chars(&out) > 2_900, "cut too far: {}", chars(&out));
    assert!(out.ends_with("&amp;…"));
}

#[test]
fn fit_reports_a_fixed_part_that_cannot_fit() {
    let limit = Limit::bytes("test", "body", 10);
    let err = fit_text(limit, 5, |_| Ok("x".repeat(11))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "test: body cannot fit 10 bytes even with all user text cut"
    );
}
