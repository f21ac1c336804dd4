//! Unit tests of the configuration: the flavor's section, and a project's
//! `integrations.jira` section of the rules (its checks are `rules check`'s,
//! in `rules::validate`).

use super::*;

use crate::flavors::kit::load_config;
use crate::rules::schema::jira::{CasePriority, StatusCategory};

/// The default `runtime.handler_timeout_ms`.
const HANDLER: Duration = Duration::from_secs(30);

/// A project's rules file with a Jira section (secrets by name).
const RULES: &str = "project: {id: p1}
integrations:
  jira:
    enabled: true
    site_url: https://acme.atlassian.net
    email: bot@acme.test
    secret: jira-token
    project_key: OPS
    account_id: acc-bot
    webhook_secret: jira-hook
    fields: {description: two-way, labels: none}
    priorities: {P1: Highest, P2: High}
    users: {u-1: acc-1}
    custom_fields:
      - {attribute: env, field_id: customfield_10050, shape: select, mode: two-way}
";

fn problems(text: &str) -> Vec<String> {
    let file = crate::rules::SourceFile {
        name: "SEC.yaml".into(),
        text: text.into(),
    };
    match crate::rules::build(&[file]) {
        Ok(_) => Vec::new(),
        Err(found) => found
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect(),
    }
}

fn resolver() -> SecretResolver {
    let mut settings = crate::settings::RulesSettings::default();
    settings.secrets.insert("jira_token".into(), "t0k".into());
    settings.secrets.insert("jira_hook".into(), "s3cret".into());
    SecretResolver::new(&settings)
}

fn section(text: &str) -> Jira {
    let file: crate::rules::ProjectFile = serde_yaml::from_str(text).unwrap();
    file.integrations.jira.expect("a jira section")
}

#[test]
fn a_section_parses_with_defaults_and_resolves_its_secrets() {
    assert_eq!(problems(RULES), Vec::<String>::new());
    let p = ProjectConfig::resolve(&section(RULES), &resolver()).unwrap();
    assert!(matches!(&p.auth, Auth::Basic { email, .. } if email == "bot@acme.test"));
    assert_eq!(p.fields.description, SyncMode::TwoWay);
    assert_eq!(p.fields.title, SyncMode::TwoWay);
    assert_eq!(p.fields.labels, SyncMode::None);
    assert_eq!(p.statuses.closed, StatusCategory::Done);
    assert_eq!(p.priorities[&CasePriority::P2], "High");
    assert_eq!(p.issue_type, "Task");
    assert!(p.auto_creation && p.comments);
    assert_eq!(p.mode_of_jira_field("customfield_10050"), SyncMode::TwoWay);
    assert_eq!(p.mode_of_jira_field("duedate"), SyncMode::OneWay);
    assert!(p.has_inbound());
    assert_eq!(p.webhook_secret.as_ref().unwrap().expose(), "s3cret");
    assert!(!format!("{p:?}").contains("s3cret"));
    assert!(!format!("{p:?}").contains("t0k"));

    let bearer = ProjectConfig::resolve(
        &section(&RULES.replace("    email: bot@acme.test\n", "")),
        &resolver(),
    );
    assert!(matches!(bearer.unwrap().auth, Auth::Bearer { .. }));
}

#[test]
fn a_secret_that_cannot_be_read_is_named_by_its_key() {
    let err = ProjectConfig::resolve(&section(RULES), &SecretResolver::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("integrations.jira.secret: "), "{text}");
    assert!(text.contains("jira-token"), "{text}");
}

#[test]
fn rules_check_reports_bad_jira_settings_by_key_path() {
    let bad = RULES
        .replace("https://acme", "ftp://acme")
        .replace("customfield_10050", "env_field")
        .replace("project: {id: p1}\n", "")
        .replace("    webhook_secret: jira-hook\n", "");
    let p = problems(&bad).join("\n");
    for path in [
        "integrations.jira.site_url",
        "integrations.jira.custom_fields[0].field_id",
        "integrations.jira.enabled: an enabled Jira needs `project.id`",
        "integrations.jira.fields: a field syncs two-way",
    ] {
        assert!(p.contains(path), "{path} in {p}");
    }
    let unknown = problems(&RULES.replace("project_key: OPS", "project_key: OPS\n    bogus: 1"));
    assert!(
        unknown
            .iter()
            .any(|p| p.starts_with("integrations.jira.bogus")),
        "{unknown:?}"
    );
    let value = problems(&RULES.replace("secret: jira-token", "secret: whsec_abc"));
    assert!(
        value.iter().any(|p| p.contains("integrations.jira.secret")),
        "{value:?}"
    );
}

#[test]
fn vendor_vocabularies_are_refused_naming_the_allowed_values() {
    let p = problems(&RULES.replace("P2: High", "P9: High")).join("\n");
    assert!(p.contains("integrations.jira.priorities"), "{p}");
    assert!(p.contains("P9") && p.contains("NOT_DEFINED"), "{p}");

    let bad_category = format!("{RULES}    statuses: {{closed: finished}}\n");
    let p = problems(&bad_category).join("\n");
    assert!(p.contains("integrations.jira.statuses.closed"), "{p}");
    for allowed in ["new", "indeterminate", "done"] {
        assert!(p.contains(allowed), "{allowed} in {p}");
    }

    let every =
        format!("{RULES}    statuses: {{open: new, in_progress: indeterminate, closed: done}}\n");
    let every = every.replace("P2: High", "P2: High, P5: Lowest, NOT_DEFINED: Medium");
    assert_eq!(problems(&every), Vec::<String>::new());
    let p = section(&every);
    assert_eq!(p.statuses.in_progress.key(), "indeterminate");
    assert_eq!(p.priorities[&CasePriority::NotDefined], "Medium");
    assert_eq!(
        CasePriority::from(crate::event::pb::Priority::Unspecified),
        CasePriority::NotDefined
    );
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
    let base = "webhook_max_body_bytes: 1048576\n";
    assert_eq!(problems_of(base), Vec::<String>::new());
    let at_handler = format!("{base}timeout_ms: 30000\n");
    assert_eq!(
        problems_of(&at_handler),
        ["flavors.jira.timeout_ms: must be above 0 and below the runtime's handler_timeout_ms"]
    );
    // The flavor's own runtime override is the handler timeout that counts.
    let own_runtime = format!("{base}timeout_ms: 5000\nruntime: {{handler_timeout_ms: 5000}}\n");
    assert_eq!(
        problems_of(&own_runtime).len(),
        1,
        "{:?}",
        problems_of(&own_runtime)
    );
    let below = format!("{base}timeout_ms: 4999\nruntime: {{handler_timeout_ms: 5000}}\n");
    assert_eq!(problems_of(&below), Vec::<String>::new());
    let zero = format!("{base}timeout_ms: 0\n");
    assert_eq!(problems_of(&zero).len(), 1);
    let c: JiraConfig = serde_yaml::from_str(base).unwrap();
    assert!(c.check(HANDLER).is_empty());
}

#[test]
fn the_old_projects_section_is_refused_saying_where_it_moved() {
    let old = "projects:\n  p1:\n    site_url: https://acme.atlassian.net\n    webhook_secret: s\n";
    let p = problems_of(old);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("flavors.jira.projects: "), "{p:?}");
    assert!(
        p[0].contains("integrations.jira") && p[0].contains("rules.dir"),
        "{p:?}"
    );
    assert!(!p[0].contains("webhook_secret: s"), "{p:?}");
}
