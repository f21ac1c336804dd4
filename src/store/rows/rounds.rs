//! A batch's ops as a sequence of multi-row statements that applies each
//! row's ops in version order and never touches a row twice in one
//! statement (PostgreSQL refuses it).
//!
//! A round is one statement per *slot*: per table its upserts, then its
//! inserts-if-absent, then per shape (table, columns, set kinds, condition)
//! its patches, then per table its deletes, each kind in first-seen order.
//! Each row's ops are sorted by version (stable) and each goes to the first
//! slot of its shape after the previous op of its row: in this round if the
//! slot comes later in it, else in the next. So a row's ops run in version
//! order, and a batch needs a second round only for a row with ops in
//! slots out of order (e.g. an edit after a tombstone's slot): most batches
//! run one statement per shape, as if every row had one op.

use std::collections::HashMap;

use super::op::{Op, PatchOp};
use super::sql::PatchShape;
use super::{RowOp, Table, Value};

/// A delete: the key and the version.
pub(super) type Delete<'a> = (&'a [Value], i64);

/// One multi-row statement.
#[derive(Debug)]
pub(super) enum Step<'a> {
    /// Upserts into one table.
    Upsert(&'static Table, Vec<&'a [Value]>),
    /// Inserts of absent rows into one table.
    Insert(&'static Table, Vec<&'a [Value]>),
    /// Patches of one shape.
    Patch(PatchShape, Vec<&'a PatchOp>),
    /// Deletes from one table.
    Delete(&'static Table, Vec<Delete<'a>>),
}

/// The slot of an op: its kind first (upserts, inserts, patches, deletes),
/// then its table or shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot {
    Upsert(&'static str),
    Insert(&'static str),
    Patch(PatchShape),
    Delete(&'static str),
}

impl Slot {
    fn of(op: &Op) -> Self {
        match op {
            Op::Upsert { table, .. } => Slot::Upsert(table.name),
            Op::Insert { table, .. } => Slot::Insert(table.name),
            Op::Patch(p) => Slot::Patch(PatchShape::of(p)),
            Op::Delete { table, .. } => Slot::Delete(table.name),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Slot::Upsert(_) => 0,
            Slot::Insert(_) => 1,
            Slot::Patch(_) => 2,
            Slot::Delete(_) => 3,
        }
    }
}

/// The statements of a batch's ops, in the order to run them (see the
/// module doc).
pub(super) fn steps<'a>(ops: impl Iterator<Item = &'a RowOp>) -> Vec<Step<'a>> {
    let mut rows: Vec<Vec<(&'a RowOp, usize)>> = Vec::new();
    let mut row_at: HashMap<(&'static str, Vec<&'a Value>), usize> = HashMap::new();
    let mut slots: Vec<Slot> = Vec::new();
    let mut slot_at: HashMap<Slot, usize> = HashMap::new();
    for op in ops {
        let slot = Slot::of(&op.0);
        let s = *slot_at.entry(slot.clone()).or_insert_with(|| {
            slots.push(slot);
            slots.len() - 1
        });
        let r = *row_at
            .entry((op.table().name, op.key_refs()))
            .or_insert_with(|| {
                rows.push(Vec::new());
                rows.len() - 1
            });
        rows[r].push((op, s));
    }
    // Slots in round order: by kind, first-seen within a kind.
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by_key(|&s| slots[s].rank()); // stable
    let mut rank = vec![0; slots.len()];
    for (i, &s) in order.iter().enumerate() {
        rank[s] = i;
    }
    let width = slots.len().max(1);
    let mut placed: Vec<(usize, &'a RowOp)> = Vec::new();
    for row in &mut rows {
        if row.len() > 1 {
            row.sort_by_key(|(op, _)| op.version()); // stable: ties keep arrival order
        }
        let mut last: Option<usize> = None;
        for &(op, s) in row.iter() {
            let at = match last {
                None => rank[s],
                Some(p) if rank[s] > p % width => p - p % width + rank[s],
                Some(p) => p - p % width + width + rank[s],
            };
            placed.push((at, op));
            last = Some(at);
        }
    }
    placed.sort_by_key(|(at, _)| *at); // stable: rows keep first-seen order
    let mut steps: Vec<Step<'a>> = Vec::new();
    let mut current = None;
    for (at, op) in placed {
        let fresh = current != Some(at);
        current = Some(at);
        match (&op.0, steps.last_mut()) {
            (Op::Upsert { values, .. }, Some(Step::Upsert(_, rows))) if !fresh => rows.push(values),
            (Op::Insert { values, .. }, Some(Step::Insert(_, rows))) if !fresh => rows.push(values),
            (Op::Patch(p), Some(Step::Patch(_, rows))) if !fresh => rows.push(p),
            (Op::Delete { key, version, .. }, Some(Step::Delete(_, rows))) if !fresh => {
                rows.push((key, *version))
            }
            (Op::Upsert { table, values }, _) => steps.push(Step::Upsert(table, vec![values])),
            (Op::Insert { table, values }, _) => steps.push(Step::Insert(table, vec![values])),
            (Op::Patch(p), _) => steps.push(Step::Patch(PatchShape::of(p), vec![p])),
            (
                Op::Delete {
                    table,
                    key,
                    version,
                },
                _,
            ) => steps.push(Step::Delete(table, vec![(key, *version)])),
        }
    }
    steps
}
