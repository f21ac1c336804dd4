//! `flavors.jira`: the flavor's own settings (topic, body limit, timeouts),
//! read once per build. The per-project settings live in the rules files
//! (`integrations.jira` of `<rules.dir>/<PROJECT>.yaml`, typed by
//! [`rules::schema::jira`](crate::rules::schema::jira)); [`ProjectConfig`]
//! is one project's section with its secrets resolved.

use std::time::Duration;

use serde::Deserialize;

use crate::flavors::kit::FlavorConfig;
use crate::rules::schema::Jira;
use crate::rules::{SecretError, SecretResolver};
use crate::settings::{Problem, Problems, SecretString, Settings};

pub use crate::rules::schema::jira::{FieldShape, JiraSyncMode as SyncMode};

/// The whole `flavors.jira` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// Topic for `external_ticket.changed` events from the webhook; default
    /// `kafka.produce_topic`.
    #[serde(default)]
    pub produce_topic: Option<String>,
    /// Largest webhook body accepted, in bytes; larger bodies get 413.
    #[serde(default = "default_body_limit")]
    pub webhook_max_body_bytes: usize,
    /// Whole-request timeout of one Jira call, in milliseconds; above 0 and
    /// below the runtime's `handler_timeout_ms`.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How long a create whose outcome is unknown (timeout, 5xx, crash) may
    /// stay invisible to JQL search before the issue is created again.
    #[serde(default = "default_lookup_window_ms")]
    pub create_lookup_window_ms: u64,
    /// The former per-project settings: refused, with where they moved.
    #[serde(default)]
    pub projects: Option<serde::de::IgnoredAny>,
}

impl Default for JiraConfig {
    fn default() -> Self {
        Self {
            produce_topic: None,
            webhook_max_body_bytes: default_body_limit(),
            timeout_ms: default_timeout_ms(),
            create_lookup_window_ms: default_lookup_window_ms(),
            projects: None,
        }
    }
}

fn default_body_limit() -> usize {
    1024 * 1024
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_lookup_window_ms() -> u64 {
    120_000
}

/// Where the per-project settings moved (the problem `flavors.jira.projects` gets).
pub const PROJECTS_MOVED: &str = "per-project Jira settings moved to the rules files: \
`integrations.jira` of <rules.dir>/<PROJECT>.yaml (with `project.id`; the API token and \
webhook secret by secret name, from rules.secrets or rules.secrets_dir); see README.md, \
\"Rules as code\"";

/// One synced project: its `integrations.jira` section (which it derefs
/// to) with the secrets it names resolved.
#[derive(Debug)]
pub struct ProjectConfig {
    /// The section as the rules file has it.
    pub section: Jira,
    /// How requests authenticate.
    pub auth: Auth,
    /// Secret of the Jira admin webhook (`X-Hub-Signature`), when named.
    pub webhook_secret: Option<SecretString>,
}

impl std::ops::Deref for ProjectConfig {
    type Target = Jira;

    fn deref(&self) -> &Jira {
        &self.section
    }
}

/// A project's section whose secrets cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The section names no API token.
    #[error("integrations.jira.secret is not set")]
    NoToken,
    /// A named secret cannot be read.
    #[error("integrations.jira.{key}: {source}")]
    Secret {
        /// `secret` or `webhook_secret`.
        key: &'static str,
        /// Why.
        source: SecretError,
    },
}

impl ProjectConfig {
    /// `section` with its secrets read through `secrets`.
    pub fn resolve(section: &Jira, secrets: &SecretResolver) -> Result<Self, ProjectError> {
        let name = section.secret.as_ref().ok_or(ProjectError::NoToken)?;
        let token = (secrets.resolve(name)).map_err(|source| ProjectError::Secret {
            key: "secret",
            source,
        })?;
        let auth = match &section.email {
            Some(email) => Auth::Basic {
                email: email.clone(),
                api_token: token,
            },
            None => Auth::Bearer { token },
        };
        let webhook_secret = (section.webhook_secret.as_ref())
            .map(|name| secrets.resolve(name))
            .transpose()
            .map_err(|source| ProjectError::Secret {
                key: "webhook_secret",
                source,
            })?;
        Ok(Self {
            section: section.clone(),
            auth,
            webhook_secret,
        })
    }
}

/// Credentials.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Jira Cloud API token: `Authorization: Basic base64(email:api_token)`.
    Basic {
        /// Account e-mail.
        email: String,
        /// API token.
        api_token: SecretString,
    },
    /// OAuth 2.0 or a Data Center PAT: `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: SecretString,
    },
}

impl JiraConfig {
    /// Every problem serde cannot find, each under its key path below
    /// `flavors.jira`; one Jira call must end within `handler_timeout`.
    pub fn check(&self, handler_timeout: Duration) -> Vec<Problem> {
        let mut p = Problems::new();
        p.expect(
            self.webhook_max_body_bytes > 0,
            "webhook_max_body_bytes",
            "must be at least 1",
        )
        .request_timeout("timeout_ms", self.timeout_ms, handler_timeout);
        p.expect(self.projects.is_none(), "projects", PROJECTS_MOVED);
        p.done()
    }
}

impl FlavorConfig for JiraConfig {
    fn problems(&self, settings: &Settings, flavor: &'static str) -> Vec<Problem> {
        self.check(settings.runtime_for(flavor).handler_timeout())
    }
}

impl ProjectConfig {
    /// Sync mode of a Jira field id (`summary`, `customfield_10050`, ...).
    pub fn mode_of_jira_field(&self, field_id: &str) -> SyncMode {
        let f = &self.fields;
        match field_id {
            "summary" => f.title,
            "description" => f.description,
            "priority" => f.priority,
            "status" => f.status,
            "assignee" => f.assignee,
            "labels" => f.labels,
            id if id == self.due_date_field => f.due_date,
            id => self
                .custom_fields
                .iter()
                .find(|c| c.field_id == id)
                .map_or(SyncMode::None, |c| c.mode),
        }
    }
}

/// Project `p1` for unit tests: Acme's site, a bearer token, project `OPS`,
/// the integration account `acc-bot`, webhook secret `s3cret`, then
/// `extra` (YAML lines of the `integrations.jira` section, indented by 4).
#[cfg(test)]
pub(crate) fn test_project(extra: &str) -> ProjectConfig {
    let yaml = format!(
        "    enabled: true\n    site_url: https://acme.atlassian.net\n    secret: token\n    \
         project_key: OPS\n    account_id: acc-bot\n    webhook_secret: hook\n{extra}"
    );
    let section: Jira = serde_yaml::from_str(&yaml).expect("a test project");
    let mut settings = crate::settings::RulesSettings::default();
    settings.secrets.insert("token".into(), "t".into());
    settings.secrets.insert("hook".into(), "s3cret".into());
    ProjectConfig::resolve(&section, &SecretResolver::new(&settings)).expect("its secrets")
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
