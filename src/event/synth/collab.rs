//! Collaboration on a simulated case: insights, links, reviews and
//! correlated signals.

use rand::Rng;

use super::case_sim::{origin, service_actor, CaseSim, Ctx, Reviews, Step};
use super::world::{pick, uuid_v4, uuid_v7};
use crate::event::pb::{case_event::Payload as P, *};

const INSIGHT_TYPES: &[InsightType] = &[
    InsightType::Monitor,
    InsightType::SecuritySignal,
    InsightType::ErrorTracking,
    InsightType::Event,
    InsightType::WatchdogStory,
    InsightType::ScmUrl,
];

const RELATIONSHIPS: &[LinkRelationship] = &[
    LinkRelationship::RelatesTo,
    LinkRelationship::Causes,
    LinkRelationship::Blocks,
    LinkRelationship::Duplicates,
    LinkRelationship::ParentOf,
];

impl CaseSim {
    pub(super) fn insight_add(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let kind = *pick(ctx.rng, INSIGHT_TYPES);
        let resource_id = ctx.rng.random_range(100_000..999_999u32).to_string();
        let insight = Insight {
            r#type: kind as i32,
            r#ref: format!("/{}/{resource_id}", kind.as_str_name().to_lowercase()),
            resource_id,
        };
        self.case.insights.push(insight.clone());
        let payload = P::CaseInsightAdded(CaseInsightAdded {
            insight: Some(insight),
        });
        self.by_user(ctx, payload)
    }

    pub(super) fn insight_remove(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        if self.case.insights.is_empty() {
            return None;
        }
        let i = ctx.rng.random_range(0..self.case.insights.len());
        let insight = Some(self.case.insights.remove(i));
        Some(self.by_user(ctx, P::CaseInsightRemoved(CaseInsightRemoved { insight })))
    }

    /// Links this case (as parent) to an earlier case.
    pub(super) fn link(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        let others: Vec<_> = ctx
            .world
            .case_ids
            .iter()
            .filter(|id| **id != self.case.id)
            .collect();
        if others.is_empty() {
            return None;
        }
        let child = (*pick(ctx.rng, &others)).clone();
        let relationship = *pick(ctx.rng, RELATIONSHIPS);
        let link = self.new_link(ctx, LinkedEntityType::Case, child, relationship);
        Some(self.by_user(ctx, P::CaseLinked(CaseLinked { link: Some(link) })))
    }

    /// Adds a link from this case to `child` to the snapshot.
    pub(super) fn new_link(
        &mut self,
        ctx: &mut Ctx<'_>,
        kind: LinkedEntityType,
        child: String,
        relationship: LinkRelationship,
    ) -> CaseLink {
        let link = CaseLink {
            link_id: uuid_v7(ctx.rng, ctx.now_ms),
            parent: Some(EntityRef {
                r#type: LinkedEntityType::Case as i32,
                id: self.case.id.clone(),
            }),
            child: Some(EntityRef {
                r#type: kind as i32,
                id: child,
            }),
            relationship: relationship as i32,
        };
        self.case.links.push(link.clone());
        link
    }

    pub(super) fn unlink(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        if self.case.links.is_empty() {
            return None;
        }
        let i = ctx.rng.random_range(0..self.case.links.len());
        let link = Some(self.case.links.remove(i));
        Some(self.by_user(ctx, P::CaseUnlinked(CaseUnlinked { link })))
    }

