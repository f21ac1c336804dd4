//! Feature flags: named booleans or rules (percentage, per flavor, per
//! project), evaluated per event. Configured under `features:`:
//!
//! ```yaml
//! features:
//!   search.highlight: true
//!   jira.sync_comments:
//!     enabled: false            # default for everyone else
//!     projects: { "9f1c…": true }
//!   timeline.rich_content:
//!     percentage: 25            # of cases, stable per case
//!     flavors: { timeline: true }
//! ```
//!
//! Precedence: project override, then flavor override, then `enabled`, then
//! `percentage`. An unknown flag is off.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use crate::event::CaseEvent;

/// One flag as configured.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum FlagConfig {
    /// On or off for everyone.
    Bool(bool),
    /// A rule.
    Rule(FlagRule),
}

/// A flag with overrides.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlagRule {
    /// The default where no override applies.
    pub enabled: bool,
    /// Share of cases (0–100) it is on for, stable per case; unset means all.
    pub percentage: Option<f64>,
    /// Per-flavor overrides.
    pub flavors: BTreeMap<String, bool>,
    /// Per-project-id overrides.
    pub projects: BTreeMap<String, bool>,
}

impl Default for FlagRule {
    fn default() -> Self {
        Self {
            enabled: true,
            percentage: None,
            flavors: BTreeMap::new(),
            projects: BTreeMap::new(),
        }
    }
}

impl FlagConfig {
    /// A problem with the value, if any.
    pub fn problem(&self) -> Option<String> {
        match self {
            FlagConfig::Rule(FlagRule {
                percentage: Some(p),
                ..
            }) if !(0.0..=100.0).contains(p) => {
                Some(format!("percentage must be within 0..=100, got {p}"))
            }
            _ => None,
        }
    }
}

/// Every flag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    flags: BTreeMap<String, FlagConfig>,
}

impl Flags {
    /// Flags from configuration.
    pub fn new(flags: BTreeMap<String, FlagConfig>) -> Self {
        Self { flags }
    }

    /// Whether `name` is configured at all.
    pub fn defined(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    /// Whether `name` is on for this event handled by `flavor`.
    pub fn enabled(&self, name: &str, flavor: &str, event: &CaseEvent) -> bool {
        match self.flags.get(name) {
            None => false,
            Some(FlagConfig::Bool(on)) => *on,
            Some(FlagConfig::Rule(rule)) => {
                if let Some(on) = rule.projects.get(&event.project_id) {
                    return *on;
                }
                if let Some(on) = rule.flavors.get(flavor) {
                    return *on;
                }
                let subject = if event.case_id.is_empty() {
                    &event.project_id
                } else {
                    &event.case_id
                };
                rule.enabled && rule.percentage.is_none_or(|p| bucket(name, subject) < p)
            }
        }
    }
}

/// A stable 0–100 bucket for (flag, subject): FNV-1a, so every replica and
/// every restart agrees.
fn bucket(name: &str, subject: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain([b':']).chain(subject.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 10_000) as f64 / 100.0
}

/// Flags that a config reload can swap while events are handled.
#[derive(Debug, Clone, Default)]
pub struct LiveFlags(Arc<RwLock<Arc<Flags>>>);

impl LiveFlags {
    /// Live flags starting from `flags`.
    pub fn new(flags: Flags) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(flags))))
    }

    /// The flags in force now.
    pub fn load(&self) -> Arc<Flags> {
        self.0.read().map(|f| f.clone()).unwrap_or_default()
    }

    /// Replaces the flags.
    pub fn store(&self, flags: Flags) {
        if let Ok(mut f) = self.0.write() {
            *f = Arc::new(flags);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(yaml: &str) -> Flags {
        Flags::new(serde_yaml::from_str(yaml).unwrap())
    }

    fn event(project: &str, case: &str) -> CaseEvent {
        CaseEvent {
            project_id: project.into(),
            case_id: case.into(),
            ..CaseEvent::default()
        }
    }

    #[test]
    fn a_kill_switch_is_on_until_configured_off() {
        let ctx = |f: Flags| crate::handler::Ctx::new("jira", None, 1).with_flags(Arc::new(f));
        let ev = event("p-off", "c");
        assert!(ctx(Flags::default()).flag_or("jira.sync_comments", &ev, true));
        assert!(!ctx(Flags::default()).flag("jira.sync_comments", &ev));
        let off = flags("jira.sync_comments: { enabled: true, projects: { p-off: false } }");
        assert!(!ctx(off.clone()).flag_or("jira.sync_comments", &ev, true));
        assert!(ctx(off).flag_or("jira.sync_comments", &event("p-on", "c"), true));
    }

    #[test]
    fn booleans_and_unknown_flags() {
        let f = flags("{a: true, b: false}");
        assert!(f.enabled("a", "timeline", &event("p", "c")));
        assert!(!f.enabled("b", "timeline", &event("p", "c")));
        assert!(!f.enabled("unknown", "timeline", &event("p", "c")));
    }

    #[test]
    fn project_beats_flavor_beats_default() {
        let f =
            flags("{x: {enabled: false, flavors: {jira: true}, projects: {p1: false, p2: true}}}");
        assert!(
            !f.enabled("x", "jira", &event("p1", "c")),
            "project override wins"
        );
        assert!(f.enabled("x", "timeline", &event("p2", "c")));
        assert!(f.enabled("x", "jira", &event("p3", "c")), "flavor override");
        assert!(!f.enabled("x", "timeline", &event("p3", "c")), "default");
    }

    #[test]
    fn percentage_is_stable_per_case_and_roughly_right() {
        let f = flags("{x: {percentage: 25}}");
        let on = (0..4000)
            .filter(|i| f.enabled("x", "t", &event("p", &format!("case-{i}"))))
            .count();
        assert!((800..1200).contains(&on), "{on} of 4000 for 25%");
        let e = event("p", "case-7");
        let first = f.enabled("x", "t", &e);
        assert!((0..10).all(|_| f.enabled("x", "t", &e) == first));
    }

    #[test]
    fn out_of_range_percentages_are_problems() {
        let c: FlagConfig = serde_yaml::from_str("{percentage: 120}").unwrap();
        assert!(c.problem().unwrap().contains("0..=100"));
    }

    #[test]
    fn live_flags_swap() {
        let live = LiveFlags::new(flags("{a: true}"));
        assert!(live.load().enabled("a", "t", &event("p", "c")));
        live.store(flags("{a: false}"));
        assert!(!live.load().enabled("a", "t", &event("p", "c")));
    }
}
