//! Each kind of mistake, with the file, rule id, line, column and message it
//! is reported with; reloads keeping valid rules (the example directory's
//! tests are in `example_tests.rs`).

use super::*;

fn check(text: &str) -> Vec<RuleProblem> {
    let file = SourceFile {
        name: "ACME.yaml".into(),
        text: text.into(),
    };
    match build(&[file]) {
        Ok(_) => Vec::new(),
        Err(problems) => problems,
    }
}

/// The one problem of `text`, checked for its place and message.
#[track_caller]
fn one(text: &str, rule: Option<&str>, line: usize, col: usize, message: &str) -> RuleProblem {
    let problems = check(text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = problems.into_iter().next().unwrap();
    assert_eq!(p.file, "ACME.yaml");
    assert_eq!(p.rule_id.as_deref(), rule, "{p:?}");
    assert_eq!((p.line, p.col), (line, col), "{}", p.render());
    assert!(p.message.contains(message), "{p}");
    p
}

const RULE: &str = "notification_rules:\n  - id: n1\n    triggers: [CASE_CREATED]\n    recipients: [{EMAIL: {email: a@example.com}}]\n";

#[test]
fn an_unknown_field_points_at_its_key() {
    let text = format!("{RULE}    colour: red\n");
    let p = one(
        &text,
        Some("n1"),
        5,
        5,
        "unknown field, expected one of `id`",
    );
    assert_eq!(p.path, "notification_rules[0].colour");
    assert!(
        p.render().ends_with("5 |     colour: red\n  |     ^"),
        "{}",
        p.render()
    );
}

#[test]
fn a_type_error_points_at_the_value() {
    let text = format!("{RULE}    throttle: {{per_case_secs: soon}}\n");
    one(
        &text,
        Some("n1"),
        5,
        31,
        "invalid type: string \"soon\", expected u64",
    );
}

#[test]
fn an_unknown_trigger_is_named_with_the_known_ones() {
    let text = RULE.replace("[CASE_CREATED]", "[CASE_CREATED, CASE_DELETED]");
    one(
        &text,
        Some("n1"),
        3,
        30,
        "unknown variant `CASE_DELETED`, expected one of `CASE_CREATED`",
    );
}

#[test]
fn every_bad_item_of_a_list_is_placed_right() {
    let text = RULE.replace("[CASE_CREATED]", "[SOON, CASE_CREATED, LATER]");
    let problems = check(&text);
    let places: Vec<(&str, usize, usize)> = (problems.iter())
        .map(|p| (p.path.as_str(), p.line, p.col))
        .collect();
    let want = [
        ("notification_rules[0].triggers[0]", 3, 16),
        ("notification_rules[0].triggers[2]", 3, 36),
    ];
    assert_eq!(places, want, "{problems:#?}");
}

#[test]
fn ids_are_unique_across_kinds() {
    let text = format!(
        "{RULE}sla_policies:\n  - id: n1\n    metric: time_to_ack\n    goals: [{{target_secs: 60}}]\n"
    );
    one(
        &text,
        Some("n1"),
        6,
        9,
        "duplicate id `n1` (also at notification_rules[0].id)",
    );
}

#[test]
fn a_bad_query_gets_a_caret_under_the_bad_value() {
    let plain = format!("{RULE}    query: status:open priority:P9\n");
    let p = one(
        &plain,
        Some("n1"),
        5,
        33,
        "invalid query: `P9` is not a valid value for `priority`",
    );
    assert!(
        p.render().ends_with(&format!("\n  | {}^", " ".repeat(32))),
        "{}",
        p.render()
    );
    let quoted = format!("{RULE}    query: \"status:open priority:P9\"\n");
    one(&quoted, Some("n1"), 5, 34, "`P9` is not a valid value");
    let window = "maintenance_windows:\n  - id: w\n    query: \"(status:open\"\n    cron: \"0 2 * * *\"\n    duration_minutes: 60\n";
    one(window, Some("w"), 3, 13, "unbalanced parentheses");
}

#[test]
fn an_http_recipient_names_a_defined_webhook() {
    let text = RULE.replace("{EMAIL: {email: a@example.com}}", "{HTTP: {name: soc}}");
    let p = one(&text, Some("n1"), 4, 32, "no webhook endpoint named `soc`");
    assert_eq!(p.path, "notification_rules[0].recipients[0].HTTP.name");
    let defined = format!("webhooks:\n  - name: soc\n    url: https://soc.example.com/h\n{text}");
    assert!(check(&defined).is_empty());
}

#[test]
fn routes_and_pages_name_teams_and_users_of_the_directory() {
    let text = "directory:\n  teams: [{id: secops}]\n  users: [{id: alice, email: a@example.com, teams: [secops]}]\n\
                assignment:\n  routes:\n    - id: r1\n      query: team:payments\n      team: payments\n\
                escalation_queries:\n  - id: e1\n    query: priority:P1\n    target: {user_id: bob}\n";
    let problems = check(text);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!((problems[0].line, problems[0].col), (8, 13));
    assert_eq!(problems[0].rule_id.as_deref(), Some("r1"));
    assert!(problems[0]
        .message
        .contains("no team `payments` in the directory"));
    assert_eq!((problems[1].line, problems[1].col), (12, 23));
    assert_eq!(problems[1].rule_id.as_deref(), Some("e1"));
    assert!(problems[1]
        .message
        .contains("no user `bob` in the directory"));
}

#[test]
fn a_webhook_signing_secret_is_refused_and_never_shown() {
    let text = "webhooks:\n  - name: soc\n    url: https://soc.example.com/h\n    secret: whsec_Zm9vYmFy\n";
    let p = one(
        text,
        Some("soc"),
        4,
        13,
        "looks like a webhook signing secret",
    );
    assert!(!p.render().contains("whsec_"), "{}", p.render());
}

#[test]
fn a_slack_token_is_refused() {
    let text = RULE.replace(
        "{EMAIL: {email: a@example.com}}",
        "{SLACK_CHANNEL: {workspace_id: T1, channel_id: C1, secret: xoxb-1234-abcd}}",
    );
    let p = one(&text, Some("n1"), 4, 77, "looks like a Slack token");
    assert!(!p.render().contains("xoxb"), "{}", p.render());
}

#[test]
fn a_url_with_credentials_is_refused() {
    let text = "webhooks:\n  - name: soc\n    url: \"https://bot:hunter2@soc.example.com/h\"\n";
    let p = one(
        text,
        Some("soc"),
        3,
        11,
        "looks like a URL with a user name and password",
    );
    assert!(!p.render().contains("hunter2"), "{}", p.render());
}

#[test]
fn a_teams_workflows_url_is_refused() {
    let url = "https://prod-1.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t";
    let text = format!("webhooks:\n  - name: teams\n    url: {url}\n");
    let p = one(
        &text,
        Some("teams"),
        3,
        36,
        "looks like a Microsoft Teams webhook URL",
    );
    assert!(!p.render().contains("s3cr3t"), "{}", p.render());
}

#[test]
fn one_ticket_system_per_project() {
    let jira = "    enabled: true\n    site_url: https://acme.atlassian.net\n    secret: jira-acme\n    webhook_secret: jira-hook\n    project_key: ACME\n    account_id: bot\n";
    let text = format!("project: {{id: p1}}\nintegrations:\n  jira:\n{jira}  servicenow:\n    enabled: true\n    instance_name: acme\n");
    let p = one(
        &text,
        None,
        11,
        14,
        "one external ticket system per project",
    );
    assert_eq!(p.path, "integrations.servicenow.enabled");
    let one_of_them = text.replace(
        "    enabled: true\n    instance_name",
        "    enabled: false\n    instance_name",
    );
    assert!(check(&one_of_them).is_empty());
}

#[test]
fn a_yaml_syntax_error_has_its_position() {
    let problems = check("notification_rules:\n  - id: [oops\n");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].message.starts_with("not valid YAML"),
        "{}",
        problems[0]
    );
    assert!(problems[0].line >= 2, "{}", problems[0]);
}

