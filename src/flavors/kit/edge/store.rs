//! IO of `rule_edges` (`migrations/common/20261207221000_rule_edges.sql`).

use sqlx::{AnyConnection, AnyPool, Row};

use super::{EdgeRow, Observation};

/// The stored state of (flavor, rule, case).
pub async fn load(
    conn: &mut AnyConnection,
    flavor: &str,
    rule_id: &str,
    case_id: &str,
) -> Result<Option<EdgeRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT rule_version, case_version, matched, fired, closed_at FROM rule_edges \
         WHERE flavor = $1 AND rule_id = $2 AND case_id = $3",
    )
    .bind(flavor)
    .bind(rule_id)
    .bind(case_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(EdgeRow {
        rule_version: row.try_get("rule_version")?,
        case_version: row.try_get("case_version")?,
        matched: row.try_get::<i64, _>("matched")? != 0,
        fired: row.try_get("fired")?,
        closed_at: row.try_get("closed_at")?,
    }))
}

/// Writes the new state; a row of the same rule version at a newer case
/// version (a concurrent writer) is kept.
pub async fn save(
    conn: &mut AnyConnection,
    flavor: &str,
    obs: &Observation<'_>,
    row: &EdgeRow,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rule_edges (flavor, rule_id, case_id, rule_version, case_version, matched, \
         fired, closed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (flavor, rule_id, case_id) DO UPDATE SET \
         rule_version = excluded.rule_version, case_version = excluded.case_version, \
         matched = excluded.matched, fired = excluded.fired, closed_at = excluded.closed_at, \
         updated_at = excluded.updated_at \
         WHERE rule_edges.case_version < excluded.case_version \
            OR rule_edges.rule_version <> excluded.rule_version",
    )
    .bind(flavor)
    .bind(obs.rule_id)
    .bind(obs.case_id)
    .bind(&row.rule_version)
    .bind(row.case_version)
    .bind(i64::from(row.matched))
    .bind(row.fired)
    .bind(row.closed_at)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes rows of rules not in `rules` and of cases closed before `before_ms`.
pub async fn expire(
    pool: &AnyPool,
    flavor: &str,
    rules: &[&str],
    before_ms: i64,
) -> Result<u64, sqlx::Error> {
    let closed = sqlx::query(
        "DELETE FROM rule_edges WHERE flavor = $1 AND closed_at IS NOT NULL AND closed_at < $2",
    )
    .bind(flavor)
    .bind(before_ms)
    .execute(pool)
    .await?
    .rows_affected();
    let list: Vec<String> = (0..rules.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = match rules.is_empty() {
        true => "DELETE FROM rule_edges WHERE flavor = $1".to_string(),
        false => format!(
            "DELETE FROM rule_edges WHERE flavor = $1 AND rule_id NOT IN ({})",
            list.join(", ")
        ),
    };
    let mut query = sqlx::query(&sql).bind(flavor);
    for rule in rules {
        query = query.bind(*rule);
    }
    Ok(closed + query.execute(pool).await?.rows_affected())
}
