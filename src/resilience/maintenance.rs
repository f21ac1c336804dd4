//! Maintenance windows: per flavor or per dependency, absolute or recurring
//! (cron in a time zone), optionally narrowed by a case query.
//!
//! - `pause`: while the window is open nothing is consumed (all partitions
//!   pause; with a query, matching events wait and their partitions pause);
//!   everything resumes by itself at the end. Nothing is skipped.
//! - `skip`: events handled while the window is open (and matching its query)
//!   are skipped with reason `maintenance:<name>` and counted.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::CaseEvent;
use crate::query::Query;

/// What an open window does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Stop consuming; resume at the end.
    Pause,
    /// Skip and count.
    Skip,
}

/// One window as configured (`maintenance:` list).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    /// Name, used in skip reasons, logs and metrics.
    pub name: String,
    /// Flavors it applies to; empty means every flavor.
    #[serde(default)]
    pub flavors: Vec<String>,
    /// Applies only to flavors that use this dependency (e.g. `jira`).
    #[serde(default)]
    pub dependency: Option<String>,
    /// `pause` or `skip`.
    pub mode: Mode,
    /// Absolute window: start (RFC 3339).
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// Absolute window: end (RFC 3339).
    #[serde(default)]
    pub end: Option<DateTime<Utc>>,
    /// Recurring window: five-field cron (`min hour day month weekday`) of its openings.
    #[serde(default)]
    pub cron: Option<String>,
    /// Recurring window: how long it stays open after each opening.
    #[serde(default)]
    pub duration_minutes: Option<u64>,
    /// Recurring window: time zone of the cron (IANA name; default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Only cases matching this query (CQ) are affected.
    #[serde(default)]
    pub query: Option<String>,
}

/// When a window is open.
#[derive(Debug, Clone)]
enum Schedule {
    Absolute {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    Recurring {
        cron: Box<cron::Schedule>,
        open_for: chrono::Duration,
        tz: chrono_tz::Tz,
    },
}

/// A validated window.
#[derive(Debug, Clone)]
pub struct Window {
    /// Its name.
    pub name: String,
    flavors: Vec<String>,
    dependency: Option<String>,
    /// Its mode.
    pub mode: Mode,
    schedule: Schedule,
    query: Option<Query>,
}

impl TryFrom<&WindowConfig> for Window {
    type Error = String;

    fn try_from(c: &WindowConfig) -> Result<Self, String> {
        let schedule = match (&c.start, &c.end, &c.cron, c.duration_minutes) {
            (Some(start), Some(end), None, None) if start < end => Schedule::Absolute {
                start: *start,
                end: *end,
            },
            (Some(_), Some(_), None, None) => return Err("end must be after start".into()),
            (None, None, Some(expr), Some(minutes)) if minutes > 0 => {
                let cron = cron::Schedule::from_str(&format!("0 {expr}"))
                    .map_err(|e| format!("cron `{expr}`: {e}"))?;
                let tz = match &c.timezone {
                    Some(name) => chrono_tz::Tz::from_str(name)
                        .map_err(|_| format!("unknown time zone `{name}`"))?,
                    None => chrono_tz::UTC,
                };
                Schedule::Recurring {
                    cron: Box::new(cron),
                    open_for: chrono::Duration::minutes(minutes as i64),
                    tz,
                }
            }
            _ => {
                return Err("give either start and end, or cron and duration_minutes (> 0)".into())
            }
        };
        let query = match &c.query {
            Some(q) => Some(Query::from_str(q).map_err(|e| format!("query: {e}"))?),
            None => None,
        };
        Ok(Self {
            name: c.name.clone(),
            flavors: c.flavors.clone(),
            dependency: c.dependency.clone(),
            mode: c.mode,
            schedule,
            query,
        })
    }
}

impl Window {
    /// Whether the window is open at `t`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        match &self.schedule {
            Schedule::Absolute { start, end } => *start <= t && t < *end,
            Schedule::Recurring { cron, open_for, tz } => {
                let since = (t - *open_for).with_timezone(tz);
                cron.after(&since)
                    .next()
                    .is_some_and(|opening| opening.with_timezone(&Utc) <= t)
            }
        }
    }

    /// When an open window closes (for pause deadlines); `None` if closed at `t`.
    pub fn closes_at(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.is_open(t) {
            return None;
        }
        match &self.schedule {
            Schedule::Absolute { end, .. } => Some(*end),
            Schedule::Recurring { cron, open_for, tz } => {
                let since = (t - *open_for).with_timezone(tz);
                cron.after(&since)
                    .next()
                    .map(|o| o.with_timezone(&Utc) + *open_for)
            }
        }
    }

    /// Whether the window concerns this flavor (by name, or through a dependency it uses).
    pub fn applies_to(&self, flavor: &str, dependencies: &[&str]) -> bool {
        let by_flavor = self.flavors.is_empty() || self.flavors.iter().any(|f| f == flavor);
        let by_dependency = self
            .dependency
            .as_deref()
            .is_none_or(|d| dependencies.contains(&d));
        by_flavor && by_dependency
    }

    /// Whether the event's case is concerned (no query: every case).
    fn concerns(&self, event: &CaseEvent, now: DateTime<Utc>) -> bool {
        match (&self.query, &event.case_after) {
            (None, _) => true,
            (Some(q), Some(case)) => q.matches(case, now),
            (Some(_), None) => false,
        }
    }
}

