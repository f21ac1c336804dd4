//! Integration settings (domain.md §A.2) and webhook endpoints. Credentials
//! are named secrets ([`SecretRef`]), never values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::jira::Jira;
use super::SecretRef;

/// The project's integrations; Jira and ServiceNow exclude each other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Integrations {
    /// Jira ticket sync (the jira flavor's per-project settings).
    pub jira: Option<Jira>,
    /// ServiceNow ticket sync.
    pub servicenow: Option<ServiceNow>,
    /// On-call paging.
    pub on_call: Option<OnCall>,
    /// Incident declaration.
    pub incidents: Option<Incidents>,
}

/// How a ServiceNow field syncs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Not synced.
    #[default]
    None,
    /// Written when the ticket is created.
    OnceAtCreation,
    /// Both ways.
    TwoWay,
    /// Every case update pushed.
    OneWayAllUpdates,
}

/// A value mapping (`Open: To Do`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mapping {
    /// How the field syncs.
    pub sync: SyncMode,
    /// Case value → remote value.
    pub mapping: BTreeMap<String, String>,
}

/// ServiceNow (`integration_service_now`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceNow {
    /// On or off.
    pub enabled: bool,
    /// `<instance>.service-now.com`.
    pub instance_name: String,
    /// Assignment group of created tickets.
    pub assignment_group: Option<String>,
    /// Create a ticket for each new case.
    pub auto_creation: bool,
    /// The credentials' secret name.
    pub secret: Option<SecretRef>,
    /// Field sync.
    pub sync_config: ServiceNowSync,
}

/// ServiceNow field sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceNowSync {
    /// Comments.
    pub comments: SyncMode,
    /// Status, mapped.
    pub status: Mapping,
    /// Priority as impact and urgency.
    pub priority: ServiceNowPriority,
}

/// Priority → ServiceNow impact and urgency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceNowPriority {
    /// Priority → impact.
    pub impact_mapping: BTreeMap<String, String>,
    /// Priority → urgency.
    pub urgency_mapping: BTreeMap<String, String>,
}

/// On-call paging (`integration_on_call`; escalation queries are their own section).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnCall {
    /// On or off.
    pub enabled: bool,
}

/// Incident declaration (`integration_incident`; the rule is `incident_escalation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Incidents {
    /// On or off.
    pub enabled: bool,
}

/// An outbound webhook endpoint: the `webhook` flavor posts the project's
/// case events to it (those in `events`, on cases matching `query`), and
/// `HTTP` recipients of notification rules name it. Signed per Standard
/// Webhooks with `secret` and, during a rotation, each of
/// `previous_secrets` too (receivers accept any one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    /// Unique within the project.
    pub name: String,
    /// `https://` URL, without credentials.
    pub url: String,
    /// The signing secret's name (its value is `whsec_<base64>`).
    #[serde(default)]
    pub secret: Option<SecretRef>,
    /// Secrets still signed with while receivers move to `secret`.
    #[serde(default)]
    pub previous_secrets: Vec<SecretRef>,
    /// The event types it gets (`case.created`, …); empty: every case event.
    #[serde(default)]
    pub events: Vec<String>,
    /// Only events whose case (after the event) matches this CQ query.
    #[serde(default)]
    pub query: Option<super::Cq>,
    /// Off: the flavor enqueues nothing for it (events meanwhile are not
    /// sent later).
    #[serde(default = "super::yes")]
    pub enabled: bool,
}
