//! webhook: signed outbound webhooks (Standard Webhooks) to customer
//! endpoints, through the delivery queue (Kit II-d).
//!
//! Consumes: every case-scoped event (project-scoped ones are skipped as
//! not interesting, on the record header).
//! Rules: `webhooks` of each project's file (URL, signing `secret` by name
//! and `previous_secrets` still in rotation, `events`, an optional CQ
//! `query` on the case after the event, `enabled`), and the secrets they
//! name (`rules.secrets` or `rules.secrets_dir`). Read per event (the plan)
//! and per attempt (URL and secrets: a change applies to queued rows).
//! Effects: per event, one row in the delivery queue per endpoint that
//! takes it (`plan.rs`), written with the event's ledger row by the batch
//! writer; the event then settles, and the runtime's delivery worker POSTs
//! each row (`deliver.rs`): the Standard Webhooks envelope `{type,
//! timestamp, data}` (`data`: the event in proto3 JSON with its case
//! snapshot) with `webhook-id` (the event id), `webhook-timestamp` (this
//! attempt's) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
//! id.timestamp.body>`, one per secret). One endpoint's failures hold up
//! only its own rows, which stay in per-case order.
//! Idempotency key: the event id, claimed in the ledger with the rows (a
//! redelivered event enqueues nothing twice); receivers dedupe on
//! `webhook-id`. A row in flight at a crash is sent again with the same id
//! (at most one duplicate per row in flight).
//! Retries: the worker's, per row (never the partition's): timeouts,
//! dropped connections, 408, 429 (holding that endpoint for its
//! `Retry-After`), 5xx and redirects (never followed), exponential with
//! jitter up to the horizon, then the row is dead with the reason. A 410
//! disables the endpoint and dead-letters its rows; other 4xx, a refused
//! URL or address, a missing signing secret dead-letter the row; an
//! unreadable secret retries. An endpoint failing for `disable_after_secs`
//! is disabled until `webhook enable`. The transport (`transport.rs`)
//! refuses http outside `local`, credentials in URLs, hosts off the
//! allow-list, redirects, and private, loopback and link-local addresses
//! on the resolved IP at connect.

mod config;
mod deliver;
mod plan;
#[cfg(test)]
mod plan_tests;
mod tools;
pub mod transport;

use std::sync::Arc;

use futures::FutureExt;

use super::kit::delivery::{self, DeliveryPlanner, Enqueuer, Wanted};
use super::kit::{BuildCtx, BuildError, Built, ConfigOf, Consumes, FlavorSpec, Produces, Style};
use crate::event::{Event, Scope};
use crate::handler::Processor;
use crate::rules::RulesView;
use crate::store::rows::PlanError;

pub use config::{WebhookConfig, LOCAL};
pub use deliver::{signature, Sender};
pub use plan::{destination, envelope_of, plan};

/// The registry row.
pub const SPEC: FlavorSpec = FlavorSpec {
    name: "webhook",
    summary: "signed outbound webhooks (Standard Webhooks), a durable queue per endpoint",
    style: Style::Batch,
    needs_store: true,
    dependencies: &[],
    consumes: Consumes::scope(Scope::Case),
    produces: Produces::NOTHING,
    metrics: &[],
    routes: &[],
    tables: &[&delivery::DELIVERIES],
    reads_rules: true,
    tools: Some(&tools::TOOLS),
    config: &ConfigOf::<WebhookConfig>::KIND,
    build: |ctx| build(ctx).boxed(),
};

async fn build(ctx: BuildCtx<'_>) -> Result<Built, BuildError> {
    let config: WebhookConfig = ctx.config()?;
    let rules = ctx.rules()?;
    let queue = ctx.delivery_queue()?;
    let transport =
        transport::WebhookTransport::new(policy(&config)).map_err(|e| BuildError::Client {
            flavor: SPEC.name,
            message: e.to_string(),
        })?;
    let planner = Planner {
        rules: rules.clone(),
    };
    Ok(Built {
        processor: Processor::Batch(Arc::new(Enqueuer::new(planner, queue))),
        routes: Vec::new(),
        deliverer: Some(Arc::new(Sender::new(rules, transport))),
    })
}

/// The transport policy of `config`.
pub fn policy(config: &WebhookConfig) -> transport::EndpointPolicy {
    transport::EndpointPolicy {
        allow_http: config.allow_http,
        allow_private: config.allow_private,
        allowed_hosts: config.allowed_hosts.clone(),
        timeout: config.timeout(),
        ..Default::default()
    }
}

/// Plans against the rules in force at each event.
struct Planner {
    rules: RulesView,
}

impl DeliveryPlanner for Planner {
    fn plan(&self, event: &Event) -> Result<Vec<Wanted>, PlanError> {
        plan(&self.rules.snapshot(), event)
    }
}
