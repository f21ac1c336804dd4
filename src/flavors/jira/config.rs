//! `flavors.jira`: the flavor's settings, one block per case-management
//! project. Read once per build and immutable afterwards.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::event::pb::Priority;
use crate::flavors::kit::FlavorConfig;
use crate::settings::{Problem, Problems, SecretString, Settings};

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
    /// Per case-management project id (UUID).
    #[serde(default)]
    pub projects: BTreeMap<String, ProjectConfig>,
}

impl Default for JiraConfig {
    fn default() -> Self {
        Self {
            produce_topic: None,
            webhook_max_body_bytes: default_body_limit(),
            timeout_ms: default_timeout_ms(),
            create_lookup_window_ms: default_lookup_window_ms(),
            projects: BTreeMap::new(),
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
fn default_true() -> bool {
    true
}
fn default_issue_type() -> String {
    "Task".into()
}
fn default_due_date_field() -> String {
    "duedate".into()
}

/// One case-management project synced to one Jira project.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Jira site, e.g. `https://acme.atlassian.net` (no trailing path).
    pub site_url: String,
    /// How requests authenticate.
    pub auth: Auth,
    /// Jira project key, e.g. `OPS`.
    pub project_key: String,
    /// Issue type name of created issues.
    #[serde(default = "default_issue_type")]
    pub issue_type: String,
    /// Create an issue for every case of the project.
    #[serde(default = "default_true")]
    pub auto_create: bool,
    /// Sync mode per field.
    #[serde(default)]
    pub fields: FieldModes,
    /// Case priority (`P1`..`P5`, `NOT_DEFINED`) → Jira priority name.
    #[serde(default)]
    pub priorities: BTreeMap<CasePriority, String>,
    /// Case status group → Jira status category key.
    #[serde(default)]
    pub statuses: StatusCategories,
    /// Case user id (UUID) → Jira accountId.
    #[serde(default)]
    pub users: BTreeMap<String, String>,
    /// Jira field that holds the due date.
    #[serde(default = "default_due_date_field")]
    pub due_date_field: String,
    /// Case attribute keys whose values become Jira labels (`key:value`).
    #[serde(default)]
    pub label_attributes: Vec<String>,
    /// Case custom attributes synced to Jira custom fields.
    #[serde(default)]
    pub custom_fields: Vec<CustomField>,
    /// Sync case comments to Jira comments.
    #[serde(default = "default_true")]
    pub comments: bool,
    /// The accountId the integration writes as: its changes never come back.
    pub account_id: String,
    /// Secret of the Jira admin webhook (`X-Hub-Signature`).
    pub webhook_secret: SecretString,
}

/// Credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
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

/// How one field syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncMode {
    /// Set when the issue is created, never again.
    Once,
    /// Case → Jira on creation and every change.
    OneWay,
    /// Both directions: changes in Jira come back as `external_ticket.changed`.
    TwoWay,
    /// Not synced.
    None,
}

impl SyncMode {
    /// Whether the field is written when the issue is created.
    pub fn on_create(self) -> bool {
        self != SyncMode::None
    }

    /// Whether later case changes are written.
    pub fn on_update(self) -> bool {
        matches!(self, SyncMode::OneWay | SyncMode::TwoWay)
    }

    /// Whether Jira changes come back.
    pub fn inbound(self) -> bool {
        self == SyncMode::TwoWay
    }
}

/// Sync mode per synced field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldModes {
    /// Case title ↔ `summary`.
    pub title: SyncMode,
    /// Case description (Markdown → ADF) ↔ `description`.
    pub description: SyncMode,
    /// Case priority ↔ `priority` (through `priorities`).
    pub priority: SyncMode,
    /// Case status group ↔ status category (through a transition).
    pub status: SyncMode,
    /// Case assignee ↔ `assignee` (through `users`).
    pub assignee: SyncMode,
    /// Case due date ↔ `due_date_field`.
    pub due_date: SyncMode,
    /// Case attributes in `label_attributes` ↔ `labels`.
    pub labels: SyncMode,
}

impl Default for FieldModes {
    fn default() -> Self {
        Self {
            title: SyncMode::TwoWay,
            description: SyncMode::Once,
            priority: SyncMode::TwoWay,
            status: SyncMode::TwoWay,
            assignee: SyncMode::OneWay,
            due_date: SyncMode::OneWay,
            labels: SyncMode::Once,
        }
    }
}

