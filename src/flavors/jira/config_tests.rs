//! Unit tests of the configuration.

use super::*;

use crate::flavors::kit::load_config;

/// The default `runtime.handler_timeout_ms`.
const HANDLER: Duration = Duration::from_secs(30);

const YAML: &str = "
projects:
  p1:
    site_url: https://acme.atlassian.net
    auth: {kind: basic, email: bot@acme.test, api_token: t0k}
    project_key: OPS
    account_id: acc-bot
    webhook_secret: s3cret
    fields: {description: two-way, labels: none}
    priorities: {P1: Highest, P2: High}
    users: {u-1: acc-1}
    custom_fields:
      - {attribute: env, field_id: customfield_10050, shape: select, mode: two-way}
";

#[test]
fn parses_with_defaults_and_validates() {
    let c: JiraConfig = serde_yaml::from_str(YAML).unwrap();
    assert_eq!(c.webhook_max_body_bytes, 1 << 20);
    let p = &c.projects["p1"];
    assert!(matches!(p.auth, Auth::Basic { .. }));
    assert_eq!(p.fields.description, SyncMode::TwoWay);
    assert_eq!(p.fields.title, SyncMode::TwoWay);
    assert_eq!(p.fields.labels, SyncMode::None);
    assert_eq!(p.statuses.closed, StatusCategory::Done);
    assert_eq!(p.priorities[&CasePriority::P2], "High");
    assert_eq!(p.mode_of_jira_field("customfield_10050"), SyncMode::TwoWay);
    assert_eq!(p.mode_of_jira_field("duedate"), SyncMode::OneWay);
    assert!(p.has_inbound());
    assert!(c.check(HANDLER).is_empty(), "{:?}", c.check(HANDLER));
    assert!(!format!("{p:?}").contains("s3cret"));
}

#[test]
fn reports_bad_values_with_key_paths() {
    let bad = YAML
        .replace("https://acme", "ftp://acme")
        .replace("customfield_10050", "env_field");
    let c: JiraConfig = serde_yaml::from_str(&bad).unwrap();
    let p: Vec<String> = c.check(HANDLER).iter().map(ToString::to_string).collect();
    let p = p.join("\n");
    assert!(p.contains("projects.p1.site_url"), "{p}");
    assert!(p.contains("projects.p1.custom_fields[0].field_id"), "{p}");
    let unknown = YAML.replace("project_key: OPS", "project_key: OPS\n    bogus: 1");
    assert!(serde_yaml::from_str::<JiraConfig>(&unknown).is_err());
}

/// `flavors.jira` in default settings, with `runtime` overrides if any.
fn settings_with(section: &str) -> Settings {
    let mut settings = Settings::default();
    let section: serde_yaml::Value = serde_yaml::from_str(section).unwrap();
    settings.flavors.insert("jira".into(), section);
    settings
}

fn problems_of(section: &str) -> Vec<String> {
    let settings = settings_with(section);
    match load_config::<JiraConfig>(&settings, "jira") {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_timeout_at_or_past_the_handler_timeout_is_refused_by_its_key_path() {
    assert_eq!(problems_of(YAML), Vec::<String>::new());
    let at_handler = format!("{YAML}\ntimeout_ms: 30000\n");
    assert_eq!(
        problems_of(&at_handler),
        ["flavors.jira.timeout_ms: must be above 0 and below the runtime's handler_timeout_ms"]
    );
    // The flavor's own runtime override is the handler timeout that counts.
    let own_runtime = format!("{YAML}\ntimeout_ms: 5000\nruntime: {{handler_timeout_ms: 5000}}\n");
    assert_eq!(
        problems_of(&own_runtime).len(),
        1,
        "{:?}",
        problems_of(&own_runtime)
    );
    let below = format!("{YAML}\ntimeout_ms: 4999\nruntime: {{handler_timeout_ms: 5000}}\n");
    assert_eq!(problems_of(&below), Vec::<String>::new());
    let zero = format!("{YAML}\ntimeout_ms: 0\n");
    assert_eq!(problems_of(&zero).len(), 1);
}

#[test]
fn vendor_vocabularies_are_refused_by_key_naming_the_allowed_values() {
    let bad_priority = YAML.replace("P2: High", "P9: High");
    let p = problems_of(&bad_priority).join("\n");
    assert!(p.contains("flavors.jira.projects.p1.priorities"), "{p}");
    assert!(
        p.contains("unknown variant `P9`") && p.contains("`NOT_DEFINED`"),
        "{p}"
    );

    let bad_category = format!("{YAML}    statuses: {{closed: finished}}\n");
    let p = problems_of(&bad_category).join("\n");
    assert!(
        p.contains("flavors.jira.projects.p1.statuses.closed"),
        "{p}"
    );
    for allowed in ["`new`", "`indeterminate`", "`done`"] {
        assert!(p.contains(allowed), "{allowed} in {p}");
    }

    let every =
        format!("{YAML}    statuses: {{open: new, in_progress: indeterminate, closed: done}}\n");
    let every = every.replace("P2: High", "P2: High, P5: Lowest, NOT_DEFINED: Medium");
    let c: JiraConfig = serde_yaml::from_str(&every).unwrap();
    let p = &c.projects["p1"];
    assert_eq!(p.statuses.in_progress.key(), "indeterminate");
    assert_eq!(p.priorities[&CasePriority::NotDefined], "Medium");
    assert_eq!(
        CasePriority::from(crate::event::pb::Priority::Unspecified),
        CasePriority::NotDefined
    );
}