#[test]
fn a_duplicate_key_points_at_the_second_one() {
    let text = RULE.replace("    triggers:", "    id: n2\n    triggers:");
    let problems = check(&text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(
        (problems[0].line, problems[0].col),
        (3, 5),
        "{}",
        problems[0].render()
    );
    assert!(
        problems[0]
            .message
            .contains("duplicate entry with key \"id\""),
        "{}",
        problems[0]
    );
}

#[test]
fn fire_applies_to_rules_with_a_query_edge() {
    let text = "automation_rules:\n  - id: a1\n    trigger: CASE_CREATED\n    fire: every_rising_edge\n    \
                action: {EXECUTE_WORKFLOW: {handle: h}}\n";
    one(text, Some("a1"), 4, 11, "`fire` needs a `condition_query`");
    let with_query = text.replace("    fire:", "    condition_query: priority:P1\n    fire:");
    assert!(check(&with_query).is_empty());
}

#[test]
fn schedules_are_the_runtime_windows() {
    let text = "maintenance_windows:\n  - id: w\n    start: 2027-01-02T00:00:00Z\n    end: 2027-01-01T00:00:00Z\n";
    one(text, Some("w"), 3, 5, "schedule: end must be after start");
}

#[test]
fn a_calendar_that_never_opens_is_refused() {
    let policy = "sla_policies:\n  - id: s1\n    metric: time_to_ack\n    goals: [{target_secs: 60}]\n    \
                  calendar:\n      timezone: Europe/Paris\n      days: [mon]\n      start: \"09:00\"\n      end: \"09:00\"\n";
    one(policy, Some("s1"), 9, 12, "`start` equals `end`");
    let no_days = policy
        .replace("days: [mon]", "days: []")
        .replace("end: \"09:00\"", "end: \"17:00\"");
    one(&no_days, Some("s1"), 7, 13, "at least one working day");
}

#[test]
fn every_file_is_checked_and_every_problem_reported() {
    let good = SourceFile {
        name: "OK.yaml".into(),
        text: RULE.into(),
    };
    let bad = SourceFile {
        name: "BAD.yaml".into(),
        text: format!("{RULE}    colour: red\n    shade: blue\n"),
    };
    let problems = build(&[good.clone(), bad]).unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems.iter().all(|p| p.file == "BAD.yaml"));
    let snapshot = build(&[good]).unwrap();
    assert_eq!(snapshot.project("OK").unwrap().entries.len(), 1);
}

