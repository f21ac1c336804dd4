//! Every template parses; each channel renders a normal notice (key
//! fragments asserted, not a golden file).

use super::templates::{environment, TEMPLATES};
use super::*;

/// A normal notice: a status change by a person, matched by a rule.
pub(super) fn sample() -> Notice {
    Notice {
        case_key: "SEC-123".to_string(),
        title: "Database latency above SLO".to_string(),
        project: "Security".to_string(),
        status: "In Progress".to_string(),
        priority: "P2".to_string(),
        change: Change::Status {
            from: "Open".to_string(),
            to: "In Progress".to_string(),
        },
        actor_name: Some("Ada Lovelace".to_string()),
        link: "https://cases.example.com/SEC-123".to_string(),
        rule_name: Some("Escalate P1/P2".to_string()),
    }
}

/// The sample with another change.
pub(super) fn with_change(change: Change) -> Notice {
    Notice { change, ..sample() }
}

#[test]
fn every_template_parses_and_the_environment_builds() {
    assert!(TEMPLATES.len() >= 11);
    let env = environment().unwrap();
    for (name, _) in TEMPLATES {
        env.get_template(name).unwrap();
    }
    renderer().unwrap();
}

#[test]
fn a_broken_template_is_a_parse_error_naming_it() {
    let mut env = minijinja::Environment::new();
    let err = env
        .add_template("broken.txt", "{% if x %}never closed")
        .map_err(|e| RenderError::Parse {
            template: "broken.txt",
            message: e.to_string(),
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("'broken.txt' does not parse"),
        "{err}"
    );
}

#[test]
fn email_renders_key_title_change_actor_and_link() {
    let email = render_email(&sample()).unwrap();
    assert_eq!(
        email.subject,
        "[SEC-123] Database latency above SLO: Status changed from Open to In Progress"
    );
    let common = [
        "SEC-123",
        "Database latency above SLO",
        "Status changed from Open to In Progress",
        "Ada Lovelace",
    ];
    for fragment in common {
        assert!(
            email.text.contains(fragment),
            "{fragment} missing in {}",
            email.text
        );
        assert!(
            email.html.contains(fragment),
            "{fragment} missing in {}",
            email.html
        );
    }
    assert!(email.text.contains("Rule:     Escalate P1/P2"));
    assert!(email.html.contains("Escalate P1&#x2f;P2"));
    assert!(email
        .text
        .contains("Open the case: https://cases.example.com/SEC-123"));
    assert!(email
        .html
        .contains("<a href=\"https:&#x2f;&#x2f;cases.example.com&#x2f;SEC-123\">Open SEC-123</a>"));
}

#[test]
fn email_text_layout_is_stable() {
    let text = render_email(&with_change(Change::Comment {
        excerpt: "first line\nsecond line".to_string(),
    }))
    .unwrap()
    .text;
    let expected = "SEC-123: Database latency above SLO\n\nNew comment (by Ada Lovelace)\n\n\
        first line\nsecond line\n\nProject:  Security\nStatus:   In Progress\nPriority: P2\n\
        Rule:     Escalate P1/P2\n\nOpen the case: https://cases.example.com/SEC-123";
    assert_eq!(text, expected);
}

#[test]
fn slack_renders_key_title_change_actor_and_link() {
    let slack = render_slack(&sample()).unwrap();
    let blocks = slack.blocks.as_array().unwrap();
    assert_eq!(blocks.len(), 4);
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(
        blocks[0]["text"]["text"],
        "SEC-123: Database latency above SLO"
    );
    assert_eq!(
        blocks[1]["text"]["text"],
        "*<https://cases.example.com/SEC-123|Open SEC-123>* Database latency above SLO"
    );
    assert_eq!(
        blocks[2]["text"]["text"],
        "Status changed from Open to In Progress by *Ada Lovelace*"
    );
    assert_eq!(
        blocks[3]["elements"][0]["text"],
        "Security · Status: In Progress · Priority: P2 · Rule: Escalate P1/P2"
    );
    assert!(slack
        .text
        .starts_with("SEC-123: Database latency above SLO: Status changed"));
    assert!(slack.text.contains("(by Ada Lovelace)"));
    assert!(slack
        .text
        .contains("<https://cases.example.com/SEC-123|Open SEC-123>"));
}

#[test]
fn slack_quotes_a_comment() {
    let slack = render_slack(&with_change(Change::Comment {
        excerpt: "looks bad\n> not a quote".to_string(),
    }))
    .unwrap();
    assert_eq!(
        slack.blocks[2]["text"]["text"],
        "New comment by *Ada Lovelace*\n\n>looks bad\n>&gt; not a quote"
    );
}

#[test]
fn teams_renders_key_title_change_actor_and_link() {
    let teams = render_teams(&sample()).unwrap();
    let card = &teams.card;
    assert_eq!(card["type"], "message");
    let attachment = &card["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let content = &attachment["content"];
    assert_eq!(content["type"], "AdaptiveCard");
    assert_eq!(content["version"], "1.4");
    let body = content["body"].as_array().unwrap();
    assert_eq!(body[0]["text"], "SEC-123 · Security");
    assert_eq!(body[1]["text"], "Database latency above SLO");
    assert_eq!(
        body[2]["text"],
        "Status changed from Open to In Progress by **Ada Lovelace**"
    );
    assert_eq!(body[3]["facts"][0]["value"], "In Progress");
    assert_eq!(content["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(
        content["actions"][0]["url"],
        "https://cases.example.com/SEC-123"
    );
    assert_eq!(content["actions"][0]["title"], "Open SEC-123");
}

#[test]
fn pagerduty_renders_key_title_change_actor_and_link() {
    let pd = render_pagerduty(&sample()).unwrap();
    assert_eq!(
        pd.summary,
        "[SEC-123] Database latency above SLO: Status changed from Open to In Progress (by Ada Lovelace)"
    );
    let d = &pd.custom_details;
    assert_eq!(d["case_key"], "SEC-123");
    assert_eq!(d["title"], "Database latency above SLO");
    assert_eq!(d["change"], "Status changed from Open to In Progress");
    assert_eq!(d["changed_by"], "Ada Lovelace");
    assert_eq!(d["link"], "https://cases.example.com/SEC-123");
    assert_eq!(d["rule"], "Escalate P1/P2");
}

#[test]
fn every_change_kind_has_a_summary() {
    let s = |c: Change| c.summary();
    assert_eq!(s(Change::Created), "Case created");
    assert_eq!(
        s(Change::Priority {
            from: "P3".into(),
            to: "P1".into()
        }),
        "Priority changed from P3 to P1"
    );
    assert_eq!(
        s(Change::Assigned {
            to: Some("Bo".into())
        }),
        "Assigned to Bo"
    );
    assert_eq!(s(Change::Assigned { to: None }), "Unassigned");
    assert_eq!(
        s(Change::Attribute {
            field: "team".into(),
            from: None,
            to: Some("ops".into())
        }),
        "team set to ops"
    );
    assert_eq!(
        s(Change::Attribute {
            field: "team".into(),
            from: Some("ops".into()),
            to: None
        }),
        "team cleared (was ops)"
    );
    assert_eq!(
        s(Change::SlaBreached {
            metric: "tta".into()
        }),
        "SLA breached: tta"
    );
    assert_eq!(s(Change::Other("Merged".into())), "Merged");
}

#[test]
fn a_system_change_without_actor_or_rule_renders_everywhere() {
    let notice = Notice {
        actor_name: None,
        rule_name: None,
        ..with_change(Change::Created)
    };
    let email = render_email(&notice).unwrap();
    assert!(!email.text.contains("(by"));
    assert!(!email.text.contains("Rule:"));
    assert!(!render_slack(&notice).unwrap().text.contains("(by"));
    assert!(!render_pagerduty(&notice).unwrap().summary.contains("(by"));
    let teams = render_teams(&notice).unwrap();
    assert_eq!(
        teams.card["attachments"][0]["content"]["body"][2]["text"],
        "Case created"
    );
}
