//! What one event does to one row, as data: made only through [`Table`]'s
//! checked constructors, so every column an op names is one its table has.

use super::{Table, Value};

/// What one event does to one row: made by [`Table::row`],
/// [`Table::insert_absent`], [`Table::patch`] and [`Table::delete`].
#[derive(Debug, Clone, PartialEq)]
pub struct RowOp(pub(super) Op);

impl RowOp {
    /// The table written.
    pub fn table(&self) -> &'static Table {
        match &self.0 {
            Op::Upsert { table, .. } | Op::Insert { table, .. } | Op::Delete { table, .. } => table,
            Op::Patch(p) => p.table,
        }
    }

    /// The row's key values.
    pub fn key(&self) -> Vec<Value> {
        match &self.0 {
            Op::Upsert { table, values } | Op::Insert { table, values } => key_of(table, values),
            Op::Delete { key, .. } => key.clone(),
            Op::Patch(p) => p.key.clone(),
        }
    }

    /// The row's key values, borrowed.
    pub(super) fn key_refs(&self) -> Vec<&Value> {
        match &self.0 {
            Op::Upsert { table, values } | Op::Insert { table, values } => (table.key.iter())
                .filter_map(|k| table.index_of(k).and_then(|i| values.get(i)))
                .collect(),
            Op::Delete { key, .. } => key.iter().collect(),
            Op::Patch(p) => p.key.iter().collect(),
        }
    }

    /// The version written.
    pub fn version(&self) -> i64 {
        match &self.0 {
            Op::Upsert { table, values } | Op::Insert { table, values } => {
                match table.index_of(table.version) {
                    Some(i) => match values.get(i) {
                        Some(Value::Int(v)) => *v,
                        _ => i64::MIN,
                    },
                    None => i64::MIN,
                }
            }
            Op::Delete { version, .. } => *version,
            Op::Patch(p) => p.version,
        }
    }

    /// The value an upsert writes to `column`, or a patch sets it to.
    pub fn value(&self, column: &str) -> Option<&Value> {
        match &self.0 {
            Op::Upsert { table, values } | Op::Insert { table, values } => {
                table.index_of(column).and_then(|i| values.get(i))
            }
            Op::Patch(p) => p
                .sets
                .iter()
                .find(|(c, _)| *c == column)
                .and_then(|(_, s)| match s {
                    Set::Value(v) | Set::IfNull(v) => Some(v),
                    Set::Add(_) | Set::Max(_) => None,
                }),
            Op::Delete { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
    /// Insert the row, or replace an older version of it.
    Upsert {
        table: &'static Table,
        /// One value per `table.columns`, in their order.
        values: Vec<Value>,
    },
    /// Insert the row unless it exists (whatever its version).
    Insert {
        table: &'static Table,
        /// One value per `table.columns`, in their order.
        values: Vec<Value>,
    },
    /// Set some patchable columns of an existing row.
    Patch(PatchOp),
    /// Delete the row if it is not newer.
    Delete {
        table: &'static Table,
        key: Vec<Value>,
        version: i64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct PatchOp {
    pub(super) table: &'static Table,
    pub(super) key: Vec<Value>,
    pub(super) version: i64,
    /// Patchable columns (static names from `table.patchable`) and how each is set.
    pub(super) sets: Vec<(&'static str, Set)>,
    pub(super) cond: Option<Cond>,
}

/// A condition on the row, as data (never SQL text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cond {
    /// The column was NULL as of the patch's version: NULL now, or set by a
    /// newer patch (its own guard is newer) when it has a guard of its own.
    Unset(&'static str),
}

/// How a patch sets one column.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Set {
    /// `col = v`, guarded by the column's guard.
    Value(Value),
    /// `col = COALESCE(col, 0) + n`, guarded by the ledger only.
    Add(i64),
    /// `col = n` when NULL or smaller, guarded by the column's guard.
    Max(i64),
    /// `col = v` when NULL, guarded by the column's guard.
    IfNull(Value),
}

/// The kind of a [`Set`], as a statement's shape sees it (and as parked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum SetKind {
    Value,
    Add,
    Max,
    IfNull,
}

impl SetKind {
    pub(super) fn name(self) -> &'static str {
        match self {
            SetKind::Value => "value",
            SetKind::Add => "add",
            SetKind::Max => "max",
            SetKind::IfNull => "if_null",
        }
    }

    pub(super) fn parse(name: &str) -> Option<Self> {
        [Self::Value, Self::Add, Self::Max, Self::IfNull]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// Whether the column's version guard applies (and is bumped).
    pub(super) fn guarded(self) -> bool {
        self != SetKind::Add
    }
}

impl Set {
    pub(super) fn kind(&self) -> SetKind {
        match self {
            Set::Value(_) => SetKind::Value,
            Set::Add(_) => SetKind::Add,
            Set::Max(_) => SetKind::Max,
            Set::IfNull(_) => SetKind::IfNull,
        }
    }

    /// The value bound for it.
    pub(super) fn value(&self) -> Value {
        match self {
            Set::Value(v) | Set::IfNull(v) => v.clone(),
            Set::Add(n) | Set::Max(n) => Value::Int(*n),
        }
    }

    pub(super) fn of(kind: SetKind, value: Value) -> Option<Self> {
        Some(match (kind, value) {
            (SetKind::Value, v) => Set::Value(v),
            (SetKind::IfNull, v) => Set::IfNull(v),
            (SetKind::Add, Value::Int(n)) => Set::Add(n),
            (SetKind::Max, Value::Int(n)) => Set::Max(n),
            _ => return None,
        })
    }
}

/// The key values of an upsert row.
pub(super) fn key_of(table: &Table, values: &[Value]) -> Vec<Value> {
    (table.key.iter())
        .filter_map(|k| table.index_of(k).and_then(|i| values.get(i)).cloned())
        .collect()
}
