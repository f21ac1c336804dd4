//! Patches whose row does not exist yet are parked, not dropped: an edit or
//! delete that arrives before its creation (producers and outboxes reorder)
//! waits in `pending_row_patches` and is applied, in version order and under
//! the same version guards, by the batch that creates the row. So a row's
//! final state is that of applying its events in version order, whatever
//! order they arrive in.

use serde_json::{json, Value as Json};
use sqlx::{AnyConnection, Row};

use super::op::{Cond, PatchOp, Set, SetKind};
use super::sql::{self, PatchShape};
use super::{Table, Value};

/// Parameters per lookup statement.
const KEYS_PER_LOOKUP: usize = 500;

/// The key as stored: a JSON array of its values.
pub(super) fn key_text(key: &[Value]) -> String {
    Json::Array(key.iter().map(to_json).collect()).to_string()
}

fn to_json(v: &Value) -> Json {
    match v {
        Value::Text(s) => Json::String(s.clone()),
        Value::Int(n) => Json::from(*n),
        Value::Null => Json::Null,
    }
}

fn from_json(v: &Json) -> Value {
    match v {
        Json::String(s) => Value::Text(s.clone()),
        Json::Number(n) => n.as_i64().map_or(Value::Null, Value::Int),
        _ => Value::Null,
    }
}

fn values_of(text: &str) -> Vec<Value> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Array(items)) => items.iter().map(from_json).collect(),
        _ => Vec::new(),
    }
}

/// The stored `columns`: `[{"column": …, "set": "value" | "add" | "max" |
/// "if_null"}, …]`.
fn columns_text(op: &PatchOp) -> String {
    let items = (op.sets.iter())
        .map(|(c, s)| json!({"column": c, "set": s.kind().name()}))
        .collect();
    Json::Array(items).to_string()
}

/// The stored `only_if`: `{"unset": column}`.
fn cond_text(cond: Option<Cond>) -> Option<String> {
    cond.map(|Cond::Unset(c)| json!({ "unset": c }).to_string())
}

