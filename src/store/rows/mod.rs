//! The batch writer for read-model flavors.
//!
//! A flavor describes what one event does to its tables as a *pure plan* of
//! [`RowOp`]s ([`RowPlanner::plan`]), made only through a declared
//! [`Table`]: [`Table::row`] (every column, by name), [`Table::patch`]
//! (columns the table lists as [`Patchable`], set as a value, an increment,
//! a max or if-null, optionally [`Cond`]itioned), [`Table::delete`]; a
//! mistake is a [`PlanError`]. The writer applies the plans of a whole batch
//! in one transaction, with few statements:
//!
//! 1. the batch's ledger rows, `INSERT … ON CONFLICT DO NOTHING RETURNING
//!    event_id`: the ids returned are the events claimed now; the others were
//!    processed before (duplicates) and their plans are not applied;
//! 2. the claimed events' ops in rounds (`rounds`): one multi-row statement
//!    per shape (chunked below the backends' parameter limits), each row's
//!    ops sorted by version and each placed in the first statement of its
//!    shape after the row's previous op (a second round only when a row's
//!    ops come in shapes out of statement order): upserts `INSERT … ON CONFLICT (key) DO UPDATE … WHERE
//!    row.version < excluded.version`; patches `UPDATE … FROM (VALUES …)`
//!    matching keys only, each column under its own guard (`sql::patch_sql`);
//!    deletes of rows not newer than the delete;
//! 3. a patch whose row does not exist yet (an edit before its creation) is
//!    parked in `pending_row_patches` and applied, in version order, by the
//!    batch that creates the row (see `parked`).
//!
//! Invariants: effects and ledger rows commit together or not at all (a
//! retry redoes both); a row's ops apply in version order whatever the
//! batch boundaries and arrival order: within a batch by rounds (a row is
//! never touched twice by one statement: PostgreSQL refuses it), across
//! batches by guards: each patched column is guarded by a version column
//! (the row's, or its own: [`Patchable::own`]), so a late patch still sets
//! the columns no newer write set, and a [`Cond::Unset`] is judged as of the
//! patch's version; a patch before its row waits for it. Increments
//! (`add`) are guarded by the ledger only (a version guard would drop a late
//! event's +1); `max` and `set_if_null` keep their column's version guard,
//! as the issue asked, and so are the exception to "version order": a late
//! older one is dropped (in version order an older `set_if_null` would have
//! been the one to set the value), and their guard records the newest
//! attempt, not the newest write.
//! A delete is final: an older op arriving later finds no row, so tables
//! where that can happen keep tombstones (a patch) instead.
//!
//! The same statements run on PostgreSQL and SQLite (multi-row VALUES,
//! `column1…` names for VALUES columns, `UPDATE … FROM`, `RETURNING`, `CASE`
//! rather than `GREATEST`/`max()`): the `Any` driver cannot bind arrays, so
//! UNNEST is not used.

mod handler;
mod op;
mod parked;
mod rounds;
pub mod schema;
mod sql;
mod table;

use std::collections::HashSet;

use sqlx::AnyConnection;

use rounds::Step;

pub use handler::{apply_planned, plan_each, PlannedRows, RowPlanner};
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
        let claimed = apply_in(&mut tx, flavor, batch).await?;
        tx.commit().await?;
        Ok(claimed)
    }
}

/// [`Store::apply_rows`] inside the caller's transaction (a timer's firing
/// applies its plan with the claim's fence): claims the ledger rows and
/// applies the claimed plans' ops; returns the ids claimed now.
pub async fn apply_in(
    tx: &mut AnyConnection,
    flavor: &str,
    batch: &[Planned],
) -> Result<HashSet<String>, StoreError> {
    let claimed = claim(tx, flavor, batch).await?;
    // The first copy of each claimed id: a second copy in one batch is a
    // duplicate (it would add twice).
    let mut first = HashSet::with_capacity(claimed.len());
    let ops = batch
        .iter()
        .filter(|p| claimed.contains(&p.event_id) && first.insert(p.event_id.as_str()))
        .flat_map(|p| p.ops.iter());
    let now = now_ms();
    let mut created: Vec<(&'static Table, Vec<Value>)> = Vec::new();
    for step in rounds::steps(ops) {
        let if_absent = matches!(step, Step::Insert(..));
        match step {
            Step::Upsert(table, rows) | Step::Insert(table, rows) => {
                sql::upsert(tx, table, &rows, if_absent).await?;
                created.extend(rows.iter().map(|r| (table, op::key_of(table, r))));
            }
            Step::Patch(shape, rows) => {
                let missing = sql::patch(tx, &shape, &rows).await?;
                parked::park(tx, &shape, &missing, now).await?;
            }
            Step::Delete(table, rows) => sql::delete(tx, table, &rows).await?,
        }
    }
    parked::unpark_created(tx, created).await?;
    Ok(claimed)
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
