//! One simulated case: its current snapshot and lifecycle state, the choice of
//! the next plausible action, and the envelope around each payload.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::Rng;

use super::world::{pick, timestamp, uuid_v7, World};
use crate::event::pb::{
    case_event::Payload, Actor, ActorKind, CaseEvent, CaseSnapshot, Origin, OriginChannel,
    Priority, StatusGroup, TraceContext,
};
use crate::event::{EventType, SCHEMA_VERSION};

/// Mutable inputs of one step: the stream's rng, world and clock.
pub(super) struct Ctx<'a> {
    pub rng: &'a mut StdRng,
    pub world: &'a mut World,
    pub now_ms: i64,
}

/// What an action produced, before the envelope is added.
pub(super) struct Step {
    pub actor: Actor,
    pub origin: Option<Origin>,
    pub payload: Payload,
    /// Whether a handler recorded it in reaction to the previous event
    /// (sets causation and chain depth).
    pub derived: bool,
}

/// Things a case can do next; see `CaseSim::choose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Title,
    Description,
    Status,
    Reopen,
    Priority,
    Assign,
    OncallAssign,
    Unassign,
    Attribute,
    CustomAttribute,
    DueDate,
    CommentAdd,
    CommentEdit,
    CommentDelete,
    WatcherAdd,
    WatcherRemove,
    InsightAdd,
    InsightRemove,
    Link,
    Unlink,
    ReviewRequest,
    ReviewDecide,
    SignalCorrelated,
    TicketLinked,
    TicketChanged,
    SyncFailed,
    PageTrigger,
    PageAck,
    PageEscalate,
    PageResolve,
    IncidentDeclare,
    IncidentChanged,
    Notify,
    Suppress,
    RuleFired,
    WorkflowRequested,
    Sla,
    Archive,
    Unarchive,
    Move,
}

/// An on-call page of the case.
pub(super) struct Page {
    pub id: String,
    /// The responder, once acknowledged.
    pub acked_by: Option<String>,
}

/// State of one case between its events.
pub(super) struct CaseSim {
    pub org: usize,
    pub project: usize,
    pub case: CaseSnapshot,
    pub creation_source: &'static str,
    pub security: bool,
    /// Jira project key of the case's project, if it syncs to Jira.
    pub jira_key: Option<String>,
    pub version: u64,
    /// Events still to emit.
    pub remaining: usize,
    /// Cell ids of comments that are not deleted.
    pub comments: Vec<String>,
    pub page: Option<Page>,
    pub paged: bool,
    pub incident: Option<String>,
    /// (rule id, workflow handle) of the last fired automation rule.
    pub workflow: Option<(String, String)>,
    pub reviews: Reviews,
    pub signals: u32,
    /// Actions that must follow the last one (e.g. a page resolve after close).
    pub follow_ups: VecDeque<Action>,
    pub last_event_id: String,
    pub last_correlation_id: String,
}

/// Counters of the current review round.
#[derive(Default)]
pub(super) struct Reviews {
    pub pending: Vec<String>,
    pub requested: u32,
    pub approved: u32,
    pub declined: u32,
}

impl CaseSim {
    /// True once every event of the case was emitted.
    pub fn is_done(&self) -> bool {
        self.remaining == 0
    }

    /// Emits the case's next event (never `case.created`, see `create`).
    pub fn next_event(&mut self, ctx: &mut Ctx<'_>) -> CaseEvent {
        let action = self
            .follow_ups
            .pop_front()
            .unwrap_or_else(|| self.choose(ctx.rng));
        let step = self.apply(ctx, action);
        self.finish(ctx, step)
    }

    /// Picks a plausible next action for the current state, by weight.
    fn choose(&self, rng: &mut StdRng) -> Action {
        use Action as A;
        if self.case.archived_at.is_some() {
            return A::Unarchive;
        }
        let closed = self.group() == StatusGroup::Closed;
        let assigned = self.case.assignee_id.is_some();
        let urgent = matches!(self.priority(), Priority::P1 | Priority::P2);
        let jira = self.case.jira_issue.is_some();
        let page_open = self.page.is_some();
        let page_unacked = self.page.as_ref().is_some_and(|p| p.acked_by.is_none());
        let reviewing = !self.reviews.pending.is_empty();
        let weights = [
            (A::CommentAdd, 10),
            (
                if closed { A::Reopen } else { A::Status },
                if closed { 3 } else { 8 },
            ),
            (A::Priority, 4),
            (A::Title, 2),
            (A::Description, 2),
            (A::Attribute, 3),
            (A::CustomAttribute, 2),
            (A::DueDate, 1),
            (A::WatcherAdd, 2),
            (A::InsightAdd, 1),
            (A::Link, 1),
            (A::Notify, 3),
            (A::Suppress, 1),
            (A::Sla, 1),
            (A::RuleFired, 1),
            (A::Move, 1),
            (A::Assign, if assigned { 1 } else { 6 }),
            (A::Unassign, u32::from(assigned)),
            (A::CommentEdit, 2 * u32::from(!self.comments.is_empty())),
            (A::CommentDelete, u32::from(!self.comments.is_empty())),
            (A::WatcherRemove, u32::from(!self.case.watchers.is_empty())),
            (A::InsightRemove, u32::from(!self.case.insights.is_empty())),
            (A::Unlink, u32::from(!self.case.links.is_empty())),
            (A::ReviewRequest, u32::from(!reviewing && !closed)),
            (A::ReviewDecide, 3 * u32::from(reviewing)),
            (
                A::SignalCorrelated,
                2 * u32::from(self.creation_source != "Manual"),
            ),
            (
                A::TicketLinked,
                2 * u32::from(!jira && self.jira_key.is_some()),
            ),
            (A::TicketChanged, u32::from(jira)),
            (A::SyncFailed, u32::from(jira)),
            (
                A::PageTrigger,
                4 * u32::from(urgent && !self.paged && !closed),
            ),
            (A::PageAck, 4 * u32::from(page_unacked)),
            (A::PageEscalate, u32::from(page_unacked)),
            (A::PageResolve, u32::from(page_open)),
            (
                A::IncidentDeclare,
                u32::from(urgent && self.incident.is_none() && !closed),
            ),
            (A::IncidentChanged, u32::from(self.incident.is_some())),
            (A::Archive, 3 * u32::from(closed)),
        ];
        let total: u32 = weights.iter().map(|(_, w)| w).sum();
        let mut roll = rng.random_range(0..total);
        for (action, weight) in weights {
            if roll < weight {
                return action;
            }
            roll -= weight;
        }
        A::CommentAdd
    }

