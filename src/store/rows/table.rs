//! A read-model table as the writer sees it, and the checked ways of
//! planning ops on it: rows by column name, patches of the columns the table
//! lists as patchable, deletes. Every mistake is a [`PlanError`].

use super::op::{Cond, Op, PatchOp, RowOp, Set};
use super::Value;

/// A column a patch may set, and the version column guarding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patchable {
    /// The column.
    pub column: &'static str,
    /// Its own version column, or `None` for the row's (`Table::version`).
    pub guard: Option<&'static str>,
}

impl Patchable {
    /// A column guarded by the row's version column.
    pub const fn row(column: &'static str) -> Self {
        Self {
            column,
            guard: None,
        }
    }

    /// A column guarded by a version column of its own: a patch of it
    /// applies when it is newer than the last write of *this* column,
    /// whatever newer writes other columns saw.
    pub const fn own(column: &'static str, guard: &'static str) -> Self {
        Self {
            column,
            guard: Some(guard),
        }
    }
}

/// A read-model table as the writer sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    /// The table name.
    pub name: &'static str,
    /// Every column an upsert writes ([`Table::row`] needs each, by name).
    pub columns: &'static [&'static str],
    /// The key columns (the conflict target).
    pub key: &'static [&'static str],
    /// The row's version column: upserts, deletes and row-guarded columns.
    pub version: &'static str,
    /// The columns an upsert replaces when the row exists and is older.
    pub on_conflict_update: &'static [&'static str],
    /// The columns a patch may set, with their guards.
    pub patchable: &'static [Patchable],
}

/// Why a plan could not be made: the flavor's mistake or the event's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A column the table does not have (or does not list for this use).
    #[error("{table} has no column {column}")]
    UnknownColumn {
        /// The table.
        table: &'static str,
        /// The column named.
        column: String,
    },
    /// A row without a value for one of the table's columns.
    #[error("{table}: no value for column {column}")]
    MissingColumn {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A column given twice.
    #[error("{table}: column {column} given twice")]
    DuplicateColumn {
        /// The table.
        table: &'static str,
        /// The column.
        column: String,
    },
    /// A patch of a column the table does not list as patchable.
    #[error("{table}.{column} is not patchable")]
    NotPatchable {
        /// The table.
        table: &'static str,
        /// The column.
        column: String,
    },
    /// A key with the wrong number of values.
    #[error("{table}: a key of {got} values, the table's has {want}")]
    KeyArity {
        /// The table.
        table: &'static str,
        /// Values given.
        got: usize,
        /// Key columns.
        want: usize,
    },
    /// The event itself is unusable (the flavor's reason).
    #[error("{0}")]
    Invalid(String),
}

