//! Rules as code: per-project YAML files in one directory (`rules.dir`; in
//! Kubernetes a ConfigMap mounted into every flavor's pods).
//!
//! # Files
//!
//! `<dir>/<PROJECT_KEY>.yaml` (or `.yml`) holds one project's rules; the
//! file name is the project key (`SEC.yaml`), `project: {id, name}` inside
//! is optional. Top-level sections (all optional; [`schema::ProjectFile`]):
//! `settings` (auto_assign_on_call, auto_close_inactive_cases,
//! auto_transition_assigned_cases), `directory` (teams, users and their
//! preferences), `webhooks`, `integrations` (jira, servicenow, on_call,
//! incidents), `notification_rules`, `automation_rules`,
//! `escalation_queries`, `incident_escalation`, `maintenance_windows`,
//! `assignment` (routes) and `sla_policies`. Shapes follow domain.md §A.2,
//! §A.3 and §C.4, except `integrations.jira`, which is the jira flavor's
//! per-project settings ([`schema::jira`]: it needs more than §A.2 has); rules that fire on a query's rising edge take
//! `fire: once_per_case | every_rising_edge` (default once per case). An
//! example directory is `examples/rules/`.
//!
//! # Validation
//!
//! The directory is validated whole ([`build`]): unknown fields, type
//! errors, unknown triggers, duplicate ids (unique per project across every
//! kind), dangling references (an `HTTP` recipient naming no webhook, a
//! route, page target or incident commander naming no team or user of the
//! directory), every CQ query compiled, schedules, and one external ticket
//! system per project (Jira XOR ServiceNow). Every problem is reported at
//! once as a [`RuleProblem`]: file, rule id, key path, line and column, and
//! a caret under the offending text. Positions come from `saphyr-parser`'s
//! marked events (`positions.rs`), since serde_yaml 0.9 locates only its
//! own first error; unknown keys and type errors are collected by the
//! settings' collecting deserializer, by key path.
//!
//! # Secrets
//!
//! Never in these files: a rule names a secret (`secret: slack-acme`),
//! resolved by [`SecretResolver`] from `rules.secrets` (so
//! `CEH__RULES__SECRETS__SLACK_ACME`) or the mounted Secret directory
//! `rules.secrets_dir`, as a [`SecretString`](crate::settings::SecretString).
//! Values that look like secrets (`whsec_…`, Slack tokens `xox[abpr]-…`,
//! URLs with `user:password@`, Teams Workflows / incoming-webhook URLs) are
//! refused, and masked in every message.
//!
//! # Reload and snapshots
//!
//! [`Rules`] holds the snapshot in force behind a `tokio::sync::watch`;
//! a handler is to take an `Arc<RulesSnapshot>` ([`Rules::snapshot`]) and
//! keep it for the event, holding no lock while it runs. `app::run` loads
//! the directory before the flavor is built (and refuses invalid rules at
//! start); a flavor whose registry row declares `reads_rules` gets a
//! [`RulesView`] from `BuildCtx::rules` (a clone of the watch receiver and
//! the [`SecretResolver`]), and `RulesView::snapshot` per event. [`watch::spawn`] polls the
//! directory's content hash every `rules.reload_secs`; a valid change
//! replaces the snapshot, an invalid one is rejected whole — each problem
//! logged by path, `ceh_rules_loads_total{result="rejected"}` counted — and
//! the previous rules stay in force. Versions are SHA-256 hex prefixes: of
//! the directory ([`RulesSnapshot::version`], also on
//! `ceh_rules_version_info{project,version}` per project), of each file
//! ([`Project::version`]) and of each rule ([`RuleEntry::version`]).
//!
//! # Explain and diff
//!
//! [`explain()`] says why one rule fired or not for one event (trigger,
//! every query term via [`Query::explain`](crate::query::Query::explain),
//! edge, maintenance windows; throttle and flags are not evaluated
//! offline); [`explain_case`] does so for a case's newest event with its
//! edge state replayed from its earlier ones; [`diff()`] replays events
//! under two rule sets and lists the firings that differ (`rules explain`,
//! `rules diff`; the CLI reads the events from a file or a topic's time
//! range, never edge state from the live table).

pub mod explain;
mod load;
mod positions;
mod problems;
pub mod schema;
mod secrets;
mod validate;
mod view;
pub mod watch;

#[cfg(test)]
mod example_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use explain::{diff, explain, explain_case, explain_in, DiffReport, ExplainError, Explanation};
pub use load::{build, content_hash, load_dir, read_dir, RulesError, SourceFile, VERSION_LEN};
pub use problems::RuleProblem;
pub use schema::ProjectFile;
pub use secrets::{looks_like_secret, mask_secrets, SecretError, SecretKind, SecretResolver};
pub use view::RulesView;
pub use watch::{Reload, Rules};

/// Every project's rules, validated, immutable.
#[derive(Debug, Clone, Default)]
pub struct RulesSnapshot {
    version: String,
    projects: BTreeMap<String, Project>,
}

impl RulesSnapshot {
    pub(crate) fn new(version: String, projects: BTreeMap<String, Project>) -> Self {
        Self { version, projects }
    }

    /// The directory's content hash (empty for the empty snapshot).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// One project's rules, by key (`SEC`).
    pub fn project(&self, key: &str) -> Option<&Project> {
        self.projects.get(key)
    }

    /// Every project, by key.
    pub fn projects(&self) -> impl Iterator<Item = &Project> {
        self.projects.values()
    }