/// Parks the patches whose row does not exist.
pub(super) async fn park(
    conn: &mut AnyConnection,
    shape: &PatchShape,
    rows: &[&PatchOp],
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    for op in rows {
        let values: Vec<Json> = op.sets.iter().map(|(_, s)| to_json(&s.value())).collect();
        sqlx::query(
            "INSERT INTO pending_row_patches \
             (table_name, row_key, version, columns, vals, only_if, parked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(shape.table.name)
        .bind(key_text(&op.key))
        .bind(op.version)
        .bind(columns_text(op))
        .bind(Json::Array(values).to_string())
        .bind(cond_text(op.cond))
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Applies the parked patches of the rows a batch upserted (see [`unpark`]).
pub(super) async fn unpark_created(
    conn: &mut AnyConnection,
    mut created: Vec<(&'static Table, Vec<Value>)>,
) -> Result<(), sqlx::Error> {
    created.sort_by(|a, b| a.0.name.cmp(b.0.name));
    for rows in created.chunk_by(|a, b| a.0.name == b.0.name) {
        let mut keys: Vec<Vec<Value>> = rows.iter().map(|(_, k)| k.clone()).collect();
        keys.dedup();
        unpark(conn, rows[0].0, &keys).await?;
    }
    Ok(())
}

/// Applies and removes the parked patches of the rows of `table` with
/// these keys (rows this batch may have created).
pub(super) async fn unpark(
    conn: &mut AnyConnection,
    table: &'static Table,
    keys: &[Vec<Value>],
) -> Result<(), sqlx::Error> {
    let any = sqlx::query("SELECT 1 FROM pending_row_patches WHERE table_name = $1 LIMIT 1")
        .bind(table.name)
        .fetch_optional(&mut *conn)
        .await?;
    if any.is_none() || keys.is_empty() {
        return Ok(());
    }
    let texts: Vec<String> = keys.iter().map(|k| key_text(k)).collect();
    let mut parked = Vec::new();
    for chunk in texts.chunks(KEYS_PER_LOOKUP) {
        parked.extend(fetch(conn, table, chunk).await?);
    }
    parked.sort_by_key(|(p, _)| p.as_ref().map_or(i64::MIN, |p| p.version));
    // One at a time, in version order: rare, and a row is never touched
    // twice by one statement.
    for (op, (key, version)) in &parked {
        if let Some(op) = op {
            sql::patch(conn, &PatchShape::of(op), &[op]).await?;
        }
        sqlx::query(
            "DELETE FROM pending_row_patches WHERE table_name = $1 AND row_key = $2 AND version = $3",
        )
        .bind(table.name)
        .bind(key.clone())
        .bind(*version)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A parked row read back: the patch (`None` when it cannot be applied as
/// it was meant: dropped with a warning), and its stored key and version.
type ParkedRow = (Option<PatchOp>, (String, i64));

async fn fetch(
    conn: &mut AnyConnection,
    table: &'static Table,
    keys: &[String],
) -> Result<Vec<ParkedRow>, sqlx::Error> {
    let list: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 2)).collect();
    let text = format!(
        "SELECT row_key, version, columns, vals, only_if FROM pending_row_patches \
         WHERE table_name = $1 AND row_key IN ({})",
        list.join(", ")
    );
    let mut query = sqlx::query(&text).bind(table.name);
    for key in keys {
        query = query.bind(key.clone());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let key: String = r.try_get(0)?;
        let version: i64 = r.try_get(1)?;
        let columns: String = r.try_get(2)?;
        let only_if: Option<String> = r.try_get(4)?;
        let op = decode(
            table,
            &key,
            version,
            &columns,
            &r.try_get::<String, _>(3)?,
            only_if,
        );
        out.push((op, (key, version)));
    }
    Ok(out)
}

/// A parked patch, in either format: `columns` a JSON array of
/// `{"column", "set"}` (or, as parked before set kinds, of names: plain
/// sets), `only_if` `{"unset": column}` (or, as parked before conditions
/// were data, the SQL text `<table>.<column> IS NULL`). Columns must be
/// patchable columns of the table. Anything else is logged and the patch
/// dropped: applying it without its condition could write what its event
/// never meant to.
pub(super) fn decode(
    table: &'static Table,
    key: &str,
    version: i64,
    columns: &str,
    vals: &str,
    only_if: Option<String>,
) -> Option<PatchOp> {
    let drop = |why: &str| {
        tracing::warn!(
            table = table.name,
            row_key = key,
            version,
            columns,
            only_if = only_if.as_deref().unwrap_or(""),
            "parked patch dropped: {why}"
        );
        None
    };
    let items: Vec<Json> = serde_json::from_str(columns).unwrap_or_default();
    let values = values_of(vals);
    if items.is_empty() || items.len() != values.len() {
        return drop("unreadable columns or values");
    }
    let mut sets = Vec::with_capacity(items.len());
    for (item, value) in items.iter().zip(values) {
        let (name, kind) = match item {
            Json::String(name) => (name.as_str(), Some(SetKind::Value)),
            _ => (
                item["column"].as_str().unwrap_or_default(),
                item["set"].as_str().and_then(SetKind::parse),
            ),
        };
        let (Some(p), Some(kind)) = (table.patchable(name), kind) else {
            return drop("not a patchable column of the table");
        };
        let Some(set) = Set::of(kind, value) else {
            return drop("a value of the wrong type");
        };
        sets.push((p.column, set));
    }
    let cond = match only_if.as_deref() {
        None => None,
        Some(text) => match cond_of(table, text) {
            Some(cond) => Some(cond),
            None => return drop("a condition this build cannot read"),
        },
    };
    Some(PatchOp {
        table,
        key: values_of(key),
        version,
        sets,
        cond,
    })
}

/// A stored condition, either format.
fn cond_of(table: &'static Table, text: &str) -> Option<Cond> {
    let column = match serde_json::from_str::<Json>(text) {
        Ok(doc) => doc["unset"].as_str().map(str::to_string),
        Err(_) => (text.trim().strip_suffix(" IS NULL"))
            .and_then(|c| c.strip_prefix(table.name)?.strip_prefix('.'))
            .map(str::to_string),
    }?;
    let named = table.columns.iter().copied().find(|c| *c == column);
    let patchable = table
        .patchable
        .iter()
        .map(|p| p.column)
        .find(|c| *c == column);
    named.or(patchable).map(Cond::Unset)
}