/// The clock windows are judged by; tests fast-forward a [`ManualClock`].
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock stopped at `t`.
    pub fn new(t: DateTime<Utc>) -> Arc<Self> {
        Arc::new(Self(Mutex::new(t)))
    }

    /// Moves it to `t`.
    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut now) = self.0.lock() {
            *now = t;
        }
    }

    /// Moves it forward by `by`.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.0.lock() {
            let by = chrono::TimeDelta::from_std(by).unwrap_or(chrono::TimeDelta::MAX);
            *now = now
                .checked_add_signed(by)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|t| *t).unwrap_or_else(|_| Utc::now())
    }
}

/// What the gate says about an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Handle it.
    Proceed,
    /// Skip it, naming the window.
    Skip(String),
    /// Hold it (and pause its partition); ask again after this long.
    Hold(Duration),
}

/// The windows that concern one flavor, judged by one clock.
#[derive(Debug, Clone)]
pub struct Gate {
    windows: Vec<Window>,
    clock: Arc<dyn Clock>,
}

/// How often a held event asks again, at most.
const RECHECK: Duration = Duration::from_secs(1);

impl Gate {
    /// The windows among `all` that concern `flavor`.
    pub fn new(all: &[Window], flavor: &str, dependencies: &[&str], clock: Arc<dyn Clock>) -> Self {
        let windows = all
            .iter()
            .filter(|w| w.applies_to(flavor, dependencies))
            .cloned()
            .collect();
        Self { windows, clock }
    }

