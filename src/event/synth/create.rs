//! The first event of a simulated case: `case.created` with a plausible
//! initial snapshot for its creation source.

use std::collections::VecDeque;

use rand::Rng;

use super::case_sim::{origin, service_actor, CaseSim, Ctx, Reviews, Step};
use super::world::{pick, timestamp, uuid_v7, CASE_TYPES, ENVIRONMENTS, SERVICES, SYMPTOMS, TEAMS};
use crate::event::pb::{
    case_event::Payload, ActorKind, CaseCreated, CaseEvent, CaseSnapshot, CustomAttributeType,
    CustomAttributeValue, Insight, InsightType, OriginChannel, Priority, StatusGroup, StringList,
};

/// How a case came to be: (creation source, index into `CASE_TYPES`, origin
/// channel, kind of the initial insight).
const SOURCES: &[(&str, usize, OriginChannel, Option<InsightType>)] = &[
    ("Manual", 0, OriginChannel::Ui, None),
    ("Manual", 2, OriginChannel::Ui, None),
    ("API", 0, OriginChannel::Api, None),
    (
        "Monitor",
        0,
        OriginChannel::Monitor,
        Some(InsightType::Monitor),
    ),
    (
        "Security Signal",
        1,
        OriginChannel::SecuritySignal,
        Some(InsightType::SecuritySignal),
    ),
    (
        "Event Management",
        3,
        OriginChannel::EventManagement,
        Some(InsightType::EventCorrelation),
    ),
    (
        "Error Tracking",
        4,
        OriginChannel::ErrorTracking,
        Some(InsightType::ErrorTracking),
    ),
];

impl CaseSim {
    /// Opens a new case that will emit `events` events in total, and returns
    /// it with its `case.created` event.
    pub fn create(ctx: &mut Ctx<'_>, events: usize) -> (Self, CaseEvent) {
        let org = ctx.rng.random_range(0..ctx.world.orgs.len());
        let project = ctx.rng.random_range(0..ctx.world.orgs[org].projects.len());
        let &(source, type_idx, channel, insight_type) = pick(ctx.rng, SOURCES);
        let case_id = uuid_v7(ctx.rng, ctx.now_ms);
        let proj = &mut ctx.world.orgs[org].projects[project];
        let (key, project_id, jira_key) =
            (proj.next_case_key(), proj.id.clone(), proj.jira_key.clone());

        let insight = insight_type.map(|kind| {
            let resource_id = ctx.rng.random_range(100_000..999_999u32).to_string();
            Insight {
                r#type: kind as i32,
                r#ref: format!("/{}/{resource_id}", kind.as_str_name().to_lowercase()),
                resource_id,
            }
        });
        let external_ref = insight.as_ref().map(|i| i.resource_id.clone());
        let mut sim = Self {
            org,
            project,
            case: CaseSnapshot {
                id: case_id.clone(),
                key,
                project_id,
                type_id: CASE_TYPES[type_idx].1.to_owned(),
                status_name: "Open".to_owned(),
                status_group: StatusGroup::Open as i32,
                created_at: Some(timestamp(ctx.now_ms)),
                insights: insight.into_iter().collect(),
                ..CaseSnapshot::default()
            },
            creation_source: source,
            security: type_idx == 1,
            jira_key,
            version: 0,
            remaining: events,
            comments: Vec::new(),
            page: None,
            paged: false,
            incident: None,
            workflow: None,
            reviews: Reviews::default(),
            signals: u32::from(insight_type.is_some()),
            follow_ups: VecDeque::new(),
            last_event_id: String::new(),
            last_correlation_id: String::new(),
        };
        sim.fill_fields(ctx);

        let (actor, origin) = match channel {
            OriginChannel::Ui => sim.user(ctx),
            OriginChannel::Api => (
                service_actor(ActorKind::ApiKey, "ak-ci-pipeline", "CI pipeline"),
                Some(origin(channel, None)),
            ),
            _ => (
                service_actor(ActorKind::Integration, &source.to_lowercase(), source),
                Some(origin(channel, external_ref)),
            ),
        };
        if actor.kind == ActorKind::User as i32 {
            sim.case.created_by = Some(actor.id.clone());
            sim.case.watchers.push(actor.id.clone());
        }
        ctx.world.case_ids.push(case_id);
        let payload = Payload::CaseCreated(CaseCreated {
            snapshot: Some(Box::new(sim.case.clone())),
            creation_source: source.to_owned(),
        });
        let step = Step {
            actor,
            origin,
            payload,
            derived: false,
        };
        let event = sim.finish(ctx, step);
        (sim, event)
    }

    /// Title, description, priority, labels and custom attributes of a new case.
    fn fill_fields(&mut self, ctx: &mut Ctx<'_>) {
        let rng = &mut *ctx.rng;
        let (symptom, service) = (*pick(rng, SYMPTOMS), *pick(rng, SERVICES));
        self.case.title = format!("{symptom} on {service}");
        self.case.description =
            format!("**{symptom}** detected on `{service}`.\n\nSee the linked signals.");
        self.case.priority = if rng.random_bool(0.6) {
            Priority::NotDefined as i32
        } else {
            rng.random_range(1..=5)
        };
        let labels = [
            ("creation_source", self.creation_source),
            ("services", service),
            ("teams", *pick(rng, TEAMS)),
            ("environments", *pick(rng, ENVIRONMENTS)),
        ];
        for (key, value) in labels {
            let list = StringList {
                values: vec![value.to_owned()],
            };
            self.case.attributes.insert(key.to_owned(), list);
        }
        if rng.random_bool(0.5) {
            let impact = CustomAttributeValue {
                r#type: CustomAttributeType::Number as i32,
                is_multi: false,
                values: vec![rng.random_range(1..=5).to_string()],
            };
            self.case
                .custom_attributes
                .insert("business_impact".to_owned(), impact);
        }
    }
}
