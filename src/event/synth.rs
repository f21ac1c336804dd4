//! Deterministic synthetic event streams, for the `produce` command and tests.
//!
//! [`Synth`] plays out case lifecycles in a small world of orgs, users and
//! projects and yields their events interleaved like real traffic, while
//! each case's own events stay in order:
//!
//! - every case starts with `case.created` at `aggregate_version` 1 and then
//!   counts up by exactly 1 per event;
//! - `case_after` always reflects the change just made;
//! - status changes follow the groups (open → in progress → closed, with
//!   reopens), comment edits and deletes name a live comment, pages are
//!   acknowledged and resolved, closing resolves an open page, and so on;
//! - `occurred_at` strictly increases across the whole stream;
//! - ids are UUIDs (event ids UUIDv7 from the synthetic clock) and case keys
//!   are `<PROJECT_KEY>-<seq>`.
//!
//! The same seed and spec always give the same stream (within one version of
//! `rand`, whose `StdRng` algorithm may change between releases). System-
//! internal events (SLA timers, notifications, auto-close) carry no `origin`.
//!
//! [`arbitrary_event`] instead builds structurally valid events with random
//! field values, covering every payload variant, for property tests.

mod actions;
mod arbitrary;
mod case_sim;
mod collab;
mod create;
mod random_payload;
mod reactions;
mod world;

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use arbitrary::{arbitrary_event, arbitrary_event_of};

use self::case_sim::{origin, CaseSim, Ctx};
use self::world::{pick, timestamp, uuid_v4, uuid_v7, World};
use crate::event::pb::{
    case_event::Payload, Actor, ActorKind, CaseEvent, OriginChannel, ProjectSettingsChanged,
    RuleChange, RuleChanged,
};
use crate::event::{EventType, SCHEMA_VERSION};

/// Shape of a synthetic stream. Counts below 1 are treated as 1, except
/// `cases` and `project_events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSpec {
    /// Number of cases to create.
    pub cases: usize,
    /// Events per case, `case.created` included.
    pub events_per_case: usize,
    /// Number of organisations.
    pub orgs: usize,
    /// Projects in each organisation.
    pub projects_per_org: usize,
    /// Users in each organisation.
    pub users_per_org: usize,
    /// Most cases with events still to come at any time; bounds how far
    /// apart one case's events are spread.
    pub max_open_cases: usize,
    /// Project-scoped events (`project.settings_changed`, `rule.changed`)
    /// to sprinkle over the stream.
    pub project_events: usize,
    /// Time of the first event.
    pub start: DateTime<Utc>,
}

impl Default for SynthSpec {
    fn default() -> Self {
        Self {
            cases: 100,
            events_per_case: 12,
            orgs: 2,
            projects_per_org: 3,
            users_per_org: 8,
            max_open_cases: 16,
            project_events: 0,
            // 2025-01-06T08:00:00Z.
            start: DateTime::from_timestamp(1_736_150_400, 0).unwrap_or_default(),
        }
    }
}

impl SynthSpec {
    /// Total number of events the stream yields.
    pub fn total_events(&self) -> usize {
        self.cases * self.events_per_case.max(1) + self.project_events
    }
}

/// Iterator over a synthetic event stream; see the [module docs](self).
pub struct Synth {
    rng: StdRng,
    spec: SynthSpec,
    world: World,
    active: Vec<CaseSim>,
    started: usize,
    now_ms: i64,
    case_events_left: usize,
    project_events_left: usize,
}

impl Synth {
    /// A stream of `spec.total_events()` events, fully determined by `seed`.
    pub fn new(seed: u64, spec: SynthSpec) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let world = World::new(&mut rng, &spec);
        Self {
            rng,
            now_ms: spec.start.timestamp_millis(),
            case_events_left: spec.cases * spec.events_per_case.max(1),
            project_events_left: spec.project_events,
            world,
            active: Vec::new(),
            started: 0,
            spec,
        }
    }

    /// The next event of some case: a new case, or one of the open ones.
    fn case_event(&mut self) -> CaseEvent {
        let per_case = self.spec.events_per_case.max(1);
        let can_start =
            self.started < self.spec.cases && self.active.len() < self.spec.max_open_cases.max(1);
        // Starting with probability 2/n keeps the window of open cases full.
        let start_p = (2.0 / per_case as f64).min(1.0);
        let mut ctx = Ctx {
            rng: &mut self.rng,
            world: &mut self.world,
            now_ms: self.now_ms,
        };
        if can_start && (self.active.is_empty() || ctx.rng.random_bool(start_p)) {
            self.started += 1;
            let (sim, event) = CaseSim::create(&mut ctx, per_case);
            if !sim.is_done() {
                self.active.push(sim);
            }
            return event;
        }
        let i = ctx.rng.random_range(0..self.active.len());
        let event = self.active[i].next_event(&mut ctx);
        if self.active[i].is_done() {
            self.active.swap_remove(i);
        }
        event
    }

    /// A project-scoped settings or rule change.
    fn project_event(&mut self) -> CaseEvent {
        let rng = &mut self.rng;
        let org_idx = rng.random_range(0..self.world.orgs.len());
        let org = &mut self.world.orgs[org_idx];
        let user = pick(rng, &org.users);
        let actor = Actor {
            kind: ActorKind::User as i32,
            id: user.id.clone(),
            display_name: user.name.clone(),
        };
        let project_idx = rng.random_range(0..org.projects.len());
        let project = &mut org.projects[project_idx];
        project.settings_version += 1;
        let (project_id, settings_version) = (project.id.clone(), project.settings_version);
        let payload = if rng.random_bool(0.5) {
            Payload::ProjectSettingsChanged(ProjectSettingsChanged {
                project_id: project_id.clone(),
                section: rng.random_range(1..=9),
                settings_version,
            })
        } else {
            Payload::RuleChanged(RuleChanged {
                project_id: project_id.clone(),
                kind: rng.random_range(1..=7),
                rule_id: uuid_v4(rng),
                change: RuleChange::Updated as i32,
                settings_version,
            })
        };
        let event_id = uuid_v7(rng, self.now_ms);
        CaseEvent {
            event_type: EventType::of(&payload).as_str().to_owned(),
            correlation_id: event_id.clone(),
            event_id,
            schema_version: SCHEMA_VERSION,
            org_id: org.id.clone(),
            project_id,
            project_key: project.key.clone(),
            occurred_at: Some(timestamp(self.now_ms)),
            published_at: Some(timestamp(self.now_ms + rng.random_range(5..800))),
            actor: Some(actor),
            origin: Some(origin(OriginChannel::Ui, None)),
            payload: Some(payload),
            ..CaseEvent::default()
        }
    }
}

impl Iterator for Synth {
    type Item = CaseEvent;

    fn next(&mut self) -> Option<CaseEvent> {
        let left = self.case_events_left + self.project_events_left;
        if left == 0 {
            return None;
        }
        // Between 1 s and 10 min after the previous event of the stream.
        self.now_ms += self.rng.random_range(1_000..=600_000);
        // Uniformly spread: project events get their share of what is left.
        if self.rng.random_range(0..left) < self.project_events_left {
            self.project_events_left -= 1;
            return Some(self.project_event());
        }
        self.case_events_left -= 1;
        Some(self.case_event())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.case_events_left + self.project_events_left;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Synth {}

#[cfg(test)]
mod tests;
