//! Automation rules (domain.md §C.4 AutomationRule).

use serde::{Deserialize, Serialize};

use super::{Cq, Fire};

/// Starts a workflow or an agent on a case change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationRule {
    /// Unique within the project.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// `ENABLED` (default) or `DISABLED`.
    #[serde(default)]
    pub state: RuleState,
    /// The change it runs on.
    pub trigger: AutomationTrigger,
    /// Only when the case (after) matches; fires on its rising edge.
    #[serde(default)]
    pub condition_query: Option<Cq>,
    /// Once per case (default) or on every rising edge of `condition_query`.
    #[serde(default)]
    pub fire: Fire,
    /// What it does.
    pub action: Action,
}

/// Whether an automation rule runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleState {
    /// It runs.
    #[default]
    Enabled,
    /// It does not.
    Disabled,
}

/// The case change an automation rule runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum AutomationTrigger {
    /// A case was created.
    CaseCreated,
    /// The status changed.
    StatusTransitioned {
        /// Only from this status.
        #[serde(default)]
        from_status_name: Option<String>,
        /// Only to this status.
        #[serde(default)]
        to_status_name: Option<String>,
    },
    /// An attribute changed.
    AttributeValueChanged {
        /// The field.
        field: String,
        /// How it changed.
        change_type: ValueChange,
    },
    /// A signal was correlated into the case.
    EventCorrelationSignalCorrelated,
    /// A comment was added.
    CommentAdded,
    /// A review was approved.
    CaseReviewApproved {
        /// Which approval counts.
        approval_type: ApprovalType,
    },
}

/// How an attribute changed (automation spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValueChange {
    /// A value appeared.
    ValueAdded,
    /// A value went away.
    ValueDeleted,
    /// Any change.
    AnyChanges,
}

/// Which review approval triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalType {
    /// The first approval.
    First,
    /// Each approval.
    Each,
    /// When all reviewers approved.
    All,
}

/// What an automation rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
pub enum Action {
    /// Starts a workflow.
    ExecuteWorkflow {
        /// The workflow's handle.
        handle: String,
    },
    /// Assigns an agent.
    AssignAgent {
        /// Agent type.
        agent_type: String,
        /// Agent id.
        assigned_agent_id: String,
    },
}
