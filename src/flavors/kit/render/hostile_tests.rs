//! Hostile titles and comments: markup stays inert, limits hold, JSON is valid.

use super::limits::*;
use super::tests::{sample, with_change};
use super::*;

const HOSTILE: &str = "<!channel> <script>alert(1)</script> *bold* [x](javascript:alert(1)) \
    <https://evil.example|click> &amp;";

fn titled(title: &str) -> Notice {
    Notice {
        title: title.to_string(),
        ..sample()
    }
}

fn hostile_notices() -> Vec<Notice> {
    let huge = "x".repeat(100_000);
    let huge_wide = "🔥<&>*".repeat(20_000);
    vec![
        titled(HOSTILE),
        titled(&huge),
        titled(&huge_wide),
        titled("line one\r\nBcc: victim@example.com\nline three"),
        titled("שלום עולם 👩‍👩‍👧 e\u{301}\u{302} \u{202E}txet desrever"),
        Notice {
            actor_name: Some(HOSTILE.to_string()),
            rule_name: Some(huge.clone()),
            project: huge.clone(),
            link: "javascript:alert(1)".to_string(),
            ..with_change(Change::Comment {
                excerpt: format!("{HOSTILE}\n- item\n{huge_wide}"),
            })
        },
        Notice {
            title: huge.clone(),
            ..with_change(Change::Attribute {
                field: HOSTILE.to_string(),
                from: Some(huge.clone()),
                to: Some(huge_wide.clone()),
            })
        },
    ]
}

fn slack_texts(slack: &Slack) -> Vec<String> {
    let blocks = slack.blocks.as_array().unwrap();
    let mut texts = vec![slack.text.clone()];
    for block in blocks {
        if let Some(t) = block["text"]["text"].as_str() {
            texts.push(t.to_string());
        }
        for e in block["elements"].as_array().into_iter().flatten() {
            texts.push(e["text"].as_str().unwrap().to_string());
        }
    }
    texts
}