/// Target Jira status category per case status group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusCategories {
    /// For `STATUS_GROUP_OPEN`.
    pub open: StatusCategory,
    /// For `STATUS_GROUP_IN_PROGRESS`.
    pub in_progress: StatusCategory,
    /// For `STATUS_GROUP_CLOSED`.
    pub closed: StatusCategory,
}

impl Default for StatusCategories {
    fn default() -> Self {
        Self {
            open: StatusCategory::New,
            in_progress: StatusCategory::Indeterminate,
            closed: StatusCategory::Done,
        }
    }
}

/// Jira's fixed status category keys (every workflow status belongs to one;
/// the status names themselves are the customer's and stay strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusCategory {
    /// `new` (To Do).
    New,
    /// `indeterminate` (In Progress).
    Indeterminate,
    /// `done`.
    Done,
}

impl StatusCategory {
    /// The key Jira's API uses (`statusCategory.key`).
    pub fn key(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Indeterminate => "indeterminate",
            Self::Done => "done",
        }
    }
}

/// A case priority, as `priorities` names it (the case-management
/// vocabulary, not Jira's: the Jira side is the customer's priority name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CasePriority {
    /// `P1`.
    P1,
    /// `P2`.
    P2,
    /// `P3`.
    P3,
    /// `P4`.
    P4,
    /// `P5`.
    P5,
    /// `NOT_DEFINED`, also for an unspecified priority.
    NotDefined,
}

impl From<Priority> for CasePriority {
    fn from(p: Priority) -> Self {
        match p {
            Priority::Unspecified | Priority::NotDefined => Self::NotDefined,
            Priority::P1 => Self::P1,
            Priority::P2 => Self::P2,
            Priority::P3 => Self::P3,
            Priority::P4 => Self::P4,
            Priority::P5 => Self::P5,
        }
    }
}

/// One case custom attribute synced to one Jira custom field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomField {
    /// Case custom attribute key.
    pub attribute: String,
    /// Jira field id, `customfield_NNNNN`.
    pub field_id: String,
    /// The value shape Jira expects.
    #[serde(default)]
    pub shape: FieldShape,
    /// Sync mode.
    #[serde(default = "one_way")]
    pub mode: SyncMode,
}

fn one_way() -> SyncMode {
    SyncMode::OneWay
}

/// JSON shape of a custom field value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldShape {
    /// `"s"` (single-line text).
    #[default]
    Text,
    /// `3`.
    Number,
    /// `{"value": "X"}`.
    Select,
    /// `[{"value": "X"}, ...]`.
    MultiSelect,
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
        for (id, project) in &self.projects {
            p.at(&format!("projects.{id}"), |p| project.check(p));
        }
        p.done()
    }
}

impl ProjectConfig {
    /// The project's problems into `p`, at the project's path.
    fn check(&self, p: &mut Problems) {
        p.http_url("site_url", &self.site_url);
        for (key, value) in [
            ("project_key", &self.project_key),
            ("issue_type", &self.issue_type),
            ("account_id", &self.account_id),
            ("webhook_secret", self.webhook_secret.expose()),
        ] {
            p.expect(!value.trim().is_empty(), key, "must not be empty");
        }
        for (i, f) in self.custom_fields.iter().enumerate() {
            let ok = f.field_id.starts_with("customfield_");
            let key = format!("custom_fields[{i}].field_id");
            p.expect(ok, &key, "expected customfield_NNNNN");
        }
    }
}

impl FlavorConfig for JiraConfig {
    fn problems(&self, settings: &Settings, flavor: &'static str) -> Vec<Problem> {
        self.check(settings.runtime_for(flavor).handler_timeout())
    }
}

impl ProjectConfig {
    /// Whether any field comes back from Jira.
    pub fn has_inbound(&self) -> bool {
        let f = &self.fields;
        [
            f.title,
            f.description,
            f.priority,
            f.status,
            f.assignee,
            f.due_date,
            f.labels,
        ]
        .into_iter()
        .chain(self.custom_fields.iter().map(|c| c.mode))
        .any(SyncMode::inbound)
    }

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
/// `extra` (YAML lines indented as project keys).
#[cfg(test)]
pub(crate) fn test_project(extra: &str) -> ProjectConfig {
    let yaml = format!(
        "projects:\n  p1:\n    site_url: https://acme.atlassian.net\n    \
         auth: {{kind: bearer, token: t}}\n    project_key: OPS\n    account_id: acc-bot\n    \
         webhook_secret: s3cret\n{extra}"
    );
    let mut c: JiraConfig = serde_yaml::from_str(&yaml).expect("a test project");
    c.projects.remove("p1").expect("project p1")
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
