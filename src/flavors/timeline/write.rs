//! IO: applies a planned write inside the caller's transaction.

use sqlx::AnyConnection;

use super::plan::{Cell, CellWrite};

/// Applies the write; returns false when a newer version was already applied.
pub async fn apply(conn: &mut AnyConnection, write: &CellWrite) -> Result<bool, sqlx::Error> {
    let rows = match write {
        CellWrite::Upsert(cell) => upsert(conn, cell).await?,
        CellWrite::Edit {
            cell_id,
            content,
            version,
            at_ms,
        } => sqlx::query(
            "UPDATE timeline_cells SET content = $1, updated_version = $2, edited_at = $3 \
                 WHERE cell_id = $4 AND updated_version < $2 AND deleted_at IS NULL",
        )
        .bind(content)
        .bind(version)
        .bind(at_ms)
        .bind(cell_id)
        .execute(&mut *conn)
        .await?
        .rows_affected(),
        CellWrite::Tombstone {
            cell_id,
            version,
            at_ms,
        } => sqlx::query(
            "UPDATE timeline_cells SET content = '{}', updated_version = $1, deleted_at = $2 \
                 WHERE cell_id = $3 AND updated_version < $1",
        )
        .bind(version)
        .bind(at_ms)
        .bind(cell_id)
        .execute(&mut *conn)
        .await?
        .rows_affected(),
    };
    Ok(rows > 0)
}

async fn upsert(conn: &mut AnyConnection, c: &Cell) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO timeline_cells (cell_id, case_id, case_key, project_id, cell_type, event_type, event_id, \
         actor_kind, actor_id, actor_name, occurred_at, aggregate_version, updated_version, content) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) \
         ON CONFLICT (cell_id) DO UPDATE SET content = excluded.content, updated_version = excluded.updated_version, \
         event_id = excluded.event_id, occurred_at = excluded.occurred_at \
         WHERE timeline_cells.updated_version < excluded.updated_version",
    )
    .bind(&c.cell_id)
    .bind(&c.case_id)
    .bind(&c.case_key)
    .bind(&c.project_id)
    .bind(c.cell_type.as_str())
    .bind(c.event_type.as_str())
    .bind(&c.event_id)
    .bind(&c.actor_kind)
    .bind(&c.actor_id)
    .bind(&c.actor_name)
    .bind(c.occurred_at_ms)
    .bind(c.version)
    .bind(&c.content)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
