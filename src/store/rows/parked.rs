//! Patches whose row does not exist yet are parked, not dropped: an edit or
//! delete that arrives before its creation (producers and outboxes reorder)
//! waits in `pending_row_patches` and is applied, in version order and under
//! the same version guards, by the batch that creates the row. So a row's
//! final state is that of applying its events in version order, whatever
//! order they arrive in.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use serde_json::Value as Json;
use sqlx::{AnyConnection, Row};

use super::sql::{self, PatchGroup, PatchRow};
use super::{Table, Value};

/// Parameters per lookup statement.
const KEYS_PER_LOOKUP: usize = 500;

/// A parked patch as read back.
struct Parked {
    key: Vec<Value>,
    version: i64,
    columns: Vec<&'static str>,
    values: Vec<Value>,
    only_if: Option<&'static str>,
}

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

/// Conditions come back from the database as text; each distinct one is
/// kept once for the life of the process (they are a handful of static
/// strings of the flavors' code).
fn intern(text: String) -> &'static str {
    static SEEN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .expect("intern lock");
    if let Some(s) = seen.get(text.as_str()) {
        return s;
    }
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    seen.insert(leaked);
    leaked
}

/// Parks the patches of `group` whose row does not exist.
pub(super) async fn park(
    conn: &mut AnyConnection,
    group: &PatchGroup,
    rows: &[&PatchRow<'_>],
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let columns = serde_json::to_string(&group.columns).unwrap_or_default();
    for row in rows {
        if sql::exists(conn, group.table, row.key).await? {
            continue; // there, but newer or excluded by the condition: stale
        }
        let values = Json::Array(row.values.iter().map(|v| to_json(v)).collect()).to_string();
        sqlx::query(
            "INSERT INTO pending_row_patches \
             (table_name, row_key, version, columns, vals, only_if, parked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(group.table.name)
        .bind(key_text(row.key))
        .bind(row.version)
        .bind(columns.clone())
        .bind(values)
        .bind(group.only_if.map(str::to_string))
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
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
    parked.sort_by_key(|p| p.version);
    // One at a time, in version order: rare, and a row is never touched
    // twice by one statement.
    for p in &parked {
        let group = PatchGroup {
            table,
            columns: p.columns.clone(),
            only_if: p.only_if,
        };
        let row = PatchRow {
            key: &p.key,
            version: p.version,
            values: p.values.iter().collect(),
        };
        sql::patch(conn, &group, &[row]).await?;
        sqlx::query(
            "DELETE FROM pending_row_patches WHERE table_name = $1 AND row_key = $2 AND version = $3",
        )
        .bind(table.name)
        .bind(key_text(&p.key))
        .bind(p.version)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn fetch(
    conn: &mut AnyConnection,
    table: &'static Table,
    keys: &[String],
) -> Result<Vec<Parked>, sqlx::Error> {
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
        let names: Vec<String> =
            serde_json::from_str(&r.try_get::<String, _>(2)?).unwrap_or_default();
        // Column names go into SQL: plain identifiers only.
        let ident =
            |n: &String| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let columns: Vec<&'static str> = names
            .iter()
            .filter(|n| ident(n))
            .cloned()
            .map(intern)
            .collect();
        let values = values_of(&r.try_get::<String, _>(3)?);
        if columns.len() != names.len() || values.len() != columns.len() {
            continue;
        }
        out.push(Parked {
            key: values_of(&r.try_get::<String, _>(0)?),
            version: r.try_get(1)?,
            columns,
            values,
            only_if: r.try_get::<Option<String>, _>(4)?.map(intern),
        });
    }
    Ok(out)
}
