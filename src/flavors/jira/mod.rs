//! jira: two-way sync between cases and Jira Cloud issues.
//!
//! Consumes: `case.created`, `case.title_changed`, `case.description_changed`,
//! `case.status_changed`, `case.priority_changed`, `case.assigned`,
//! `case.unassigned`, `case.due_date_changed`, `case.attribute_changed`,
//! `case.custom_attribute_changed`, `case.comment_added` and
//! `case.moved_to_project` of the projects whose rules file enables
//! `integrations.jira` (matched by `project.id`). Events whose origin channel
//! is JIRA are skipped (they came from Jira).
//! Rules: each project's `integrations.jira` (site, token and webhook secret
//! by secret name, project key, account, field modes, mappings;
//! `rules::schema::jira`), through `BuildCtx::rules`; `rules.dir` is required
//! and a `flavors.jira.projects` section refuses the start, saying where the
//! settings moved. A reload takes effect on the next event or delivery: the
//! projects are taken again once per rules version, and only a project whose
//! section changed gets a new client (`projects.rs`); a section whose secrets
//! cannot be read refuses the start, and on a reload keeps the project's
//! previous settings (logged).
//! Effects: Jira REST v3 writes (create issue with the `case-<id>` label and a
//! `caseLink` property, edit fields, assign, transition, comment with a
//! `caseSync` property). Kit state: an intent per case (kind `case`, target
//! `issue`: the case ↔ issue link, its stale flag) and per comment cell (kind
//! `comment`, target the issue id), field-sync digests per case field and
//! inbound marks per issue field (`kit::intent`, `kit::fieldsync`). Inbound,
//! `POST /webhooks/jira` (served whenever there is a producer) turns changes
//! of two-way fields into `external_ticket.changed` events (origin JIRA) on
//! the produce topic, each delivery verified with the webhook secret of the
//! issue's project in the rules in force.
//! Idempotency key: the event id in the processed-events ledger, written
//! after the Jira writes; a retry repeats only writes whose digest was not
//! recorded (edits, assign, transitions are idempotent); a create or comment
//! is a kit intent with a lookup (the `case-<id>` label, the comment's cell
//! property), so one case never gets two issues nor a cell two comments.
//! Webhook deliveries are claimed atomically by
//! `X-Atlassian-Webhook-Identifier` (one event per delivery).
//! Flags: `jira.sync_comments` (on unless configured; per project) turns
//! comment sync off: skip `disabled:jira.sync_comments`.
//! Retries: transport errors, timeouts, 408/409/425/429 (at least
//! `Retry-After`), 5xx, database errors and a create not yet visible to search
//! are transient; other 4xx are permanent (401/403 also alert; a 400 on a
//! transition refreshes the transitions once first); 404 marks the link stale
//! and skips.

mod adf;
mod changes;
mod client;
mod config;
mod plan;
mod projects;
mod state;
mod sync;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;

use super::kit::inbound::{Limits, Parts};
use super::kit::{
    BuildCtx, BuildError, Built, ConfigOf, Consumes, FlavorSpec, Produces, Product, Style,
};
use crate::event::pb::OriginChannel;
use crate::event::{Event, EventType as E};
use crate::handler::{Ctx, HandleResp, Handler, Processor, SkipReason};

pub use adf::from_markdown as markdown_to_adf;
pub use client::JIRA;
pub use config::{JiraConfig, ProjectConfig, SyncMode, PROJECTS_MOVED};
pub use plan::{digest, plan, Action, LinkView, Plan};
pub use projects::Projects;
pub use state::Project;