    /// Asks one to three colleagues (never the assignee) for approval.
    pub(super) fn review_request(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        let (actor, origin) = self.user(ctx);
        let skip = |id: &String| Some(id) == self.case.assignee_id.as_ref() || *id == actor.id;
        let mut candidates: Vec<String> = ctx.world.orgs[self.org]
            .users
            .iter()
            .map(|u| u.id.clone())
            .filter(|id| !skip(id))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let wanted = ctx.rng.random_range(1..=3).min(candidates.len());
        let reviewer_ids: Vec<String> = (0..wanted)
            .map(|_| candidates.swap_remove(ctx.rng.random_range(0..candidates.len())))
            .collect();
        self.case.reviewers = reviewer_ids
            .iter()
            .map(|id| Reviewer {
                user_id: id.clone(),
                state: ReviewState::Requested as i32,
            })
            .collect();
        self.reviews = Reviews {
            pending: reviewer_ids.clone(),
            requested: u32::try_from(wanted).unwrap_or(u32::MAX),
            ..Reviews::default()
        };
        self.touch(ctx, &actor);
        let message = "Please review the remediation plan.".to_owned();
        let payload = P::CaseReviewRequested(CaseReviewRequested {
            reviewer_ids,
            message,
        });
        Some(Step {
            actor,
            origin,
            payload,
            derived: false,
        })
    }

    /// One pending reviewer approves (mostly) or declines.
    pub(super) fn review_decide(&mut self, ctx: &mut Ctx<'_>) -> Option<Step> {
        if self.reviews.pending.is_empty() {
            return None;
        }
        let i = ctx.rng.random_range(0..self.reviews.pending.len());
        let reviewer_id = self.reviews.pending.swap_remove(i);
        let approved = ctx.rng.random_bool(0.8);
        let decision = if approved {
            ReviewState::Approved
        } else {
            ReviewState::Declined
        };
        let mut satisfied = Vec::new();
        if approved {
            self.reviews.approved += 1;
            if self.reviews.approved == 1 {
                satisfied.push(ApprovalType::First as i32);
            }
            satisfied.push(ApprovalType::Each as i32);
            if self.reviews.approved == self.reviews.requested {
                satisfied.push(ApprovalType::All as i32);
            }
        } else {
            self.reviews.declined += 1;
        }
        for reviewer in &mut self.case.reviewers {
            if reviewer.user_id == reviewer_id {
                reviewer.state = decision as i32;
            }
        }
        let users = &ctx.world.orgs[self.org].users;
        let name = users
            .iter()
            .find(|u| u.id == reviewer_id)
            .map(|u| u.name.as_str());
        let actor = service_actor(ActorKind::User, &reviewer_id, name.unwrap_or_default());
        self.touch(ctx, &actor);
        let payload = P::CaseReviewDecided(CaseReviewDecided {
            reviewer_id,
            decision: decision as i32,
            requested_count: self.reviews.requested,
            approved_count: self.reviews.approved,
            declined_count: self.reviews.declined,
            satisfied,
        });
        let origin = Some(origin(OriginChannel::Ui, None));
        Some(Step {
            actor,
            origin,
            payload,
            derived: false,
        })
    }

    /// Event correlation attaches more events/alerts to the case.
    pub(super) fn signal_correlated(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let refs = |ctx: &mut Ctx<'_>, prefix: &str, max: u32| -> Vec<String> {
            let n = ctx.rng.random_range(0..=max);
            (0..n)
                .map(|_| format!("{prefix}-{}", ctx.rng.random_range(1_000..9_999)))
                .collect()
        };
        let new_event_refs = refs(ctx, "evt", 3);
        let new_alert_refs = refs(ctx, "alert", 1);
        let added = new_event_refs.len() + new_alert_refs.len();
        self.signals += u32::try_from(added).unwrap_or(u32::MAX);
        let group = format!("corr-{}", self.case.id.get(..8).unwrap_or_default());
        let actor = service_actor(
            ActorKind::Integration,
            "event-management",
            "Event Management",
        );
        let payload = P::CaseSignalCorrelated(CaseSignalCorrelated {
            correlation_group_id: group,
            new_event_refs,
            new_alert_refs,
            total_count: self.signals,
        });
        let origin = Some(origin(
            OriginChannel::EventManagement,
            Some(uuid_v4(ctx.rng)),
        ));
        Step {
            actor,
            origin,
            payload,
            derived: false,
        }
    }
}