    /// The secrets rules name that `resolver` cannot read, as
    /// `(file, key path, error)`; a flavor logs them at load.
    pub fn unresolved_secrets(
        &self,
        resolver: &SecretResolver,
    ) -> Vec<(String, String, SecretError)> {
        let mut missing = Vec::new();
        for project in self.projects.values() {
            for (path, name) in project.secret_refs() {
                if let Err(e) = resolver.resolve(name) {
                    missing.push((project.file.clone(), path, e));
                }
            }
        }
        missing
    }

    /// Every rule of every project, by project then file order.
    pub fn entries(&self) -> impl Iterator<Item = &RuleEntry> {
        self.projects.values().flat_map(|p| p.entries.iter())
    }
}

/// One project's file.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project key (the file name without extension).
    pub key: String,
    /// The file's name.
    pub file: String,
    /// The file's content hash.
    pub version: String,
    /// What it holds, queries compiled.
    pub rules: ProjectFile,
    /// Its rules, one entry each.
    pub entries: Vec<RuleEntry>,
}

impl Project {
    pub(crate) fn new(key: &str, file: &SourceFile, rules: ProjectFile) -> Self {
        let version = load::short(Sha256::digest(file.text.as_bytes()).as_slice());
        let mut entries = Vec::new();
        let mut add = |kind, id: &str, enabled, rule: &dyn erased::Ser| {
            entries.push(RuleEntry {
                project: key.to_owned(),
                kind,
                id: id.to_owned(),
                enabled,
                version: load::short(Sha256::digest(rule.json()).as_slice()),
            });
        };
        use schema::RuleState;
        for r in &rules.notification_rules {
            add(RuleKind::Notification, &r.id, r.is_enabled, r);
        }
        for r in &rules.automation_rules {
            add(
                RuleKind::Automation,
                &r.id,
                r.state == RuleState::Enabled,
                r,
            );
        }
        for r in &rules.escalation_queries {
            add(RuleKind::Escalation, &r.id, r.enabled, r);
        }
        if let Some(r) = &rules.incident_escalation {
            add(RuleKind::Incident, &r.id, r.enabled, r);
        }
        for r in &rules.maintenance_windows {
            add(RuleKind::MaintenanceWindow, &r.id, true, r);
        }
        for r in &rules.assignment.routes {
            add(RuleKind::Route, &r.id, r.enabled, r);
        }
        for r in &rules.sla_policies {
            add(RuleKind::Sla, &r.id, r.enabled, r);
        }
        Self {
            key: key.to_owned(),
            file: file.name.clone(),
            version,
            rules,
            entries,
        }
    }

    /// The secrets the file names, each with the key path that names it.
    pub fn secret_refs(&self) -> Vec<(String, &schema::SecretRef)> {
        use schema::Recipient;
        let r = &self.rules;
        let mut refs = Vec::new();
        for (i, w) in r.webhooks.iter().enumerate() {
            refs.extend(
                w.secret
                    .as_ref()
                    .map(|s| (format!("webhooks[{i}].secret"), s)),
            );
            for (j, s) in w.previous_secrets.iter().enumerate() {
                refs.push((format!("webhooks[{i}].previous_secrets[{j}]"), s));
            }
        }
        for (i, rule) in r.notification_rules.iter().enumerate() {
            for (j, recipient) in rule.recipients.iter().enumerate() {
                let secret = match recipient {
                    Recipient::SlackChannel { secret, .. }
                    | Recipient::MsTeamsChannel { secret, .. }
                    | Recipient::PagerdutyService { secret, .. } => secret.as_ref(),
                    Recipient::Email { .. } | Recipient::Http { .. } => None,
                };
                let path = format!("notification_rules[{i}].recipients[{j}]");
                refs.extend(secret.map(|s| (path, s)));
            }
        }
        if let Some(jira) = &r.integrations.jira {
            let named = [
                ("secret", &jira.secret),
                ("webhook_secret", &jira.webhook_secret),
            ];
            for (key, name) in named {
                refs.extend(
                    name.as_ref()
                        .map(|s| (format!("integrations.jira.{key}"), s)),
                );
            }
        }
        let snow = r
            .integrations
            .servicenow
            .as_ref()
            .and_then(|s| s.secret.as_ref());
        refs.extend(snow.map(|s| ("integrations.servicenow.secret".to_owned(), s)));
        refs
    }

    /// A rule's version, by id.
    pub fn rule_version(&self, id: &str) -> Option<&str> {
        (self.entries.iter())
            .find(|e| e.id == id)
            .map(|e| e.version.as_str())
    }
}

/// Serializing rules of any kind for their versions.
mod erased {
    /// A rule's canonical JSON.
    pub trait Ser {
        fn json(&self) -> Vec<u8>;
    }

    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}

/// One rule, as `rules list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleEntry {
    /// Project key.
    pub project: String,
    /// What kind of rule.
    pub kind: RuleKind,
    /// Its id.
    pub id: String,
    /// Whether it is on.
    pub enabled: bool,
    /// SHA-256 prefix of its canonical form.
    pub version: String,
}

/// The kinds of rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// `notification_rules`.
    Notification,
    /// `automation_rules`.
    Automation,
    /// `escalation_queries`.
    Escalation,
    /// `incident_escalation`.
    Incident,
    /// `maintenance_windows`.
    MaintenanceWindow,
    /// `assignment.routes`.
    Route,
    /// `sla_policies`.
    Sla,
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Notification => "notification",
            Self::Automation => "automation",
            Self::Escalation => "escalation",
            Self::Incident => "incident",
            Self::MaintenanceWindow => "maintenance_window",
            Self::Route => "route",
            Self::Sla => "sla",
        })
    }
}
