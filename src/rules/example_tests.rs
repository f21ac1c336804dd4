//! The example directory `examples/rules/`: valid, and the secrets it names
//! resolve through the settings.

use super::*;

#[test]
fn the_example_directory_is_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules");
    let snapshot = load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let sec = snapshot.project("SEC").expect("SEC.yaml");
    assert!(sec
        .rules
        .integrations
        .jira
        .as_ref()
        .is_some_and(|j| j.enabled));
    let rule = &sec.rules.notification_rules[0];
    assert!(!rule.query.query().is_empty(), "queries are compiled");
    assert_eq!(
        sec.rules.escalation_queries[1].fire,
        schema::Fire::EveryRisingEdge
    );
    assert!(snapshot.project("OPS").is_some());
}

#[test]
fn named_secrets_resolve_through_the_settings() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rules");
    let snapshot = load_dir(&dir).unwrap();
    let sec = snapshot.project("SEC").unwrap();
    let names: Vec<&str> = sec
        .secret_refs()
        .iter()
        .map(|(_, s)| s.0.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "soc-intake-signing",
            "soc-intake-signing-2025",
            "slack-acme",
            "jira-acme",
            "jira-acme-webhook"
        ]
    );
    let mut settings = crate::settings::RulesSettings::default();
    for name in [
        "soc_intake_signing",
        "soc_intake_signing_2025",
        "slack_acme",
        "jira_acme",
        "jira_acme_webhook",
        "servicenow_acme",
    ] {
        settings.secrets.insert(name.into(), "value".into());
    }
    let missing = snapshot.unresolved_secrets(&SecretResolver::new(&settings));
    let missing: Vec<(&str, &str)> = missing
        .iter()
        .map(|(f, p, _)| (f.as_str(), p.as_str()))
        .collect();
    assert_eq!(
        missing,
        [("OPS.yaml", "notification_rules[0].recipients[0]")],
        "teams-ops is not configured"
    );
}
