//! The timeline's table for the batch writer, and a planned write as row ops.

use super::plan::{Cell, CellWrite};
use crate::store::rows::{RowOp, Table, Value};

/// `timeline_cells` (migrations/*/0002_timeline.sql).
pub static CELLS: Table = Table {
    name: "timeline_cells",
    columns: &[
        "cell_id",
        "case_id",
        "case_key",
        "project_id",
        "cell_type",
        "event_type",
        "event_id",
        "actor_kind",
        "actor_id",
        "actor_name",
        "occurred_at",
        "aggregate_version",
        "updated_version",
        "content",
    ],
    key: &["cell_id"],
    version: "updated_version",
    on_conflict_update: &["content", "updated_version", "event_id", "occurred_at"],
};

/// The row ops of one planned write.
pub fn ops(write: CellWrite) -> Vec<RowOp> {
    match write {
        CellWrite::Upsert(cell) => vec![upsert(cell)],
        CellWrite::Edit {
            cell_id,
            content,
            version,
            at_ms,
        } => vec![RowOp::Patch {
            table: &CELLS,
            key: vec![cell_id.into()],
            version,
            set: vec![("content", content.into()), ("edited_at", at_ms.into())],
            only_if: Some("timeline_cells.deleted_at IS NULL"),
        }],
        CellWrite::Tombstone {
            cell_id,
            version,
            at_ms,
        } => vec![RowOp::Patch {
            table: &CELLS,
            key: vec![cell_id.into()],
            version,
            set: vec![("content", "{}".into()), ("deleted_at", at_ms.into())],
            only_if: None,
        }],
    }
}

fn upsert(c: Cell) -> RowOp {
    let values: Vec<Value> = vec![
        c.cell_id.into(),
        c.case_id.into(),
        c.case_key.into(),
        c.project_id.into(),
        c.cell_type.as_str().into(),
        c.event_type.as_str().into(),
        c.event_id.into(),
        c.actor_kind.into(),
        c.actor_id.into(),
        c.actor_name.into(),
        c.occurred_at_ms.into(),
        c.version.into(),
        c.version.into(),
        c.content.into(),
    ];
    RowOp::Upsert {
        table: &CELLS,
        values,
    }
}
