//! The writer's statements: multi-row, chunked below the parameter limits,
//! the same text on PostgreSQL and SQLite.

use std::hash::{Hash, Hasher};

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

use super::{Table, Value};

/// Ledger rows per statement.
pub(super) const LEDGER_ROWS: usize = 500;
/// Bind parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;
/// Rows per statement, whatever their width (keeps statements and their
/// parse time small).
const MAX_ROWS: usize = 500;

/// Patches that share one statement: same table, same columns, same condition.
#[derive(Debug, Clone)]
pub(crate) struct PatchGroup {
    pub(crate) table: &'static Table,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) only_if: Option<&'static str>,
}

impl PartialEq for PatchGroup {
    fn eq(&self, other: &Self) -> bool {
        self.table.name == other.table.name
            && self.columns == other.columns
            && self.only_if == other.only_if
    }
}

impl Eq for PatchGroup {}

impl Hash for PatchGroup {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.table.name.hash(state);
        self.columns.hash(state);
        self.only_if.hash(state);
    }
}

/// One patched row: its key, the version written, the values of the group's columns.
#[derive(Debug, Clone)]
pub(crate) struct PatchRow<'a> {
    pub(crate) key: &'a [Value],
    pub(crate) version: i64,
    pub(crate) values: Vec<&'a Value>,
}

/// Inserts ledger rows; returns the ids inserted now.
pub(super) async fn claim_ledger(
    conn: &mut AnyConnection,
    flavor: &str,
    now_ms: i64,
    ids: &[&str],
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<String> = (0..ids.len())
        .map(|i| format!("($1, ${}, $2)", i + 3))
        .collect();
    let sql = format!(
        "INSERT INTO processed_events (flavor, event_id, processed_at) VALUES {} \
         ON CONFLICT DO NOTHING RETURNING event_id",
        rows.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(flavor.to_string()).bind(now_ms);
    for id in ids {
        query = query.bind(id.to_string());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter().map(|r| r.try_get::<String, _>(0)).collect()
}

/// Multi-row upserts into one table.
pub(super) async fn upsert(
    conn: &mut AnyConnection,
    table: &Table,
    rows: &[&[Value]],
) -> Result<(), sqlx::Error> {
    let width = table.columns.len().max(1);
    for chunk in rows.chunks((MAX_PARAMS / width).clamp(1, MAX_ROWS)) {
        let sql = upsert_sql(table, chunk.len());
        let mut query = sqlx::query(&sql).persistent(false);
        for row in chunk {
            for value in row.iter() {
                query = bind(query, value);
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The text of an upsert of `n` rows.
pub(super) fn upsert_sql(table: &Table, n: usize) -> String {
    let width = table.columns.len();
    let values = placeholders(n, width, 0);
    let updates: Vec<String> = table
        .on_conflict_update
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {t} ({cols}) VALUES {values} ON CONFLICT ({key}) DO UPDATE SET {updates} \
         WHERE {t}.{v} < excluded.{v}",
        t = table.name,
        cols = table.columns.join(", "),
        key = table.key.join(", "),
        updates = updates.join(", "),
        v = table.version,
    )
}

/// Multi-row guarded updates of one group; returns the rows it did not
/// update (missing, newer, or excluded by the condition).
pub(super) async fn patch<'r, 'a>(
    conn: &mut AnyConnection,
    group: &PatchGroup,
    rows: &'r [PatchRow<'a>],
) -> Result<Vec<&'r PatchRow<'a>>, sqlx::Error> {
    let width = group.table.key.len() + 1 + group.columns.len();
    let mut untouched = Vec::new();
    for chunk in rows.chunks((MAX_PARAMS / width).clamp(1, MAX_ROWS)) {
        let sql = patch_sql(group, chunk.len());
        let mut query = sqlx::query(&sql).persistent(false);
        for row in chunk {
            for key in row.key {
                query = bind(query, key);
            }
            query = query.bind(row.version);
            for value in &row.values {
                query = bind(query, value);
            }
        }
        let updated: std::collections::HashSet<String> = (query.fetch_all(&mut *conn).await?)
            .iter()
            .map(|r| super::parked::key_text(&key_values(r, group.table.key.len())))
            .collect();
        let missed = chunk
            .iter()
            .filter(|r| !updated.contains(&super::parked::key_text(r.key)));
        untouched.extend(missed);
    }
    Ok(untouched)
}

/// The key columns of a returned row, as values.
fn key_values(row: &sqlx::any::AnyRow, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| match row.try_get::<String, _>(i) {
            Ok(s) => Value::Text(s),
            Err(_) => row.try_get::<i64, _>(i).map_or(Value::Null, Value::Int),
        })
        .collect()
}

/// Whether the row with `key` exists.
pub(super) async fn exists(
    conn: &mut AnyConnection,
    table: &Table,
    key: &[Value],
) -> Result<bool, sqlx::Error> {
    let conds: Vec<String> = (table.key.iter().enumerate())
        .map(|(i, k)| format!("{k} = ${}", i + 1))
        .collect();
    let text = format!("SELECT 1 FROM {} WHERE {}", table.name, conds.join(" AND "));
    let mut query = sqlx::query(&text);
    for value in key {
        query = bind(query, value);
    }
    Ok(query.fetch_optional(&mut *conn).await?.is_some())
}

/// The text of a guarded update of `n` rows: `VALUES` columns are named
/// `column1…` on both backends (keys first, then the version, then the
/// group's columns).
pub(super) fn patch_sql(group: &PatchGroup, n: usize) -> String {
    let table = group.table;
    let keys = table.key.len();
    let width = keys + 1 + group.columns.len();
    let version_col = keys + 1;
    let mut sets = vec![format!("{} = v.column{version_col}", table.version)];
    sets.extend(
        group
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = v.column{}", version_col + 1 + i)),
    );
    let mut conds: Vec<String> = table
        .key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{t}.{k} = v.column{}", i + 1, t = table.name))
        .collect();
    conds.push(format!(
        "{t}.{v} < v.column{version_col}",
        t = table.name,
        v = table.version
    ));
    if let Some(extra) = group.only_if {
        conds.push(format!("({extra})"));
    }
    let returning: Vec<String> = (table.key.iter())
        .map(|k| format!("{t}.{k}", t = table.name))
        .collect();
    format!(
        "UPDATE {t} SET {sets} FROM (VALUES {values}) AS v WHERE {conds} RETURNING {ret}",
        t = table.name,
        sets = sets.join(", "),
        values = placeholders(n, width, 0),
        conds = conds.join(" AND "),
        ret = returning.join(", "),
    )
}

/// `($1, $2), ($3, $4)` for `rows` rows of `width` parameters after `offset`.
fn placeholders(rows: usize, width: usize, offset: usize) -> String {
    let mut out = String::with_capacity(rows * width * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..width {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(offset + r * width + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

fn bind<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    value: &Value,
) -> Query<'q, Any, AnyArguments<'q>> {
    match value {
        Value::Text(s) => query.bind(s.clone()),
        Value::Int(n) => query.bind(*n),
        Value::Null => query.bind(Option::<String>::None),
    }
}