/// The registry row.
pub const SPEC: FlavorSpec = FlavorSpec {
    name: "jira",
    summary: "two-way sync of cases with Jira issues (REST v3 + webhook)",
    style: Style::Single,
    needs_store: true,
    dependencies: &[&JIRA],
    consumes: Consumes::types(&[
        E::CaseCreated,
        E::CaseTitleChanged,
        E::CaseDescriptionChanged,
        E::CaseStatusChanged,
        E::CasePriorityChanged,
        E::CaseAssigned,
        E::CaseUnassigned,
        E::CaseDueDateChanged,
        E::CaseAttributeChanged,
        E::CaseCustomAttributeChanged,
        E::CaseCommentAdded,
        E::CaseMovedToProject,
    ])
    .except_echoes_of(&[OriginChannel::Jira]),
    produces: Produces {
        what: &[Product::Event(E::ExternalTicketChanged)],
        origin: Some(OriginChannel::Jira),
    },
    metrics: &[],
    routes: std::slice::from_ref(&webhook::ROUTE),
    tables: &[],
    reads_rules: true,
    tools: None,
    config: &ConfigOf::<JiraConfig>::KIND,
    build: |ctx| build(ctx).boxed(),
};

async fn build(ctx: BuildCtx<'_>) -> Result<Built, BuildError> {
    let config: JiraConfig = ctx.config()?;
    let timeout = Duration::from_millis(config.timeout_ms);
    let rules = ctx.rules()?;
    let dep = ctx.client(&JIRA, Some(timeout))?;
    let projects = Projects::new(rules, dep).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        BuildError::Client {
            flavor: SPEC.name,
            message: lines.join("; "),
        }
    })?;
    let projects = Arc::new(projects);
    let st = state::SyncState::new(
        ctx.intents()?,
        ctx.field_sync()?,
        timeout,
        Duration::from_millis(config.create_lookup_window_ms),
    );
    let publisher = ctx.publisher(&[Product::Event(E::ExternalTicketChanged)])?;
    // Served whenever there is a producer: a reload may turn a field two-way.
    let routes = match publisher {
        Some(publisher) => {
            let publisher = match config.produce_topic.clone() {
                Some(topic) => publisher.to_topic(&topic),
                None => publisher,
            };
            let parts = Parts {
                verifier: Box::new(projects::ProjectVerifier(projects.clone())),
                receiver: webhook::JiraInbound {
                    projects: projects.clone(),
                    st: st.clone(),
                },
                publisher,
                limits: Limits {
                    body_bytes: config.webhook_max_body_bytes,
                    ..Limits::default()
                },
            };
            vec![ctx.inbound(&webhook::ROUTE, parts)?]
        }
        // File sources (replays) run without a producer: outbound only.
        None => {
            if projects.any_inbound() {
                tracing::warn!("jira: no Kafka producer, so no webhook route (inbound sync off)");
            }
            Vec::new()
        }
    };
    let handler = JiraSync { projects, st };
    Ok(Built {
        processor: Processor::Single(Arc::new(handler)),
        routes,
        deliverer: None,
    })
}

/// Kill switch of comment sync (on unless configured off, e.g. per project).
pub const SYNC_COMMENTS: &str = "jira.sync_comments";

/// The outbound handler.
pub struct JiraSync {
    projects: Arc<Projects>,
    st: state::SyncState,
}

#[async_trait]
impl Handler for JiraSync {
    async fn handle(&self, ctx: &Ctx, event: &Event) -> HandleResp {
        let synced = self.projects.current();
        let Some(project) = synced.by_id.get(&event.project_id) else {
            return HandleResp::Skip(SkipReason::Other("project-not-synced".into()));
        };
        let comment = event.kind() == E::CaseCommentAdded;
        if comment && !ctx.flag_or(SYNC_COMMENTS, event, true) {
            return HandleResp::Skip(SkipReason::Disabled(SYNC_COMMENTS.into()));
        }
        match sync::sync(project, &self.st, event).await {
            Ok(sync::Outcome::Done) => HandleResp::Success,
            Ok(sync::Outcome::Skip(why)) => HandleResp::Skip(SkipReason::Other(why)),
            Err(err) => HandleResp::classify(Err(err.into())),
        }
    }
}
