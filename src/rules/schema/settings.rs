//! Project settings and assignment routes (domain.md §A.2, §C.4).

use serde::{Deserialize, Serialize};

use super::{yes, Cq};

/// Per-project behaviour switches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProjectSettings {
    /// Assign the acknowledging on-call responder.
    pub auto_assign_on_call: bool,
    /// Close cases without human activity.
    pub auto_close_inactive_cases: Option<AutoClose>,
    /// Move self-assigned cases to in-progress.
    pub auto_transition_assigned_cases: Option<AutoTransition>,
}

/// The inactivity sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoClose {
    /// On or off.
    pub enabled: bool,
    /// Inactivity before closing: 7 to 180 days, in seconds.
    pub max_inactive_time_in_secs: u64,
}

/// Transition on assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoTransition {
    /// When the assignee assigned themselves.
    pub on_self_assigned: bool,
}

/// Assignment routing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Assignment {
    /// Status a self-assigned case moves to (default: the in-progress group's default).
    pub on_self_assign_status: Option<String>,
    /// First matching route wins.
    pub routes: Vec<Route>,
}

/// One assignment route: exactly one of `assignee_id`, `team`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Unique within the project.
    pub id: String,
    /// Off routes are skipped.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Cases it routes.
    pub query: Cq,
    /// A user of the directory.
    #[serde(default)]
    pub assignee_id: Option<String>,
    /// A team of the directory (round robin over its members).
    #[serde(default)]
    pub team: Option<String>,
}
