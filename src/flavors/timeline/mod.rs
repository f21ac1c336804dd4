//! timeline: the case timeline read model.
//!
//! Consumes: every case-scoped event (project-scoped ones are skipped as not
//! interesting, routed on the record header without decoding).
//! Effects: one row in `timeline_cells` per event, with a cell type, the actor,
//! `occurred_at`, `aggregate_version` and a typed content document (the
//! payload's canonical JSON: from/to values and so on). `case.comment_edited`
//! and `case.comment_deleted` update or tombstone their comment's cell instead;
//! the content follows the cell's newest version, and the edit and deletion
//! times each their own (`edited_version`, `deleted_version`), so any arrival
//! order ends as version order would (a late edit of a deleted comment keeps
//! its time).
//! Versions are case versions, never a vendor's time: a Jira change carries
//! 0 (unknown) and gets a cell of its own, so no guard compares it.
//! Written with the batch writer (`store::rows`): a pure plan per event, and
//! one transaction per batch for the cells and the ledger rows.
//! Idempotency key: the event id, in the processed-events ledger, claimed in
//! the same transaction as the cells, so each effect happens exactly once.
//! Retries: database errors other than constraint and SQL errors (connection
//! loss, pool timeout, serialization failure, lock timeout) retry the batch.
//! The kit guarantees a payload (handlers get a validated `event::Event`),
//! so no event is discarded for lacking one.

mod plan;
pub mod show;
mod tool;
mod write;

use std::sync::Arc;

use futures::FutureExt;

use super::kit::{
    BuildCtx, BuildError, Built, ConfigOf, Consumes, FlavorSpec, NoConfig, Produces, Style,
};
use crate::event::{Event, Scope};
use crate::handler::Processor;
use crate::store::rows::{PlanError, PlannedRows, RowOp, RowPlanner};

pub use plan::{cell_type, plan, CellType, CellWrite};
pub use write::CELLS;

/// The registry row.
pub const SPEC: FlavorSpec = FlavorSpec {
    name: "timeline",
    summary: "case timeline cells in the database, exactly once per event",
    style: Style::Batch,
    needs_store: true,
    dependencies: &[],
    consumes: Consumes::scope(Scope::Case),
    produces: Produces::NOTHING,
    metrics: &[],
    routes: &[],
    tables: &[&write::CELLS],
    reads_rules: false,
    tools: Some(&tool::TOOLS),
    config: &ConfigOf::<NoConfig>::KIND,
    build: |ctx| build(ctx).boxed(),
};

async fn build(ctx: BuildCtx<'_>) -> Result<Built, BuildError> {
    let NoConfig {} = ctx.config()?;
    ctx.store()?;
    Ok(processor().into())
}

/// The timeline's handler: the batch writer over [`Timeline`].
pub fn processor() -> Processor {
    Processor::Batch(Arc::new(PlannedRows::new(Timeline)))
}

/// The planner.
pub struct Timeline;

impl RowPlanner for Timeline {
    fn plan(&self, event: &Event) -> Result<Vec<RowOp>, PlanError> {
        write::ops(plan(event).map_err(PlanError::Invalid)?)
    }
}