#[test]
fn email_is_escaped_and_the_subject_is_one_short_line() {
    for notice in hostile_notices() {
        let email = render_email(&notice).unwrap();
        assert!(!email.subject.contains('\r') && !email.subject.contains('\n'));
        assert!(email.subject.chars().count() <= EMAIL_SUBJECT_CHARS);
        assert!(!email.html.contains("<script>"), "raw script in html");
        assert!(!email.html.contains("href=\"javascript"));
        assert!(!email.html.contains("<https://evil"));
        assert!(email.text.lines().all(|l| !l.starts_with("Bcc:")));
    }
    let email = render_email(&titled(HOSTILE)).unwrap();
    assert!(email
        .html
        .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
    assert!(email.html.contains("&amp;amp;"));
}

#[test]
fn email_html_puts_only_http_links_in_href() {
    let notice = Notice {
        link: "javascript:alert(1)".to_string(),
        ..sample()
    };
    let html = render_email(&notice).unwrap().html;
    assert!(!html.contains("href"));
    assert!(html.contains("Case link: javascript:alert(1)"));
    let notice = Notice {
        link: "https://x.example/\"><script>alert(1)</script>".to_string(),
        ..sample()
    };
    let html = render_email(&notice).unwrap().html;
    assert!(!html.contains("<script>"));
    assert!(html.contains("href=\"https:&#x2f;&#x2f;x.example&#x2f;&quot;&gt;&lt;script&gt;"));
}

#[test]
fn slack_text_is_inert_and_within_limits() {
    for notice in hostile_notices() {
        let slack = render_slack(&notice).unwrap();
        let blocks = slack.blocks.as_array().unwrap();
        assert!(blocks.len() <= SLACK_MAX_BLOCKS);
        assert!(slack.text.chars().count() <= SLACK_TEXT_CHARS);
        let header = blocks[0]["text"]["text"].as_str().unwrap();
        assert!(
            header.chars().count() <= SLACK_HEADER_CHARS,
            "{}",
            header.chars().count()
        );
        for block in &blocks[1..3] {
            let text = block["text"]["text"].as_str().unwrap();
            assert!(text.chars().count() <= SLACK_SECTION_CHARS);
        }
        let context = blocks[3]["elements"][0]["text"].as_str().unwrap();
        assert!(context.chars().count() <= SLACK_CONTEXT_CHARS);
        for text in slack_texts(&slack) {
            assert!(!text.contains("<!channel>"), "{text}");
            assert!(!text.contains("<script>"));
            assert!(!text.contains("<https://evil"));
            assert!(!text.contains("<javascript"));
        }
        let json = serde_json::to_string(&slack.blocks).unwrap();
        serde_json::from_str::<serde_json::Value>(&json).unwrap();
        assert!(!json.contains("<!channel>"));
    }
}

#[test]
fn slack_cuts_before_escaping_never_inside_an_entity() {
    let slack = render_slack(&titled(&"&".repeat(10_000))).unwrap();
    for text in slack_texts(&slack) {
        let stripped = text.replace("&amp;", "");
        assert!(!stripped.contains('&'), "a cut entity in {text}");
    }
    let title = slack.blocks[1]["text"]["text"].as_str().unwrap();
    assert!(title.ends_with('…'));
    assert!(title.chars().count() <= SLACK_SECTION_CHARS);
    assert!(title.chars().count() > SLACK_SECTION_CHARS - 10);
}

fn card_texts(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v.as_str() {
                    Some(s) if k == "text" || k == "value" => out.push(s.to_string()),
                    _ => card_texts(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| card_texts(v, out)),
        _ => {}
    }
}

/// Whether `text` has a markdown control character that is not backslash-escaped.
fn has_unescaped(text: &str, special: &[char]) -> bool {
    let mut escaped = false;
    for c in text.chars() {
        if !escaped && special.contains(&c) {
            return true;
        }
        escaped = !escaped && c == '\\';
    }
    false
}

#[test]
fn teams_card_cannot_forge_markdown_and_fits_28_kb() {
    for notice in hostile_notices() {
        let teams = render_teams(&notice).unwrap();
        let body = serde_json::to_string(&teams.card).unwrap();
        assert!(body.len() <= TEAMS_BODY_BYTES, "{} bytes", body.len());
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["attachments"][0]["content"]["type"], "AdaptiveCard");
        let mut texts = Vec::new();
        card_texts(&parsed["attachments"][0]["content"]["body"], &mut texts);
        let body_blocks = &parsed["attachments"][0]["content"]["body"];
        let title = body_blocks[1]["text"].as_str().unwrap();
        assert!(
            !has_unescaped(title, &['[', ']', '(', ')', '*', '_', '<', '>']),
            "{title}"
        );
        for text in &texts {
            assert!(!text.contains("[x](javascript"), "{text}");
            assert!(!text.contains("<script>"));
        }
        for action in parsed["attachments"][0]["content"]["actions"]
            .as_array()
            .unwrap()
        {
            assert!(action["url"].as_str().unwrap().starts_with("https://"));
        }
    }
}

#[test]
fn teams_cuts_the_longest_text_first() {
    let notice = Notice {
        actor_name: Some("Ada Lovelace".to_string()),
        ..titled(&"y".repeat(100_000))
    };
    let teams = render_teams(&notice).unwrap();
    let body = &teams.card["attachments"][0]["content"]["body"];
    let title = body[1]["text"].as_str().unwrap();
    assert!(title.ends_with('…'));
    assert!(
        title.chars().count() > 1_000,
        "cut too far: {}",
        title.chars().count()
    );
    assert!(body[2]["text"]
        .as_str()
        .unwrap()
        .contains("**Ada Lovelace**"));
}

#[test]
fn pagerduty_summary_is_one_line_within_1024_chars() {
    for notice in hostile_notices() {
        let pd = render_pagerduty(&notice).unwrap();
        assert!(pd.summary.chars().count() <= PAGERDUTY_SUMMARY_CHARS);
        assert!(!pd.summary.contains('\n') && !pd.summary.contains('\r'));
        assert!(pd.summary.starts_with("[SEC-123] "));
        let details = serde_json::to_string(&pd.custom_details).unwrap();
        assert!(details.len() < 512 * 1024);
        let link = &pd.custom_details["link"];
        assert!(link.is_null() || link.as_str().unwrap().starts_with("https://"));
    }
}

#[test]
fn unicode_survives_every_channel() {
    let title = "שלום עולם 👩‍👩‍👧 e\u{301}\u{302}";
    let notice = titled(title);
    assert!(render_email(&notice).unwrap().subject.contains(title));
    assert!(render_slack(&notice).unwrap().text.contains(title));
    let teams = render_teams(&notice).unwrap();
    assert_eq!(
        teams.card["attachments"][0]["content"]["body"][1]["text"],
        title
    );
    assert!(render_pagerduty(&notice).unwrap().summary.contains(title));
}
