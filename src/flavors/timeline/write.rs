//! The timeline's table for the batch writer, and a planned write as row ops.

use super::plan::{Cell, CellWrite};
use crate::store::rows::{Cond, Patchable, PlanError, RowOp, Table};

/// `timeline_cells` (migrations/common/0002_timeline.sql, and
/// 20261207221500_timeline_column_versions.sql for the column versions).
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
    // The content follows the newest edit or the tombstone; each time has
    // its own version, so a late edit keeps its time on a deleted comment
    // (as in version order) and a late delete its time on an edited one.
    patchable: &[
        Patchable::row("content"),
        Patchable::own("edited_at", "edited_version"),
        Patchable::own("deleted_at", "deleted_version"),
    ],
};

/// The row ops of one planned write.
pub fn ops(write: CellWrite) -> Result<Vec<RowOp>, PlanError> {
    let op = match write {
        CellWrite::Upsert(cell) => upsert(cell)?,
        CellWrite::Edit {
            cell_id,
            content,
            version,
            at_ms,
        } => CELLS
            .patch(vec![cell_id.into()], version)
            .set("content", content)
            .set("edited_at", at_ms)
            .only_if(Cond::Unset("deleted_at"))
            .build()?,
        CellWrite::Tombstone {
            cell_id,
            version,
            at_ms,
        } => CELLS
            .patch(vec![cell_id.into()], version)
            .set("content", "{}")
            .set("deleted_at", at_ms)
            .build()?,
    };
    Ok(vec![op])
}

fn upsert(c: Cell) -> Result<RowOp, PlanError> {
    CELLS.row([
        ("cell_id", c.cell_id.into()),
        ("case_id", c.case_id.into()),
        ("case_key", c.case_key.into()),
        ("project_id", c.project_id.into()),
        ("cell_type", c.cell_type.as_str().into()),
        ("event_type", c.event_type.as_str().into()),
        ("event_id", c.event_id.into()),
        ("actor_kind", c.actor_kind.into()),
        ("actor_id", c.actor_id.into()),
        ("actor_name", c.actor_name.into()),
        ("occurred_at", c.occurred_at_ms.into()),
        ("aggregate_version", c.version.into()),
        ("updated_version", c.version.into()),
        ("content", c.content.into()),
    ])
}
