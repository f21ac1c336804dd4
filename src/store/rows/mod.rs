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
mod parked;
mod sql;

use std::collections::{HashMap, HashSet};

use sqlx::AnyConnection;

pub use handler::{PlannedRows, RowPlanner};

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

/// A read-model table as the writer sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    /// The table name.
    pub name: &'static str,
    /// Every column an upsert writes, in the order of [`RowOp::Upsert`] values.
    pub columns: &'static [&'static str],
    /// The key columns (the conflict target; a prefix of `columns` is not required).
    pub key: &'static [&'static str],
    /// The version column every write is guarded by.
    pub version: &'static str,
    /// The columns an upsert replaces when the row exists and is older.
    pub on_conflict_update: &'static [&'static str],
}

impl Table {
    fn index_of(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == column)
    }
}

/// What one event does to one row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOp {
    /// Insert the row, or replace an older version of it.
    Upsert {
        /// The table.
        table: &'static Table,
        /// One value per `table.columns`.
        values: Vec<Value>,
    },
    /// Set some columns of an existing row, if this version is newer.
    Patch {
        /// The table.
        table: &'static Table,
        /// The row's key values (one per `table.key`).
        key: Vec<Value>,
        /// The version written; the row must hold an older one.
        version: i64,
        /// Columns to set (the version column is set too).
        set: Vec<(&'static str, Value)>,
        /// An extra condition on the row (SQL over the table's columns, e.g.
        /// `deleted_at IS NULL`); a static string, never built from data.
        only_if: Option<&'static str>,
    },
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
        let ops = batch
            .iter()
            .filter(|p| claimed.contains(&p.event_id))
            .flat_map(|p| p.ops.iter());
        let (upserts, patches) = collapse(ops);
        for (table, rows) in &upserts {
            sql::upsert(&mut tx, table, rows).await?;
        }
        let now = now_ms();
        for (group, rows) in &patches {
            let untouched = sql::patch(&mut tx, group, rows).await?;
            parked::park(&mut tx, group, &untouched, now).await?;
        }
        for (table, rows) in &upserts {
            let keys: Vec<Vec<Value>> = rows.iter().map(|r| key_of(table, r)).collect();
            parked::unpark(&mut tx, table, &keys).await?;
        }
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

/// Upsert rows per table, in first-seen order.
type Upserts<'a> = Vec<(&'static Table, Vec<&'a [Value]>)>;
/// Patch rows per (table, columns set, condition), in first-seen order.
type Patches<'a> = Vec<(sql::PatchGroup, Vec<sql::PatchRow<'a>>)>;

/// Groups ops by statement and keeps, per row, the op with the highest
/// version (the later one on a tie).
fn collapse<'a>(ops: impl Iterator<Item = &'a RowOp>) -> (Upserts<'a>, Patches<'a>) {
    let mut upserts: Upserts<'a> = Vec::new();
    let mut patches: Patches<'a> = Vec::new();
    let mut upsert_at: HashMap<(&'static str, Vec<&'a Value>), (usize, usize)> = HashMap::new();
    let mut patch_at: HashMap<(sql::PatchGroup, &'a [Value]), (usize, usize)> = HashMap::new();
    for op in ops {
        match op {
            RowOp::Upsert { table, values } => {
                let key: Vec<&Value> = table
                    .key
                    .iter()
                    .filter_map(|k| table.index_of(k).and_then(|i| values.get(i)))
                    .collect();
                let g = match upserts.iter().position(|(t, _)| t.name == table.name) {
                    Some(g) => g,
                    None => {
                        upserts.push((table, Vec::new()));
                        upserts.len() - 1
                    }
                };
                match upsert_at.get(&(table.name, key.clone())) {
                    Some(&(g, i))
                        if version_of(table, upserts[g].1[i]) <= version_of(table, values) =>
                    {
                        upserts[g].1[i] = values
                    }
                    Some(_) => {}
                    None => {
                        upserts[g].1.push(values);
                        upsert_at.insert((table.name, key), (g, upserts[g].1.len() - 1));
                    }
                }
            }
            RowOp::Patch {
                table,
                key,
                version,
                set,
                only_if,
            } => {
                let group = sql::PatchGroup {
                    table,
                    columns: set.iter().map(|(c, _)| *c).collect(),
                    only_if: *only_if,
                };
                let row = sql::PatchRow {
                    key,
                    version: *version,
                    values: set.iter().map(|(_, v)| v).collect(),
                };
                let g = match patches.iter().position(|(pg, _)| *pg == group) {
                    Some(g) => g,
                    None => {
                        patches.push((group.clone(), Vec::new()));
                        patches.len() - 1
                    }
                };
                match patch_at.get(&(group.clone(), key.as_slice())) {
                    Some(&(g, i)) if patches[g].1[i].version <= *version => patches[g].1[i] = row,
                    Some(_) => {}
                    None => {
                        patches[g].1.push(row);
                        patch_at.insert((group, key.as_slice()), (g, patches[g].1.len() - 1));
                    }
                }
            }
        }
    }
    (upserts, patches)
}

/// The key values of an upsert row.
fn key_of(table: &Table, values: &[Value]) -> Vec<Value> {
    (table.key.iter())
        .filter_map(|k| table.index_of(k).and_then(|i| values.get(i)).cloned())
        .collect()
}

fn version_of(table: &Table, values: &[Value]) -> i64 {
    match table.index_of(table.version).and_then(|i| values.get(i)) {
        Some(Value::Int(v)) => *v,
        _ => i64::MIN,
    }
}

#[cfg(test)]
mod tests;
