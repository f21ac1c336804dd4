//! timeline: the case timeline read model.
//!
//! Consumes: every case-scoped event (project-scoped ones are skipped as not
//! interesting).
//! Effects: one row in `timeline_cells` per event, with a cell type, the actor,
//! `occurred_at`, `aggregate_version` and a typed content document (the
//! payload's canonical JSON: from/to values and so on). `case.comment_edited`
//! and `case.comment_deleted` update or tombstone their comment's cell instead;
//! an event older than the cell's newest applied version changes nothing.
//! Idempotency key: the event id, in the processed-events ledger, written in the
//! same transaction as the cell, so each effect happens exactly once.
//! Retries: database errors other than constraint and SQL errors (connection
//! loss, pool timeout, serialization failure, lock timeout) are transient;
//! an event without a payload is discarded as invalid.

mod plan;
pub mod show;
mod write;

use async_trait::async_trait;
use futures::FutureExt;

use super::{BuildCtx, BuildError, Built, FlavorSpec, Style};
use crate::event::{CaseEvent, EventType, Scope};
use crate::handler::{Ctx, HandleResp, Handler, HandlerError, Processor, SkipReason};

pub use plan::{cell_type, plan, CellType, CellWrite};

/// The registry row.
pub const SPEC: FlavorSpec = FlavorSpec {
    name: "timeline",
    summary: "case timeline cells in the database, exactly once per event",
    style: Style::Single,
    needs_store: true,
    dependencies: &[],
    build: |ctx| build(ctx).boxed(),
};

async fn build(ctx: BuildCtx<'_>) -> Result<Built, BuildError> {
    let _: TimelineConfig = super::parse_section("timeline", ctx.section)?;
    if ctx.store.is_none() {
        return Err(BuildError::NeedsStore("timeline"));
    }
    Ok(Processor::Single(std::sync::Arc::new(Timeline)).into())
}

/// The timeline has no settings of its own yet; unknown keys are still errors.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TimelineConfig {}

/// The handler.
pub struct Timeline;

#[async_trait]
impl Handler for Timeline {
    fn wants(&self, event_type: &str) -> bool {
        event_type
            .parse::<EventType>()
            .is_ok_and(|t| t.scope() == Scope::Case)
    }

    fn claims_ledger(&self) -> bool {
        true
    }

    async fn handle(&self, ctx: &Ctx, event: &CaseEvent) -> HandleResp {
        match apply(ctx, event).await {
            Ok(true) => HandleResp::Success,
            Ok(false) => HandleResp::Skip(SkipReason::Stale),
            Err(err) => HandleResp::classify(Err(err)),
        }
    }
}

/// Writes the planned cell and the ledger row in one transaction; returns
/// false when the write was stale (a newer version already applied).
async fn apply(ctx: &Ctx, event: &CaseEvent) -> Result<bool, HandlerError> {
    let write = plan(event).map_err(HandlerError::invalid)?;
    let mut tx = ctx.begin(event).await?;
    let applied = write::apply(tx.conn(), &write)
        .await
        .map_err(crate::store::StoreError::from)?;
    ctx.commit(tx).await?;
    Ok(applied)
}
