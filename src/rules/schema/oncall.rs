//! Paging escalation queries and incident escalation (domain.md §C.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{yes, Cq, Fire};

/// Pages on the rising edge of a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationQuery {
    /// Unique within the project.
    pub id: String,
    /// Off queries never page.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The cases that page.
    pub query: Cq,
    /// Who is paged: exactly one of `team_id`, `user_id`, `dynamic_team_paging`.
    pub target: Target,
    /// Page urgency by priority (`P1`…`P5`, `NOT_DEFINED`, `*`); default low.
    #[serde(default)]
    pub urgency_map: BTreeMap<String, Urgency>,
    /// Once per case (default) or on every rising edge.
    #[serde(default)]
    pub fire: Fire,
}

/// Who a page goes to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Target {
    /// A team of the directory.
    pub team_id: Option<String>,
    /// A user of the directory.
    pub user_id: Option<String>,
    /// Each team in the case's `teams` attribute.
    pub dynamic_team_paging: bool,
}

/// Page urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Low urgency.
    Low,
    /// High urgency.
    High,
}

/// Declares an incident on the rising edge of a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentEscalation {
    /// Unique within the project.
    pub id: String,
    /// Off: never declares.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The cases that escalate.
    pub auto_escalation_query: Cq,
    /// The incident type declared.
    pub incident_type: String,
    /// A user of the directory.
    #[serde(default)]
    pub default_incident_commander: Option<String>,
    /// Severity by priority (`P1: SEV-1`).
    #[serde(default)]
    pub priority_mapping: BTreeMap<String, String>,
    /// Incident fields filled from case fields.
    #[serde(default)]
    pub field_mappings: Vec<FieldMapping>,
    /// Once per case (default) or on every rising edge.
    #[serde(default)]
    pub fire: Fire,
}

/// One incident field filled from a case field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// The incident's user-defined field.
    pub incident_user_defined_field_id: String,
    /// The case field.
    pub case_field: String,
}
