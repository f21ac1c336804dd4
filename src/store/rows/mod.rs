//! The batch writer for read-model flavors.
//!
//! A flavor describes what one event does to its tables as a *pure plan* of
//! [`RowOp`]s ([`RowPlanner::plan`]); the writer applies the plans of a whole
//! batch in one transaction, with few statements:
//!
//! 1. the batch's ledger rows, `INSERT … ON CONFLICT DO NOTHING RETURNING
//!    event_id`: the ids returned are the events claimed now; the others were
//!    processed before (duplicates) and their plans are not applied;
//! 2. the claimed events' upserts, one multi-row `INSERT … ON CONFLICT (key)
//!    DO UPDATE … WHERE row.version < excluded.version` per table (chunked
//!    below the backends' parameter limits);
//! 3. their patches, one multi-row `UPDATE … FROM (VALUES …)` per table and
//!    set of columns, each guarded by the row's version; a patch whose row
//!    does not exist yet (an edit before its creation) is parked in
//!    `pending_row_patches` and applied, in version order, by the batch
//!    that creates the row (see `parked`).
//!
//! Invariants: effects and ledger rows commit together or not at all (a
//! retry redoes both); every write is guarded by a version, so applying a
//! batch is order-safe and idempotent, and the final state of a row is the
//! state of applying its ops in version order whatever order events arrive
//! in (a patch before its row waits for it); within a
//! batch, ops on one row are collapsed to the highest version (PostgreSQL
//! refuses to touch a row twice in one statement); upserts run before patches,
//! so a patch finds the row an earlier event of the same batch creates.
//!
//! The same statements run on PostgreSQL and SQLite (multi-row VALUES,
//! `column1…` names for VALUES columns, `UPDATE … FROM`, `RETURNING`): the
//! `Any` driver cannot bind arrays, so UNNEST is not used.

mod handler;
mod op;
mod parked;
mod rounds;
pub mod schema;
mod sql;
mod table;

use std::collections::HashSet;

use sqlx::AnyConnection;

pub use handler::{PlannedRows, RowPlanner};
pub use op::{Cond, RowOp};
pub use table::{PatchBuilder, Patchable, PlanError, Table};

use super::{now_ms, Store, StoreError};

/// A value bound into a statement (the types the `Any` driver carries).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// TEXT.
    Text(String),
    /// BIGINT.
    Int(i64),
    /// NULL (bound as a nullable TEXT).
    Null,
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

/// One event's plan: its id (the ledger key) and its ops.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The event id.
    pub event_id: String,
    /// What it does.
    pub ops: Vec<RowOp>,
}

impl Store {
    /// Applies the plans of a batch in one transaction; returns the ids of
    /// the events claimed now (the rest were processed before and changed
    /// nothing).
    pub async fn apply_rows(
        &self,
        flavor: &str,
        batch: &[Planned],
    ) -> Result<HashSet<String>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let claimed = claim(&mut tx, flavor, batch).await?;
        // The first copy of each claimed id: a second copy in one batch is a
        // duplicate (it would add twice).
        let mut first = HashSet::with_capacity(claimed.len());
        let ops = batch
            .iter()
            .filter(|p| claimed.contains(&p.event_id) && first.insert(p.event_id.as_str()))
            .flat_map(|p| p.ops.iter());
        let now = now_ms();
        let mut created: Vec<(&'static Table, Vec<Value>)> = Vec::new();
        for round in rounds::rounds(ops) {
            for (table, rows) in &round.upserts {
                sql::upsert(&mut tx, table, rows).await?;
                created.extend(rows.iter().map(|r| (*table, op::key_of(table, r))));
            }
            for (shape, rows) in &round.patches {
                let missing = sql::patch(&mut tx, shape, rows).await?;
                parked::park(&mut tx, shape, &missing, now).await?;
            }
            for (table, rows) in &round.deletes {
                sql::delete(&mut tx, table, rows).await?;
            }
        }
        parked::unpark_created(&mut tx, created).await?;
        tx.commit().await?;
        Ok(claimed)
    }
}

/// Claims the batch's ledger rows; returns the ids inserted now.
async fn claim(
    conn: &mut AnyConnection,
    flavor: &str,
    batch: &[Planned],
) -> Result<HashSet<String>, StoreError> {
    let mut ids: Vec<&str> = batch.iter().map(|p| p.event_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut claimed = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(sql::LEDGER_ROWS) {
        claimed.extend(sql::claim_ledger(conn, flavor, now_ms(), chunk).await?);
    }
    Ok(claimed)
}

#[cfg(test)]
mod tests;
