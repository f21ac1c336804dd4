//! Product maintenance windows: the runtime's window schedule
//! (`resilience::maintenance::WindowConfig`: `start`/`end`, or `cron`,
//! `duration_minutes`, `timezone`) with a different effect — they are data
//! that notification rules evaluate, not a pause of the consumer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Cq;
use crate::resilience::maintenance::{Mode, Window, WindowConfig};

/// A product maintenance window (domain.md §C.4 MaintenanceWindow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductWindow {
    /// Unique within the project.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Cases it concerns; empty: every case of the project.
    #[serde(default)]
    pub query: Cq,
    /// Absolute window: start (RFC 3339).
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// Absolute window: end (RFC 3339).
    #[serde(default)]
    pub end: Option<DateTime<Utc>>,
    /// Recurring window: five-field cron of its openings.
    #[serde(default)]
    pub cron: Option<String>,
    /// Recurring window: how long it stays open.
    #[serde(default)]
    pub duration_minutes: Option<u64>,
    /// Recurring window: IANA time zone of the cron (default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Also hold pages (not only notifications).
    #[serde(default)]
    pub suppress_paging: bool,
}

impl ProductWindow {
    /// The schedule, validated by the runtime's own window type.
    pub fn schedule(&self) -> Result<Window, String> {
        let config = WindowConfig {
            name: self.id.clone(),
            flavors: Vec::new(),
            dependency: None,
            mode: Mode::Skip,
            start: self.start,
            end: self.end,
            cron: self.cron.clone(),
            duration_minutes: self.duration_minutes,
            timezone: self.timezone.clone(),
            query: None,
        };
        Window::try_from(&config)
    }

    /// Whether the window is open at `t` (an invalid schedule never is).
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        self.schedule().is_ok_and(|w| w.is_open(t))
    }
}
