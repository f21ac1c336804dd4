//! SLA policies (domain.md §A.3).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{yes, Cq};

/// `SlaPolicy{metric, start_on, pause_on, stop_on, goals, calendar, warn_at_pct}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    /// Unique within the project.
    pub id: String,
    /// Off policies never warn or breach.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What is timed.
    pub metric: SlaMetric,
    /// Status names that start the clock (empty: creation).
    #[serde(default)]
    pub start_on: Vec<String>,
    /// Status names that pause it.
    #[serde(default)]
    pub pause_on: Vec<String>,
    /// Status names that stop it (empty: the metric's own end).
    #[serde(default)]
    pub stop_on: Vec<String>,
    /// Targets; the first goal whose query matches wins.
    pub goals: Vec<Goal>,
    /// Business hours; absent: 24x7.
    #[serde(default)]
    pub calendar: Option<BusinessHours>,
    /// Percentages of the target that emit `SlaWarning` (1–99).
    #[serde(default)]
    pub warn_at_pct: Vec<u8>,
}

/// The timed metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaMetric {
    /// First assignment.
    TimeToAssign,
    /// First acknowledgement.
    TimeToAck,
    /// First human comment.
    TimeToFirstResponse,
    /// First entry into the closed group.
    TimeToResolve,
}

/// A target for the cases a query selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// Cases it applies to; empty: every case.
    #[serde(default)]
    pub query: Cq,
    /// The target, in (calendar) seconds.
    pub target_secs: u64,
}

/// Working hours in a time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// IANA time zone.
    pub timezone: String,
    /// Working days (`mon` … `sun`).
    pub days: Vec<String>,
    /// Opening time, `HH:MM`.
    pub start: String,
    /// Closing time, `HH:MM`.
    pub end: String,
    /// Days off.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
}
