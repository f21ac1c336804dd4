//! Unit tests of the configuration.

use super::*;

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
    assert_eq!(p.statuses.closed, "done");
    assert_eq!(p.mode_of_jira_field("customfield_10050"), SyncMode::TwoWay);
    assert_eq!(p.mode_of_jira_field("duedate"), SyncMode::OneWay);
    assert!(p.has_inbound());
    assert!(c.check().is_empty(), "{:?}", c.check());
    assert!(!format!("{p:?}").contains("s3cret"));
}

#[test]
fn reports_bad_values_with_key_paths() {
    let bad = YAML
        .replace("https://acme", "ftp://acme")
        .replace("P2: High", "P9: High")
        .replace("customfield_10050", "env_field");
    let c: JiraConfig = serde_yaml::from_str(&bad).unwrap();
    let p: Vec<String> = c.check().iter().map(ToString::to_string).collect();
    let p = p.join("\n");
    assert!(p.contains("projects.p1.site_url"), "{p}");
    assert!(p.contains("projects.p1.priorities"), "{p}");
    assert!(p.contains("projects.p1.custom_fields[0].field_id"), "{p}");
    let unknown = YAML.replace("project_key: OPS", "project_key: OPS\n    bogus: 1");
    assert!(serde_yaml::from_str::<JiraConfig>(&unknown).is_err());
}
