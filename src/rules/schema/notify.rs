//! Notification rules (domain.md §C.4 NotificationRule).

use serde::{Deserialize, Serialize};

use super::{yes, Cq, SecretRef};

/// Who hears about which case changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationRule {
    /// Unique within the project (across every kind of rule).
    pub id: String,
    /// Off rules are kept but never fire.
    #[serde(default = "yes")]
    pub is_enabled: bool,
    /// Cases it concerns (CQ, on `case_after`); empty: every case.
    #[serde(default)]
    pub query: Cq,
    /// The changes it fires on.
    pub triggers: Vec<Trigger>,
    /// Where notifications go.
    pub recipients: Vec<Recipient>,
    /// At most one notification per case per period.
    #[serde(default)]
    pub throttle: Option<Throttle>,
}

/// A case change a notification rule fires on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum Trigger {
    /// A case was created.
    CaseCreated,
    /// The status changed (optionally from / to a named status).
    StatusTransitioned {
        /// Only from this status.
        #[serde(default)]
        from_status_name: Option<String>,
        /// Only to this status.
        #[serde(default)]
        to_status_name: Option<String>,
    },
    /// An attribute (`priority`, `assignee` or any attribute) changed.
    AttributeValueChanged {
        /// The field.
        field: String,
        /// How it changed.
        change_type: ChangeType,
    },
    /// A signal was correlated into the case.
    EventCorrelationSignalCorrelated,
    /// A comment was added.
    CommentAdded,
    /// An SLA policy was breached.
    SlaBreached,
}

/// How an attribute changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeType {
    /// A value appeared.
    Added,
    /// A value went away.
    Removed,
    /// Any change.
    Changed,
}

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum Recipient {
    /// An email address.
    Email {
        /// The address.
        email: String,
    },
    /// A Slack channel; the bot token is the named secret.
    SlackChannel {
        /// Slack workspace id.
        workspace_id: String,
        /// Slack channel id.
        channel_id: String,
        /// The bot token's secret name.
        #[serde(default)]
        secret: Option<SecretRef>,
    },
    /// A Microsoft Teams channel; the Workflows URL is the named secret.
    MsTeamsChannel {
        /// Tenant id.
        tenant_id: String,
        /// Team id.
        team_id: String,
        /// Channel name.
        channel_name: String,
        /// The Workflows URL's secret name.
        #[serde(default)]
        secret: Option<SecretRef>,
    },
    /// A PagerDuty service; the routing key is the named secret.
    PagerdutyService {
        /// Service name.
        service_name: String,
        /// The routing key's secret name.
        #[serde(default)]
        secret: Option<SecretRef>,
    },
    /// One of the project's `webhooks`, by name.
    Http {
        /// The webhook endpoint's name.
        name: String,
    },
}

/// Notification throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// At most one notification per case in this many seconds.
    pub per_case_secs: u64,
}