#[test]
fn versions_change_with_the_rule_only() {
    let v = |text: &str| {
        let files = [SourceFile {
            name: "A.yaml".into(),
            text: text.into(),
        }];
        let snapshot = build(&files).unwrap();
        let project = snapshot.project("A").unwrap().clone();
        (snapshot.version().to_owned(), project)
    };
    let two = format!("{RULE}  - id: n2\n    triggers: [COMMENT_ADDED]\n    recipients: [{{EMAIL: {{email: b@example.com}}}}]\n");
    let (v1, p1) = v(&two);
    let (v2, p2) = v(&two.replace("b@example.com", "c@example.com"));
    assert_ne!(v1, v2);
    assert_ne!(p1.version, p2.version);
    assert_eq!(p1.rule_version("n1"), p2.rule_version("n1"));
    assert_ne!(p1.rule_version("n2"), p2.rule_version("n2"));
    assert_eq!(p1.version.len(), VERSION_LEN);
}

#[test]
fn an_invalid_edit_keeps_the_previous_rules_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SEC.yaml");
    std::fs::write(&path, RULE).unwrap();
    std::fs::write(dir.path().join("..data"), "ignored").unwrap();
    let rules = Rules::load(dir.path()).unwrap();
    let first = rules.snapshot();
    let changes = rules.subscribe();
    assert!(matches!(rules.reload(), Reload::Unchanged));

    std::fs::write(&path, format!("{RULE}    colour: red\n")).unwrap();
    let Reload::Rejected(problems) = rules.reload() else {
        panic!("an invalid edit is rejected");
    };
    assert_eq!(problems[0].path, "notification_rules[0].colour");
    assert_eq!(
        rules.snapshot().version(),
        first.version(),
        "the previous rules stay"
    );
    assert!(!changes.has_changed().unwrap());
    assert!(matches!(rules.reload(), Reload::Unchanged), "rejected once");
    let metrics = crate::telemetry::metrics::render();
    let rejected = crate::telemetry::metrics::find(
        &metrics,
        "ceh_rules_loads_total",
        &[("result", "rejected")],
    );
    assert!(rejected.is_some_and(|n| n >= 1.0), "{metrics}");

    std::fs::write(&path, RULE.replace("a@example.com", "b@example.com")).unwrap();
    let Reload::Applied(version) = rules.reload() else {
        panic!("a valid edit is applied");
    };
    assert!(changes.has_changed().unwrap());
    assert_eq!(rules.snapshot().version(), version);
    assert_ne!(version, first.version());
    assert_eq!(
        first.project("SEC").unwrap().entries.len(),
        1,
        "old snapshots are untouched"
    );
}

#[test]
fn a_webhook_names_case_event_types_a_valid_query_and_a_current_secret() {
    let base = "webhooks:\n  - name: soc\n    url: https://soc.example.com/h\n";
    one(
        &format!("{base}    secret: s\n    events: [case.created, case.nope]\n"),
        Some("soc"),
        5,
        28,
        "unknown event type `case.nope`",
    );
    one(
        &format!("{base}    secret: s\n    events: [rule.changed]\n"),
        Some("soc"),
        5,
        14,
        "`rule.changed` is not a case event",
    );
    one(
        &format!("{base}    secret: s\n    query: \"priority:\"\n"),
        Some("soc"),
        5,
        22,
        "invalid query",
    );
    one(
        &format!("{base}    previous_secrets: [old]\n"),
        Some("soc"),
        4,
        5,
        "needs `secret`",
    );
    let ok = format!("{base}    secret: s\n    previous_secrets: [old]\n    events: [case.created]\n    query: \"priority:P1\"\n    enabled: false\n");
    assert!(check(&ok).is_empty(), "{:#?}", check(&ok));
}
