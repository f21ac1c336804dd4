//! A batch's ops in rounds: each row's ops sorted by version (stable), and
//! round k holds the k-th op of every row. Within a round, ops of one
//! statement shape go in one multi-row statement, so a row is never
//! touched twice by one statement (PostgreSQL refuses it) and a row's ops
//! apply in version order. Most batches touch each row once: one round.

use std::collections::HashMap;

use super::op::{Op, PatchOp};
use super::sql::PatchShape;
use super::{RowOp, Table, Value};

/// A delete: the key and the version.
pub(super) type Delete<'a> = (&'a [Value], i64);

/// The statements of one round, each group in first-seen order.
#[derive(Debug, Default)]
pub(super) struct Round<'a> {
    /// Upsert rows per table.
    pub(super) upserts: Vec<(&'static Table, Vec<&'a [Value]>)>,
    /// Insert-if-absent rows per table.
    pub(super) inserts: Vec<(&'static Table, Vec<&'a [Value]>)>,
    /// Patches per shape.
    pub(super) patches: Vec<(PatchShape, Vec<&'a PatchOp>)>,
    /// Deletes (key, version) per table.
    pub(super) deletes: Vec<(&'static Table, Vec<Delete<'a>>)>,
}

/// The index of `key` in `groups`, pushed if new.
fn slot<K: PartialEq, V: Default>(groups: &mut Vec<(K, V)>, key: K) -> usize {
    match groups.iter().position(|(k, _)| *k == key) {
        Some(i) => i,
        None => {
            groups.push((key, V::default()));
            groups.len() - 1
        }
    }
}

/// Table identity for grouping: by name (tables are statics).
#[derive(Debug, Clone, Copy)]
struct ByName(&'static Table);

impl PartialEq for ByName {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

/// Splits ops into rounds (see the module doc).
pub(super) fn rounds<'a>(ops: impl Iterator<Item = &'a RowOp>) -> Vec<Round<'a>> {
    let mut rows: Vec<Vec<&'a RowOp>> = Vec::new();
    let mut at: HashMap<(&'static str, Vec<&'a Value>), usize> = HashMap::new();
    for op in ops {
        let i = *at
            .entry((op.table().name, op.key_refs()))
            .or_insert_with(|| {
                rows.push(Vec::new());
                rows.len() - 1
            });
        rows[i].push(op);
    }
    let depth = rows.iter().map(Vec::len).max().unwrap_or(0);
    for row in rows.iter_mut().filter(|r| r.len() > 1) {
        row.sort_by_key(|op| op.version()); // stable: equal versions keep arrival order
    }
    let mut out = Vec::with_capacity(depth);
    for k in 0..depth {
        let mut upserts: Vec<(ByName, Vec<&'a [Value]>)> = Vec::new();
        let mut inserts: Vec<(ByName, Vec<&'a [Value]>)> = Vec::new();
        let mut deletes: Vec<(ByName, Vec<Delete<'a>>)> = Vec::new();
        let mut patches: Vec<(PatchShape, Vec<&'a PatchOp>)> = Vec::new();
        for op in rows.iter().filter_map(|r| r.get(k)) {
            match &op.0 {
                Op::Upsert { table, values } => {
                    let g = slot(&mut upserts, ByName(table));
                    upserts[g].1.push(values);
                }
                Op::Insert { table, values } => {
                    let g = slot(&mut inserts, ByName(table));
                    inserts[g].1.push(values);
                }
                Op::Patch(p) => {
                    let g = slot(&mut patches, PatchShape::of(p));
                    patches[g].1.push(p);
                }
                Op::Delete {
                    table,
                    key,
                    version,
                } => {
                    let g = slot(&mut deletes, ByName(table));
                    deletes[g].1.push((key, *version));
                }
            }
        }
        out.push(Round {
            upserts: upserts.into_iter().map(|(t, r)| (t.0, r)).collect(),
            inserts: inserts.into_iter().map(|(t, r)| (t.0, r)).collect(),
            patches,
            deletes: deletes.into_iter().map(|(t, r)| (t.0, r)).collect(),
        });
    }
    out
}
