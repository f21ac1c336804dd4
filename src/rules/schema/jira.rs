//! `integrations.jira`: the project's Jira sync, read by the jira flavor.
//!
//! §A.2's `integration_jira` names the Jira project by ids and has three
//! sync modes; the sync this service runs needs more (the site, the
//! account it writes as, one-way modes, status categories, a user map,
//! custom field shapes), so the section is the jira flavor's per-project
//! settings, with its credentials as secret names. Values are kebab-case
//! (`two-way`), as the flavor always wrote them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SecretRef;
use crate::event::pb::Priority;

/// One project synced to one Jira project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Jira {
    /// On or off (at most one of Jira and ServiceNow per project).
    pub enabled: bool,
    /// Jira site, e.g. `https://acme.atlassian.net` (no trailing path).
    pub site_url: String,
    /// The account's e-mail: with it, requests authenticate with Basic
    /// (e-mail and the API token `secret` names); without, `secret` names
    /// a bearer token (OAuth 2.0 or a Data Center PAT).
    pub email: Option<String>,
    /// The API token's (or bearer token's) secret name.
    pub secret: Option<SecretRef>,
    /// The secret name of the Jira admin webhook's secret
    /// (`X-Hub-Signature`); needed when a field syncs two-way.
    pub webhook_secret: Option<SecretRef>,
    /// The accountId the integration writes as: its changes never come back.
    pub account_id: String,
    /// Jira project key, e.g. `OPS`.
    pub project_key: String,
    /// Issue type name of created issues.
    pub issue_type: String,
    /// Create an issue for every case of the project.
    pub auto_creation: bool,
    /// Sync mode per field.
    pub fields: FieldModes,
    /// Case priority (`P1`..`P5`, `NOT_DEFINED`) → Jira priority name.
    pub priorities: BTreeMap<CasePriority, String>,
    /// Case status group → Jira status category key.
    pub statuses: StatusCategories,
    /// Case user id (UUID) → Jira accountId.
    pub users: BTreeMap<String, String>,
    /// Jira field that holds the due date.
    pub due_date_field: String,
    /// Case attribute keys whose values become Jira labels (`key:value`).
    pub label_attributes: Vec<String>,
    /// Case custom attributes synced to Jira custom fields.
    pub custom_fields: Vec<CustomField>,
    /// Sync case comments to Jira comments.
    pub comments: bool,
}

impl Default for Jira {
    fn default() -> Self {
        Self {
            enabled: false,
            site_url: String::new(),
            email: None,
            secret: None,
            webhook_secret: None,
            account_id: String::new(),
            project_key: String::new(),
            issue_type: "Task".into(),
            auto_creation: true,
            fields: FieldModes::default(),
            priorities: BTreeMap::new(),
            statuses: StatusCategories::default(),
            users: BTreeMap::new(),
            due_date_field: "duedate".into(),
            label_attributes: Vec::new(),
            custom_fields: Vec::new(),
            comments: true,
        }
    }
}

impl Jira {
    /// Whether any field comes back from Jira (so the webhook is needed).
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
        .any(JiraSyncMode::inbound)
    }
}

/// How one field syncs with Jira.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JiraSyncMode {
    /// Set when the issue is created, never again.
    Once,
    /// Case → Jira on creation and every change.
    OneWay,
    /// Both directions: changes in Jira come back as `external_ticket.changed`.
    TwoWay,
    /// Not synced.
    None,
}

impl JiraSyncMode {
    /// Whether the field is written when the issue is created.
    pub fn on_create(self) -> bool {
        self != Self::None
    }

    /// Whether later case changes are written.
    pub fn on_update(self) -> bool {
        matches!(self, Self::OneWay | Self::TwoWay)
    }

    /// Whether Jira changes come back.
    pub fn inbound(self) -> bool {
        self == Self::TwoWay
    }
}

/// Sync mode per synced field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldModes {
    /// Case title ↔ `summary`.
    pub title: JiraSyncMode,
    /// Case description (Markdown → ADF) ↔ `description`.
    pub description: JiraSyncMode,
    /// Case priority ↔ `priority` (through `priorities`).
    pub priority: JiraSyncMode,
    /// Case status group ↔ status category (through a transition).
    pub status: JiraSyncMode,
    /// Case assignee ↔ `assignee` (through `users`).
    pub assignee: JiraSyncMode,
    /// Case due date ↔ `due_date_field`.
    pub due_date: JiraSyncMode,
    /// Case attributes in `label_attributes` ↔ `labels`.
    pub labels: JiraSyncMode,
}

impl Default for FieldModes {
    fn default() -> Self {
        use JiraSyncMode::*;
        Self {
            title: TwoWay,
            description: Once,
            priority: TwoWay,
            status: TwoWay,
            assignee: OneWay,
            due_date: OneWay,
            labels: Once,
        }
    }
}

/// Target Jira status category per case status group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub mode: JiraSyncMode,
}

fn one_way() -> JiraSyncMode {
    JiraSyncMode::OneWay
}

/// JSON shape of a custom field value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
