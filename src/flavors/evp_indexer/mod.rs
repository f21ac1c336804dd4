//! evp-indexer: every case event as a document in the Datadog logs intake.
//!
//! Consumes: every event type, case- and project-scoped.
//! Effects: one flat JSON document per event (envelope fields, the case
//! snapshot under `case.`, the payload under `payload.`, `ddsource`,
//! `service`, `ddtags` from project, priority, status and teams, `message`)
//! POSTed in batches to the logs intake (`POST /api/v2/logs`, gzip,
//! `DD-API-KEY`), at most 1,000 entries and 5 MB uncompressed per request.
//! Idempotency key: the event id, sent as the `event_id` attribute (the intake
//! has no dedup) and kept in the runtime's processed-events ledger once the
//! intake answered 202, so a redelivered event is not sent again. A request
//! that timed out after the intake took it goes again on retry; such copies
//! carry the same `event_id`.
//! Retries: transport errors, timeouts, 408, 429 and 5xx are transient (with
//! `Retry-After` as the least delay) and the rest of the batch waits for the
//! runtime's retry of the failed events; a 413 splits the request in halves;
//! a 400 is bisected until the offending documents are alone, and only those
//! are discarded; 401/403 discard with an alert; an event that cannot become
//! a document is discarded as invalid.

mod client;
mod config;
mod doc;
mod intake;
mod memory;
mod ship;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::FutureExt;

use super::kit::{BuildCtx, BuildError, Built, ConfigOf, Consumes, FlavorSpec, Produces, Style};
use crate::event::Event;
use crate::handler::{BatchHandler, Ctx, HandleResp, HandlerError, Processor};
use crate::http::Dependency;

pub use client::{body, pack, Intake, Limits, Reply};
pub use config::{EvpConfig, MAX_BODY_BYTES, MAX_ENTRIES};
pub use doc::{document, DocContext, DocError};
pub use intake::{gzip, HttpIntake, LOGS_INTAKE};
pub use memory::Memory;
pub use ship::ship;

/// The flavor name.
pub const NAME: &str = "evp-indexer";

/// The registry row.
pub const SPEC: FlavorSpec = FlavorSpec {
    name: NAME,
    summary: "case events as documents in the Datadog logs intake, in gzip batches",
    style: Style::Batch,
    needs_store: false,
    dependencies: &[&LOGS_INTAKE],
    consumes: Consumes::all(),
    produces: Produces::NOTHING,
    metrics: &[],
    routes: &[],
    tables: &[],
    reads_rules: false,
    tools: None,
    config: &ConfigOf::<EvpConfig>::KIND,
    build: |ctx| build(ctx).boxed(),
};

async fn build(ctx: BuildCtx<'_>) -> Result<Built, BuildError> {
    let config: EvpConfig = ctx.config()?;
    let handler_timeout = ctx.settings().runtime_for(NAME).handler_timeout();
    let dep = ctx.client(&LOGS_INTAKE, Some(config.timeout()))?;
    let indexer = EvpIndexer::new(&config, dep, handler_timeout);
    Ok(Processor::Batch(Arc::new(indexer)).into())
}

/// Time kept back from the handler timeout besides one request's timeout.
const MARGIN: Duration = Duration::from_secs(1);

/// The batch handler.
pub struct EvpIndexer {
    intake: Arc<dyn Intake>,
    doc: DocContext,
    limits: Limits,
    memory: Memory,
    budget: Duration,
}

impl EvpIndexer {
    /// An indexer for a checked `config` over `dep`, whose calls must end
    /// within `handler_timeout`.
    pub fn new(config: &EvpConfig, dep: Dependency, handler_timeout: Duration) -> Self {
        let intake = HttpIntake::new(config, dep);
        let limits = Limits {
            max_entries: config.max_entries,
            max_body_bytes: config.max_body_bytes,
        };
        Self {
            intake: Arc::new(intake),
            doc: DocContext {
                ddsource: config.ddsource.clone(),
                service: config.service.clone(),
            },
            limits,
            memory: Memory::new(limits),
            // No request starts later than this into a call, so the last one
            // ends (or times out) before the runtime's handler timeout.
            budget: handler_timeout.saturating_sub(config.timeout() + MARGIN),
        }
    }

    fn serialize(
        &self,
        event: &Event,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<u8>, HandlerError> {
        let doc = document(event, &self.doc, now).map_err(HandlerError::invalid)?;
        serde_json::to_vec(&doc).map_err(HandlerError::invalid)
    }
}

#[async_trait]
impl BatchHandler for EvpIndexer {
    async fn handle_batch(&self, _ctx: &Ctx, events: &[&Event]) -> Vec<HandleResp> {
        let deadline = Instant::now() + self.budget;
        let now = chrono::Utc::now();
        let docs = events.iter().map(|e| self.serialize(e, now)).collect();
        let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        let intake = self.intake.as_ref();
        ship(intake, &ids, docs, self.limits, &self.memory, deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    async fn build_from(yaml: &str) -> Result<Built, BuildError> {
        let section: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
        let mut settings = Settings::default();
        settings.flavors.insert(NAME.into(), section);
        let spec = crate::flavors::find(NAME).unwrap();
        (SPEC.build)(BuildCtx::new(spec, &settings, None, None)).await
    }

    #[tokio::test]
    async fn builds_a_batch_handler_from_its_section_and_names_bad_keys() {
        let built = build_from("api_key: k\nurl: http://127.0.0.1:1/api/v2/logs\n").await;
        assert!(matches!(
            built.map(|b| b.processor),
            Ok(Processor::Batch(_))
        ));
        for (yaml, key) in [
            ("url: http://x\n", "api_key"),
            ("api_key: k\nbogus: 1\n", "bogus"),
        ] {
            let err = build_from(yaml).await.err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains(key)),
                "{yaml}: {err:?}"
            );
        }
        let err = build_from("~")
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("flavors.evp-indexer.api_key"), "{err}");
    }
}
