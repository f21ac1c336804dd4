//! The typed schema of one rules file (`<dir>/<PROJECT>.yaml`): one section
//! per kind, every struct `deny_unknown_fields`. Shapes follow domain.md
//! §A.2, §A.3 and §C.4. Queries are kept as text here ([`Cq`]) and compiled
//! by the validator, which knows where each one sits in the file.

mod automation;
mod directory;
mod integrations;
pub mod jira;
mod notify;
mod oncall;
mod settings;
mod sla;
mod windows;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use automation::{
    Action, ApprovalType, AutomationRule, AutomationTrigger, RuleState, ValueChange,
};
pub use directory::{Directory, Preferences, PreferredChannel, Team, User};
pub use integrations::{
    Incidents, Integrations, Mapping, OnCall, ServiceNow, ServiceNowPriority, ServiceNowSync,
    SyncMode, WebhookEndpoint,
};
pub use jira::Jira;
pub use notify::{ChangeType, NotificationRule, Recipient, Throttle, Trigger};
pub use oncall::{EscalationQuery, FieldMapping, IncidentEscalation, Target, Urgency};
pub use settings::{Assignment, AutoClose, AutoTransition, ProjectSettings, Route};
pub use sla::{BusinessHours, Goal, SlaMetric, SlaPolicy};
pub use windows::ProductWindow;

use crate::query::{Query, QueryError};

/// Everything one project's file holds. Every section is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectFile {
    /// The project's id and name; its key is the file name (`SEC.yaml`).
    pub project: ProjectInfo,
    /// auto_assign_on_call, auto_close_inactive_cases, auto_transition_assigned_cases.
    pub settings: ProjectSettings,
    /// Teams and users (with their notification preferences).
    pub directory: Directory,
    /// Outbound webhook endpoints, named by `HTTP` recipients.
    pub webhooks: Vec<WebhookEndpoint>,
    /// Jira, ServiceNow (one of them at most), on-call and incidents.
    pub integrations: Integrations,
    /// Who hears about what (§C.4 NotificationRule).
    pub notification_rules: Vec<NotificationRule>,
    /// Workflows and agents started by case changes (§C.4 AutomationRule).
    pub automation_rules: Vec<AutomationRule>,
    /// Paging on the query's rising edge (§C.4 EscalationQuery).
    pub escalation_queries: Vec<EscalationQuery>,
    /// Declaring an incident on the query's rising edge (§C.4).
    pub incident_escalation: Option<IncidentEscalation>,
    /// Product maintenance windows: data notification rules evaluate.
    pub maintenance_windows: Vec<ProductWindow>,
    /// Assignment routes (§C.4 AssignmentRouting).
    pub assignment: Assignment,
    /// SLA policies (§A.3).
    pub sla_policies: Vec<SlaPolicy>,
}

/// The project a file is about, beside its key (the file name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectInfo {
    /// The project's UUID, when known.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
}

/// When a rule that watches a query's rising edge (false → true) fires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fire {
    /// The first rising edge of each case only (domain.md §C.3 item 7).
    #[default]
    OncePerCase,
    /// Every false → true transition.
    EveryRisingEdge,
}

/// The name of a secret (`slack-acme`), resolved at run time from the
/// mounted Secret directory or `CEH__RULES__SECRETS__*` (never a value).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretRef(pub String);

/// A CQ query as written, compiled by the validator ([`Cq::compile`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cq {
    text: String,
    query: Query,
}

impl Cq {
    /// A query from its text, not yet compiled.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            query: Query::default(),
        }
    }

    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The compiled query (empty, matching every case, until compiled).
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// Compiles the text; on error the query stays empty.
    pub fn compile(&mut self) -> Result<(), QueryError> {
        self.query = Query::parse(&self.text)?;
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Cq {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl Serialize for Cq {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

pub(crate) fn yes() -> bool {
    true
}