    /// Wraps a step into the envelope, advancing the case version.
    pub fn finish(&mut self, ctx: &mut Ctx<'_>, step: Step) -> CaseEvent {
        self.version += 1;
        self.remaining = self.remaining.saturating_sub(1);
        let event_id = uuid_v7(ctx.rng, ctx.now_ms);
        let (causation_id, chain_depth, correlation_id) = if step.derived {
            let root = self.last_correlation_id.clone();
            (self.last_event_id.clone(), 1, root)
        } else {
            (String::new(), 0, event_id.clone())
        };
        let kind = EventType::of(&step.payload);
        let org = &ctx.world.orgs[self.org];
        let project = &org.projects[self.project];
        let published_ms = ctx.now_ms + ctx.rng.random_range(5..800);
        let event = CaseEvent {
            event_id: event_id.clone(),
            event_type: kind.as_str().to_owned(),
            schema_version: SCHEMA_VERSION,
            org_id: org.id.clone(),
            project_id: project.id.clone(),
            project_key: project.key.clone(),
            case_id: self.case.id.clone(),
            case_key: self.case.key.clone(),
            aggregate_version: self.version,
            occurred_at: Some(timestamp(ctx.now_ms)),
            published_at: Some(timestamp(published_ms)),
            actor: Some(step.actor),
            origin: step.origin,
            causation_id,
            correlation_id: correlation_id.clone(),
            chain_depth,
            trace: Some(trace(ctx.rng)),
            case_after: Some(self.case.clone()),
            payload: Some(step.payload),
        };
        self.last_event_id = event_id;
        self.last_correlation_id = correlation_id;
        event
    }

    /// Records a human modification in the snapshot.
    pub fn touch(&mut self, ctx: &Ctx<'_>, actor: &Actor) {
        self.case.modified_at = Some(timestamp(ctx.now_ms));
        if actor.kind == ActorKind::User as i32 {
            self.case.modified_by = Some(actor.id.clone());
        }
    }

    /// A random user of the case's org, acting through the UI or the API.
    pub fn user(&self, ctx: &mut Ctx<'_>) -> (Actor, Option<Origin>) {
        let user = pick(ctx.rng, &ctx.world.orgs[self.org].users);
        let channel = if ctx.rng.random_bool(0.9) {
            OriginChannel::Ui
        } else {
            OriginChannel::Api
        };
        let actor = Actor {
            kind: ActorKind::User as i32,
            id: user.id.clone(),
            display_name: user.name.clone(),
        };
        (actor, Some(origin(channel, None)))
    }

    /// A human step: the user's actor and origin, recording the modification.
    pub fn by_user(&mut self, ctx: &mut Ctx<'_>, payload: Payload) -> Step {
        let (actor, origin) = self.user(ctx);
        self.touch(ctx, &actor);
        Step {
            actor,
            origin,
            payload,
            derived: false,
        }
    }

    /// (id, name) of a user of the org other than `not`, if there is one.
    pub fn other_user(&self, ctx: &mut Ctx<'_>, not: &str) -> Option<(String, String)> {
        let users = &ctx.world.orgs[self.org].users;
        let others: Vec<_> = users.iter().filter(|u| u.id != not).collect();
        if others.is_empty() {
            return None;
        }
        let user = pick(ctx.rng, &others);
        Some((user.id.clone(), user.name.clone()))
    }

    pub fn group(&self) -> StatusGroup {
        StatusGroup::try_from(self.case.status_group).unwrap_or_default()
    }

    pub fn priority(&self) -> Priority {
        Priority::try_from(self.case.priority).unwrap_or_default()
    }
}

/// A non-human actor (platform or integration).
pub(super) fn service_actor(kind: ActorKind, id: &str, name: &str) -> Actor {
    Actor {
        kind: kind as i32,
        id: id.to_owned(),
        display_name: name.to_owned(),
    }
}

/// An origin on `channel`.
pub(super) fn origin(channel: OriginChannel, external_ref: Option<String>) -> Origin {
    Origin {
        channel: channel as i32,
        external_ref,
    }
}

/// A fresh, sampled W3C trace context.
fn trace(rng: &mut StdRng) -> TraceContext {
    TraceContext {
        traceparent: format!(
            "00-{:032x}-{:016x}-01",
            rng.random::<u128>(),
            rng.random::<u64>()
        ),
        tracestate: String::new(),
    }
}
