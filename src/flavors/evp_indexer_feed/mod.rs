//! evp-indexer-feed: one Datadog event per case milestone (Events v2).
//!
//! Consumes: `case.created`, `case.status_changed`, `case.priority_changed`,
//! `case.assigned`, `incident.declared_from_case`; every other type is
//! routed away on the record header without decoding.
//! Effects: for a milestone (created; status group changed; closed;
//! reopened; priority changed; assigned; escalated to an incident) one
//! `alert` event `POST`ed alone to the event-management intake
//! (`/api/v2/events`, `DD-API-KEY`): title ≤ 500 and message ≤ 4,000
//! characters, `aggregation_key` = the case id (so a case is one correlated
//! alert whose state follows its latest milestone), tags `case:`,
//! `project:`, `priority:`, `team:`, `service:` and the configured ones,
//! `timestamp` = when it happened, alert `status` from the case's state
//! (closed → ok; open P1/P2 or an incident → error; otherwise warn) and
//! `priority` 1–5 from the case's. A status change within one group is not a
//! milestone (skipped as `other:no-milestone`); an event older than the
//! intake keeps (18 h, less a margin for clocks) is skipped as
//! `other:older-than-intake-window`, never sent to be dropped in silence.
//! Idempotency key: the event id, in the runtime's processed-events ledger
//! once the intake answered 202 (the intake has no dedup; the id is also the
//! event's `custom.event_id`). A request whose answer was lost goes again on
//! retry and may make a second copy of that one event.
//! Retries: transport errors, timeouts, 408, 429 (after `Retry-After` or
//! `X-RateLimit-Reset`) and 5xx retry; 400 discards the event; 401/403
//! discard with an alert (operator action). Every event names a case and
//! has a payload: handlers get a validated `event::Event`, refused at the
//! intake otherwise.

mod config;
mod milestone;

use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt;
use reqwest::header::CONTENT_TYPE;

use super::kit::{BuildCtx, BuildError, Built, ConfigOf, Consumes, FlavorSpec, Produces, Style};
use crate::event::Event;
use crate::handler::{Ctx, HandleResp, Handler, HandlerError, Processor, SkipReason};
use crate::http::{Dependency, DependencySpec};
use crate::settings::SecretString;

pub use config::FeedConfig;
pub use milestone::{event_body, Milestone, Outcome, MAX_EVENT_AGE};

/// The flavor name.
pub const NAME: &str = "evp-indexer-feed";

/// The Datadog event-management intake.
pub static EVENTS_INTAKE: DependencySpec = DependencySpec::new(
    "events-intake",
    "Datadog event-management intake (POST /api/v2/events, DD-API-KEY)",
);

/// The registry row.
pub const SPEC: FlavorSpec = FlavorSpec {
    name: NAME,
    summary: "one Datadog event per case milestone, to the events intake",
    style: Style::Single,
    needs_store: false,
    dependencies: &[&EVENTS_INTAKE],
    consumes: Consumes::types(&milestone::CONSUMED),
    produces: Produces::NOTHING,
    metrics: &[],
    routes: &[],
    tables: &[],
    reads_rules: false,
    tools: None,
    config: &ConfigOf::<FeedConfig>::KIND,
    build: |ctx| build(ctx).boxed(),
};

async fn build(ctx: BuildCtx<'_>) -> Result<Built, BuildError> {
    let config: FeedConfig = ctx.config()?;
    let dep = ctx.client(&EVENTS_INTAKE, Some(config.timeout()))?;
    Ok(Processor::Single(Arc::new(Feed::new(config, dep))).into())
}

/// The handler.
pub struct Feed {
    dep: Dependency,
    url: String,
    api_key: SecretString,
    tags: Vec<String>,
}

impl Feed {
    /// A feed for a checked `config` over `dep` (a client of [`EVENTS_INTAKE`]).
    pub fn new(config: FeedConfig, dep: Dependency) -> Self {
        Self {
            dep,
            url: config.endpoint.url,
            api_key: config.endpoint.secret,
            tags: config.tags,
        }
    }

    async fn post(&self, body: serde_json::Value) -> Result<(), HandlerError> {
        let request = (self.dep.client().post(&self.url))
            .header(CONTENT_TYPE, "application/json")
            .header("DD-API-KEY", self.api_key.expose())
            .json(&body);
        self.dep.send(request, None).await?;
        Ok(())
    }
}

#[async_trait]
impl Handler for Feed {
    async fn handle(&self, _ctx: &Ctx, event: &Event) -> HandleResp {
        match event_body(event, &self.tags, chrono::Utc::now()) {
            Outcome::Send(body) => HandleResp::classify(self.post(body).await),
            Outcome::Skip(why) => HandleResp::Skip(SkipReason::Other(why.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    async fn build_from(yaml: &str) -> Result<Built, BuildError> {
        let mut settings = Settings::default();
        (settings.flavors).insert(NAME.into(), serde_yaml::from_str(yaml).unwrap());
        let spec = crate::flavors::find(NAME).unwrap();
        (SPEC.build)(BuildCtx::new(spec, &settings, None, None)).await
    }

    #[tokio::test]
    async fn builds_a_single_handler_and_names_bad_keys() {
        let built = build_from("api_key: k\n").await.map(|b| b.processor);
        assert!(matches!(built, Ok(Processor::Single(_))));
        let err = build_from("url: ftp://x\n")
            .await
            .err()
            .unwrap()
            .to_string();
        for key in ["api_key", "url"] {
            assert!(err.contains(&format!("flavors.{NAME}.{key}")), "{err}");
        }
    }
}
