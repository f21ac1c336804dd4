//! The writer's statements: multi-row, chunked below the parameter limits,
//! the same text on PostgreSQL and SQLite.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Row};

use super::op::{Cond, PatchOp, SetKind};
use super::{Table, Value};

/// Ledger rows per statement.
pub(super) const LEDGER_ROWS: usize = 500;
/// Bind parameters per statement: below SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;
/// Rows per statement, whatever their width (keeps statements and their
/// parse time small).
const MAX_ROWS: usize = 500;

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

/// Multi-row upserts into one table (inserts of absent rows only when
/// `if_absent`).
pub(super) async fn upsert(
    conn: &mut AnyConnection,
    table: &Table,
    rows: &[&[Value]],
    if_absent: bool,
) -> Result<(), sqlx::Error> {
    let width = table.columns.len().max(1);
    for chunk in rows.chunks((MAX_PARAMS / width).clamp(1, MAX_ROWS)) {
        let sql = match if_absent {
            true => insert_sql(table, chunk.len()),
            false => upsert_sql(table, chunk.len()),
        };
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

/// The text of an insert of `n` rows that leaves existing rows alone.
pub(super) fn insert_sql(table: &Table, n: usize) -> String {
    format!(
        "INSERT INTO {t} ({cols}) VALUES {values} ON CONFLICT ({key}) DO NOTHING",
        t = table.name,
        cols = table.columns.join(", "),
        values = placeholders(n, table.columns.len(), 0),
        key = table.key.join(", "),
    )
}

/// The text of an upsert of `n` rows: a newer row version replaces the
/// row, except that a column with a guard of its own (and that guard) is
/// replaced only when its guard is older too, so a replace never undoes a
/// newer patch of that column (as in version order).
pub(super) fn upsert_sql(table: &Table, n: usize) -> String {
    let width = table.columns.len();
    let values = placeholders(n, width, 0);
    let t = table.name;
    let own_guard = |c: &str| {
        let own = table
            .patchable
            .iter()
            .filter_map(|p| p.guard.map(|g| (p.column, g)));
        own.clone()
            .find(|(col, _)| *col == c)
            .map(|(_, g)| g)
            .or_else(|| own.map(|(_, g)| g).find(|g| *g == c))
    };
    let updates: Vec<String> = table
        .on_conflict_update
        .iter()
        .map(|c| match own_guard(c) {
            Some(g) => format!(
                "{c} = CASE WHEN {t}.{g} IS NULL OR {t}.{g} < excluded.{g} \
                 THEN excluded.{c} ELSE {t}.{c} END"
            ),
            None => format!("{c} = excluded.{c}"),
        })
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

/// Patches that share one statement: same table, same columns set the
/// same way, same condition.
#[derive(Debug, Clone)]
pub(super) struct PatchShape {
    pub(super) table: &'static Table,
    pub(super) sets: Vec<(&'static str, SetKind)>,
    pub(super) cond: Option<Cond>,
}

impl PatchShape {
    pub(super) fn of(op: &PatchOp) -> Self {
        Self {
            table: op.table,
            sets: op.sets.iter().map(|(c, s)| (*c, s.kind())).collect(),
            cond: op.cond,
        }
    }
}

impl PartialEq for PatchShape {
    fn eq(&self, other: &Self) -> bool {
        self.table.name == other.table.name && self.sets == other.sets && self.cond == other.cond
    }
}

impl Eq for PatchShape {}

impl Hash for PatchShape {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.table.name.hash(state);
        self.sets.hash(state);
        self.cond.hash(state);
    }
}

/// Multi-row updates of one shape, each column under its own guard;
/// returns the ops whose row does not exist.
pub(super) async fn patch<'r>(
    conn: &mut AnyConnection,
    shape: &PatchShape,
    rows: &[&'r PatchOp],
) -> Result<Vec<&'r PatchOp>, sqlx::Error> {
    let width = shape.table.key.len() + 1 + shape.sets.len();
    let mut missing = Vec::new();
    for chunk in rows.chunks((MAX_PARAMS / width).clamp(1, MAX_ROWS)) {
        let sql = patch_sql(shape, chunk.len());
        let mut query = sqlx::query(&sql).persistent(false);
        for row in chunk {
            for key in &row.key {
                query = bind(query, key);
            }
            query = query.bind(row.version);
            for (_, set) in &row.sets {
                query = bind(query, &set.value());
            }
        }
        let found: HashSet<Vec<Value>> = (query.fetch_all(&mut *conn).await?)
            .iter()
            .map(|r| key_values(r, shape.table.key.len()))
            .collect();
        missing.extend(chunk.iter().filter(|r| !found.contains(&r.key)));
    }
    Ok(missing)
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

/// `a AND b …`, or `None` for no terms.
fn all(terms: &[&str]) -> Option<String> {
    let terms: Vec<&str> = terms.iter().copied().filter(|t| !t.is_empty()).collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// `col = CASE WHEN <when> THEN <then> ELSE t.col END` (or `col = <then>`
/// when nothing is required).
fn set_when(t: &str, col: &str, when: Option<String>, then: &str) -> String {
    match when {
        Some(when) => format!("{col} = CASE WHEN {when} THEN {then} ELSE {t}.{col} END"),
        None => format!("{col} = {then}"),
    }
}

/// The text of an update of `n` rows of one shape. `VALUES` columns are
/// named `column1…` on both backends: keys first, then the version, then
/// one per set. The WHERE matches keys only, so RETURNING names every row
/// that exists; each column is set when its guard passes (`guard IS NULL
/// OR guard < version`) and the condition holds, else keeps its value, and
/// each guard used is set to the version the same way. SET expressions see
/// the row before the update on both backends.
pub(super) fn patch_sql(shape: &PatchShape, n: usize) -> String {
    let table = shape.table;
    let t = table.name;
    let keys = table.key.len();
    let version = format!("v.column{}", keys + 1);
    let cond =
        shape.cond.map(
            |Cond::Unset(col)| match table.patchable(col).and_then(|p| p.guard) {
                Some(g) => format!("({t}.{col} IS NULL OR {t}.{g} > {version})"),
                None => format!("{t}.{col} IS NULL"),
            },
        );
    let cond = cond.unwrap_or_default();
    let guard = |g: &str| format!("({t}.{g} IS NULL OR {t}.{g} < {version})");
    let mut guards: Vec<&'static str> = Vec::new();
    let mut sets = Vec::new();
    for (i, &(col, kind)) in shape.sets.iter().enumerate() {
        let value = format!("v.column{}", keys + 2 + i);
        let g = table
            .patchable(col)
            .map_or(table.version, |p| table.guard_of(p));
        if kind.guarded() && !guards.contains(&g) {
            guards.push(g);
        }
        sets.push(match kind {
            SetKind::Value => set_when(t, col, all(&[&guard(g), &cond]), &value),
            SetKind::IfNull => {
                let null = format!("{t}.{col} IS NULL");
                set_when(t, col, all(&[&guard(g), &cond, &null]), &value)
            }
            SetKind::Max => {
                let less = format!("({t}.{col} IS NULL OR {t}.{col} < {value})");
                set_when(t, col, all(&[&guard(g), &cond, &less]), &value)
            }
            SetKind::Add => set_when(
                t,
                col,
                all(&[&cond]),
                &format!("COALESCE({t}.{col}, 0) + {value}"),
            ),
        });
    }
    for g in guards {
        sets.push(set_when(t, g, all(&[&guard(g), &cond]), &version));
    }
    let width = keys + 1 + shape.sets.len();
    let returning: Vec<String> = table.key.iter().map(|k| format!("{t}.{k}")).collect();
    format!(
        "UPDATE {t} SET {sets} FROM (VALUES {values}) AS v WHERE {keys} RETURNING {ret}",
        sets = sets.join(", "),
        values = placeholders(n, width, 0),
        keys = key_match(table),
        ret = returning.join(", "),
    )
}

/// `t.k1 = v.column1 AND …`.
fn key_match(table: &Table) -> String {
    let conds: Vec<String> = (table.key.iter().enumerate())
        .map(|(i, k)| format!("{t}.{k} = v.column{}", i + 1, t = table.name))
        .collect();
    conds.join(" AND ")
}

/// Multi-row deletes: each row whose version is not newer than its delete's.
pub(super) async fn delete(
    conn: &mut AnyConnection,
    table: &Table,
    rows: &[(&[Value], i64)],
) -> Result<(), sqlx::Error> {
    let width = table.key.len() + 1;
    for chunk in rows.chunks((MAX_PARAMS / width).clamp(1, MAX_ROWS)) {
        let sql = delete_sql(table, chunk.len());
        let mut query = sqlx::query(&sql).persistent(false);
        for (key, version) in chunk {
            for value in key.iter() {
                query = bind(query, value);
            }
            query = query.bind(*version);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The text of a delete of `n` rows (`EXISTS` over `VALUES`: the same on
/// both backends).
pub(super) fn delete_sql(table: &Table, n: usize) -> String {
    format!(
        "DELETE FROM {t} WHERE EXISTS (SELECT 1 FROM (VALUES {values}) AS v WHERE {keys} \
         AND {t}.{ver} <= v.column{n_ver})",
        t = table.name,
        values = placeholders(n, table.key.len() + 1, 0),
        keys = key_match(table),
        ver = table.version,
        n_ver = table.key.len() + 1,
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
