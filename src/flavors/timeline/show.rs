//! `case-event-handler timeline show CASE`: a case's timeline for a person.

use std::fmt::Write as _;

use serde::Serialize;
use sqlx::Row;

use crate::store::{Store, StoreError};

/// One cell as read back.
#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    /// Cell id.
    pub cell_id: String,
    /// Case id.
    pub case_id: String,
    /// Case key.
    pub case_key: String,
    /// Cell type.
    pub cell_type: String,
    /// Event type that made the cell.
    pub event_type: String,
    /// Actor display name (or id).
    pub actor: String,
    /// When it happened (Unix ms).
    pub occurred_at_ms: i64,
    /// Case version of the event.
    pub aggregate_version: i64,
    /// The content document.
    pub content: serde_json::Value,
    /// Whether the comment was edited.
    pub edited: bool,
    /// Whether the cell is a tombstone.
    pub deleted: bool,
}

/// The cells of a case (by id or key), oldest first.
pub async fn load(store: &Store, case: &str) -> Result<Vec<CellView>, StoreError> {
    let rows = sqlx::query(
        "SELECT cell_id, case_id, case_key, cell_type, event_type, actor_id, actor_name, occurred_at, \
         aggregate_version, content, edited_at, deleted_at FROM timeline_cells \
         WHERE case_id = $1 OR case_key = $1 ORDER BY aggregate_version, cell_id",
    )
    .bind(case)
    .fetch_all(store.pool())
    .await?;
    let mut cells = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get("actor_name")?;
        let id: String = row.try_get("actor_id")?;
        let content: String = row.try_get("content")?;
        cells.push(CellView {
            cell_id: row.try_get("cell_id")?,
            case_id: row.try_get("case_id")?,
            case_key: row.try_get("case_key")?,
            cell_type: row.try_get("cell_type")?,
            event_type: row.try_get("event_type")?,
            actor: if name.is_empty() { id } else { name },
            occurred_at_ms: row.try_get("occurred_at")?,
            aggregate_version: row.try_get("aggregate_version")?,
            content: serde_json::from_str(&content).unwrap_or(serde_json::Value::Null),
            edited: row.try_get::<Option<i64>, _>("edited_at")?.is_some(),
            deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
        });
    }
    Ok(cells)
}

/// Aligned text, one line per cell, newest last.
pub fn render(cells: &[CellView]) -> String {
    let Some(first) = cells.first() else {
        return "no timeline cells for this case\n".into();
    };
    let actor_w = cells
        .iter()
        .map(|c| c.actor.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 24);
    let mut out = format!("{} ({})\n", first.case_key, first.case_id);
    for c in cells {
        let when = chrono::DateTime::from_timestamp_millis(c.occurred_at_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let actor: String = c.actor.chars().take(actor_w).collect();
        let _ = writeln!(
            out,
            "  v{:<4} {}  {:<12} {:<actor_w$}  {}",
            c.aggregate_version,
            when,
            c.cell_type,
            actor,
            describe(c)
        );
    }
    out
}

/// A short human description of a cell.
fn describe(c: &CellView) -> String {
    if c.deleted {
        return "comment deleted".into();
    }
    let s = |k: &str| {
        c.content
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let text = match c.event_type.as_str() {
        "case.created" => format!(
            "created \"{}\"",
            c.content
                .pointer("/snapshot/title")
                .and_then(|v| v.as_str())
                .unwrap_or("")
        ),
        "case.title_changed" => format!("title \"{}\" → \"{}\"", s("old"), s("new")),
        "case.status_changed" => format!("status {} → {}", s("fromStatusName"), s("toStatusName")),
        "case.priority_changed" => format!("priority {} → {}", short(&s("from")), short(&s("to"))),
        "case.assigned" => format!("assigned to {}", s("to")),
        "case.unassigned" => format!("unassigned from {}", s("from")),
        "case.comment_added" | "case.comment_edited" => {
            let body = s("markdown");
            let edited = if c.edited { " (edited)" } else { "" };
            format!(
                "comment{edited}: {}",
                body.chars().take(60).collect::<String>()
            )
        }
        "case.attribute_changed" => {
            let list = |k: &str| {
                c.content
                    .get(k)
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default()
            };
            format!("{}: +[{}] -[{}]", s("key"), list("added"), list("removed"))
        }
        other => format!("{other} {}", compact(&c.content)),
    };
    text.chars().take(120).collect()
}

fn short(enum_name: &str) -> &str {
    enum_name.rsplit('_').next().unwrap_or(enum_name)
}

fn compact(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s == "{}" {
        String::new()
    } else {
        s.chars().take(80).collect()
    }
}