impl Table {
    pub(super) fn index_of(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| *c == column)
    }

    /// The patchable entry of `column`.
    pub(super) fn patchable(&self, column: &str) -> Option<&'static Patchable> {
        let all: &'static [Patchable] = self.patchable;
        all.iter().find(|p| p.column == column)
    }

    /// The version column guarding a patchable column.
    pub(super) fn guard_of(&self, p: &Patchable) -> &'static str {
        p.guard.unwrap_or(self.version)
    }

    /// Insert the row, or replace an older version of it: a value for each
    /// of `columns`, by name, in any order.
    pub fn row<'c>(
        &'static self,
        cells: impl IntoIterator<Item = (&'c str, Value)>,
    ) -> Result<RowOp, PlanError> {
        let values = self.values(cells)?;
        Ok(RowOp(Op::Upsert {
            table: self,
            values,
        }))
    }

    /// Insert the row unless one with its key exists (`ON CONFLICT DO
    /// NOTHING`), whatever its version: e.g. a counter row that patches
    /// then [`add`](PatchBuilder::add) to. Same columns as [`Table::row`].
    pub fn insert_absent<'c>(
        &'static self,
        cells: impl IntoIterator<Item = (&'c str, Value)>,
    ) -> Result<RowOp, PlanError> {
        let values = self.values(cells)?;
        Ok(RowOp(Op::Insert {
            table: self,
            values,
        }))
    }

    /// One value per column, in their order; the version an integer.
    fn values<'c>(
        &'static self,
        cells: impl IntoIterator<Item = (&'c str, Value)>,
    ) -> Result<Vec<Value>, PlanError> {
        let mut values: Vec<Option<Value>> = vec![None; self.columns.len()];
        for (column, value) in cells {
            let Some(i) = self.index_of(column) else {
                return Err(self.unknown(column));
            };
            if values[i].replace(value).is_some() {
                return Err(PlanError::DuplicateColumn {
                    table: self.name,
                    column: column.to_string(),
                });
            }
        }
        let values = (values.into_iter().zip(self.columns))
            .map(|(v, column)| {
                v.ok_or(PlanError::MissingColumn {
                    table: self.name,
                    column,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        match self.index_of(self.version).map(|i| &values[i]) {
            Some(Value::Int(_)) | None => Ok(values),
            Some(other) => Err(PlanError::Invalid(format!(
                "{}: version {} is {other:?}, not an integer",
                self.name, self.version
            ))),
        }
    }

    /// Set some patchable columns of an existing row, each if this version
    /// is newer than its guard's (see [`PatchBuilder`]).
    pub fn patch(&'static self, key: Vec<Value>, version: i64) -> PatchBuilder {
        let error = self.check_key(&key).err();
        PatchBuilder {
            op: PatchOp {
                table: self,
                key,
                version,
                sets: Vec::new(),
                cond: None,
            },
            error,
        }
    }

    /// Delete the row if its version is not newer than `version`. Final:
    /// an op on the row older than the delete that arrives later finds no
    /// row (a patch waits for a creation that never comes; an upsert makes
    /// it again). Tables where that can happen keep tombstones (a patch)
    /// instead. A delete of a missing row does nothing.
    pub fn delete(&'static self, key: Vec<Value>, version: i64) -> Result<RowOp, PlanError> {
        self.check_key(&key)?;
        Ok(RowOp(Op::Delete {
            table: self,
            key,
            version,
        }))
    }

    fn check_key(&self, key: &[Value]) -> Result<(), PlanError> {
        match key.len() == self.key.len() {
            true => Ok(()),
            false => Err(PlanError::KeyArity {
                table: self.name,
                got: key.len(),
                want: self.key.len(),
            }),
        }
    }

    fn unknown(&self, column: &str) -> PlanError {
        PlanError::UnknownColumn {
            table: self.name,
            column: column.to_string(),
        }
    }
}

/// A patch being planned; [`PatchBuilder::build`] answers the first mistake.
///
/// Guards per set kind: [`set`](Self::set), [`max`](Self::max) and
/// [`set_if_null`](Self::set_if_null) apply when the patch is newer than
/// the column's guard (and bump it); [`add`](Self::add) is guarded by the
/// ledger only (each event adds once), so a late event's increment counts.
#[derive(Debug)]
#[must_use]
pub struct PatchBuilder {
    op: PatchOp,
    error: Option<PlanError>,
}

impl PatchBuilder {
    /// `column = value`.
    pub fn set(self, column: &str, value: impl Into<Value>) -> Self {
        self.with(column, Set::Value(value.into()))
    }

    /// `column = COALESCE(column, 0) + n` (a negative `n` decrements).
    pub fn add(self, column: &str, n: i64) -> Self {
        self.with(column, Set::Add(n))
    }

    /// `column = n` when `column` is NULL or smaller.
    pub fn max(self, column: &str, n: i64) -> Self {
        self.with(column, Set::Max(n))
    }

    /// `column = value` when `column` is NULL.
    pub fn set_if_null(self, column: &str, value: impl Into<Value>) -> Self {
        self.with(column, Set::IfNull(value.into()))
    }

    /// Only when `cond` holds of the row (every set of the patch).
    pub fn only_if(mut self, cond: Cond) -> Self {
        let table = self.op.table;
        let Cond::Unset(column) = cond;
        if table.index_of(column).is_none() && table.patchable(column).is_none() {
            self.fail(table.unknown(column));
        }
        self.op.cond = Some(cond);
        self
    }

    /// The op, or the first mistake.
    pub fn build(self) -> Result<RowOp, PlanError> {
        match self.error {
            Some(err) => Err(err),
            None => Ok(RowOp(Op::Patch(self.op))),
        }
    }

    fn with(mut self, column: &str, set: Set) -> Self {
        let table = self.op.table;
        match table.patchable(column) {
            None if table.index_of(column).is_some() => self.fail(PlanError::NotPatchable {
                table: table.name,
                column: column.to_string(),
            }),
            None => self.fail(table.unknown(column)),
            Some(_) if self.op.sets.iter().any(|(c, _)| *c == column) => {
                self.fail(PlanError::DuplicateColumn {
                    table: table.name,
                    column: column.to_string(),
                })
            }
            Some(p) => self.op.sets.push((p.column, set)),
        }
        self
    }

    fn fail(&mut self, err: PlanError) {
        self.error.get_or_insert(err);
    }
}