    /// A gate with no windows.
    pub fn open() -> Self {
        Self {
            windows: Vec::new(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The name of an open pause window without a query (the whole flavor pauses).
    pub fn paused(&self) -> Option<&str> {
        let now = self.clock.now();
        self.windows
            .iter()
            .find(|w| w.mode == Mode::Pause && w.query.is_none() && w.is_open(now))
            .map(|w| w.name.as_str())
    }

    /// What to do with an event now.
    pub fn check(&self, event: &CaseEvent) -> Decision {
        let now = self.clock.now();
        let open = self
            .windows
            .iter()
            .find(|w| w.is_open(now) && w.concerns(event, now));
        match open {
            None => Decision::Proceed,
            Some(w) if w.mode == Mode::Skip => Decision::Skip(w.name.clone()),
            Some(w) => {
                let left = w
                    .closes_at(now)
                    .map_or(RECHECK, |end| (end - now).to_std().unwrap_or_default());
                Decision::Hold(left.clamp(Duration::from_millis(50), RECHECK))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn window(yaml: &str) -> Window {
        let c: WindowConfig = serde_yaml::from_str(yaml).unwrap();
        Window::try_from(&c).unwrap()
    }

    #[test]
    fn absolute_windows_are_half_open_intervals() {
        let w = window(
            "{name: w, mode: pause, start: 2026-12-01T02:00:00Z, end: 2026-12-01T04:00:00Z}",
        );
        assert!(!w.is_open(at("2026-12-01T01:59:59Z")));
        assert!(w.is_open(at("2026-12-01T02:00:00Z")));
        assert!(!w.is_open(at("2026-12-01T04:00:00Z")));
        assert_eq!(
            w.closes_at(at("2026-12-01T03:00:00Z")),
            Some(at("2026-12-01T04:00:00Z"))
        );
    }

    #[test]
    fn recurring_windows_follow_cron_in_their_time_zone() {
        // Sundays 02:00-04:00 in Berlin (UTC+1 in December).
        let w = window("{name: w, mode: skip, cron: '0 2 * * Sun', duration_minutes: 120, timezone: Europe/Berlin}");
        assert!(w.is_open(at("2026-12-06T01:30:00Z")), "Sunday 02:30 Berlin");
        assert!(
            !w.is_open(at("2026-12-06T03:00:00Z")),
            "Sunday 04:00 Berlin: closed"
        );
        assert!(!w.is_open(at("2026-12-07T01:30:00Z")), "Monday");
        assert_eq!(
            w.closes_at(at("2026-12-06T01:30:00Z")),
            Some(at("2026-12-06T03:00:00Z"))
        );
    }

    #[test]
    fn invalid_windows_are_rejected_with_a_reason() {
        for (yaml, want) in [
            ("{name: w, mode: pause}", "either start and end"),
            ("{name: w, mode: pause, start: 2026-12-01T04:00:00Z, end: 2026-12-01T02:00:00Z}", "after start"),
            ("{name: w, mode: pause, cron: 'nope', duration_minutes: 5}", "cron"),
            ("{name: w, mode: pause, cron: '0 2 * * *', duration_minutes: 5, timezone: Mars/Olympus}", "time zone"),
        ] {
            let c: WindowConfig = serde_yaml::from_str(yaml).unwrap();
            let err = Window::try_from(&c).unwrap_err();
            assert!(err.contains(want), "{yaml}: {err}");
        }
    }

    #[test]
    fn windows_apply_by_flavor_and_dependency() {
        let w = window("{name: w, mode: pause, dependency: jira, start: 2026-12-01T02:00:00Z, end: 2026-12-01T04:00:00Z}");
        assert!(w.applies_to("jira", &["jira"]));
        assert!(!w.applies_to("timeline", &[]));
        let w = window("{name: w, mode: pause, flavors: [timeline], start: 2026-12-01T02:00:00Z, end: 2026-12-01T04:00:00Z}");
        assert!(w.applies_to("timeline", &[]) && !w.applies_to("jira", &["jira"]));
    }

    #[test]
    fn the_gate_skips_or_holds_while_open_and_proceeds_after() {
        let clock = ManualClock::new(at("2026-12-01T01:00:00Z"));
        let windows = [
            window("{name: upgrade, mode: pause, start: 2026-12-01T02:00:00Z, end: 2026-12-01T03:00:00Z}"),
            window("{name: quiet, mode: skip, start: 2026-12-01T05:00:00Z, end: 2026-12-01T06:00:00Z}"),
        ];
        let gate = Gate::new(&windows, "timeline", &[], clock.clone());
        let e = CaseEvent::default();
        assert_eq!(gate.check(&e), Decision::Proceed);
        clock.set(at("2026-12-01T02:30:00Z"));
        assert_eq!(gate.paused(), Some("upgrade"));
        assert!(matches!(gate.check(&e), Decision::Hold(_)));
        clock.set(at("2026-12-01T05:10:00Z"));
        assert_eq!(gate.paused(), None);
        assert_eq!(gate.check(&e), Decision::Skip("quiet".into()));
        clock.set(at("2026-12-01T07:00:00Z"));
        assert_eq!(gate.check(&e), Decision::Proceed);
    }
}
