//! IO of the intent table (`intents`, `migrations/common/20261207214000_effect_state.sql`)
//! on PostgreSQL or SQLite. Every write commits on its own: each records an
//! external effect that happened or is about to, so it must survive a later
//! failure of the event.

use sqlx::{AnyPool, Row};

use super::{ExtRef, IntentKey, Record, State, Subject};

const COLUMNS: &str = "kind, entity_key, target, state, ext_id, ext_key, ext_url, stale, \
     case_id, org_id, project_id, case_key, attempts, intent_at, lease_until";

fn state_of(s: &str) -> State {
    match s {
        "linked" => State::Linked,
        "unknown" => State::Unknown,
        _ => State::Claimed,
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Record, sqlx::Error> {
    let ext_id: Option<String> = row.try_get("ext_id")?;
    let ext = ext_id.map(|id| -> Result<ExtRef, sqlx::Error> {
        Ok(ExtRef {
            id,
            key: row.try_get("ext_key")?,
            url: row.try_get("ext_url")?,
        })
    });
    Ok(Record {
        kind: row.try_get("kind")?,
        entity_key: row.try_get("entity_key")?,
        target: row.try_get("target")?,
        state: state_of(&row.try_get::<String, _>("state")?),
        ext: ext.transpose()?,
        stale: row.try_get::<i64, _>("stale")? != 0,
        subject: Subject {
            case_id: row.try_get("case_id")?,
            org_id: row.try_get("org_id")?,
            project_id: row.try_get("project_id")?,
            case_key: row.try_get("case_key")?,
        },
        attempts: row.try_get("attempts")?,
        intent_at: row.try_get("intent_at")?,
        lease_until: row.try_get("lease_until")?,
    })
}

/// The intent of `key`.
pub async fn load(pool: &AnyPool, key: &IntentKey<'_>) -> Result<Option<Record>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM intents WHERE flavor = $1 AND kind = $2 AND entity_key = $3 AND target = $4"
    );
    let row = sqlx::query(&sql)
        .bind(key.flavor)
        .bind(key.kind)
        .bind(key.entity_key)
        .bind(key.target)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The linked intent of `kind` whose external id is `ext_id`.
pub async fn by_ext(
    pool: &AnyPool,
    flavor: &str,
    kind: &str,
    ext_id: &str,
) -> Result<Option<Record>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM intents WHERE flavor = $1 AND kind = $2 AND ext_id = $3 \
         ORDER BY intent_at LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(flavor)
        .bind(kind)
        .bind(ext_id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Writes a new 'claimed' row holding the lease until `lease_until`; false
/// when a row exists already.
pub async fn insert_claim(
    pool: &AnyPool,
    key: &IntentKey<'_>,
    subject: &Subject,
    now: i64,
    lease_until: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO intents (flavor, kind, entity_key, target, state, stale, case_id, org_id, \
         project_id, case_key, attempts, intent_at, lease_until, updated_at) \
         VALUES ($1, $2, $3, $4, 'claimed', 0, $5, $6, $7, $8, 1, $9, $10, $9) ON CONFLICT DO NOTHING",
    )
    .bind(key.flavor)
    .bind(key.kind)
    .bind(key.entity_key)
    .bind(key.target)
    .bind(&subject.case_id)
    .bind(&subject.org_id)
    .bind(&subject.project_id)
    .bind(&subject.case_key)
    .bind(now)
    .bind(lease_until)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes over a row in `from` state whose lease ended before `now` (one
/// statement: of two workers, one wins) for another attempt: the lookup
/// window restarts, the lease is this worker's. False when another won.
pub async fn retake(
    pool: &AnyPool,
    key: &IntentKey<'_>,
    from: State,
    now: i64,
    lease_until: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE intents SET state = 'claimed', attempts = attempts + 1, intent_at = $1, \
         lease_until = $2, updated_at = $1 \
         WHERE flavor = $3 AND kind = $4 AND entity_key = $5 AND target = $6 \
         AND state = $7 AND lease_until <= $1",
    )
    .bind(now)
    .bind(lease_until)
    .bind(key.flavor)
    .bind(key.kind)
    .bind(key.entity_key)
    .bind(key.target)
    .bind(from.as_str())
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the external effect: the row is 'linked'.
pub async fn link(
    pool: &AnyPool,
    key: &IntentKey<'_>,
    ext: &ExtRef,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE intents SET state = 'linked', ext_id = $1, ext_key = $2, ext_url = $3, \
         lease_until = 0, updated_at = $4 \
         WHERE flavor = $5 AND kind = $6 AND entity_key = $7 AND target = $8",
    )
    .bind(&ext.id)
    .bind(&ext.key)
    .bind(&ext.url)
    .bind(now)
    .bind(key.flavor)
    .bind(key.kind)
    .bind(key.entity_key)
    .bind(key.target)
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives the lease back after a call whose outcome is unknown: the row stays
/// 'claimed' and the next attempt resolves it at once.
pub async fn release(pool: &AnyPool, key: &IntentKey<'_>, now: i64) -> Result<(), sqlx::Error> {
    set(pool, key, "lease_until = 0, updated_at = $1", now).await
}

/// Marks an intent whose outcome a crash hid 'unknown' (no lookup exists).
pub async fn mark_unknown(
    pool: &AnyPool,
    key: &IntentKey<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    set(
        pool,
        key,
        "state = 'unknown', lease_until = 0, updated_at = $1",
        now,
    )
    .await
}

/// Marks a linked row stale: the external object is gone or no longer ours.
pub async fn mark_stale(pool: &AnyPool, key: &IntentKey<'_>, now: i64) -> Result<(), sqlx::Error> {
    set(pool, key, "stale = 1, updated_at = $1", now).await
}

async fn set(pool: &AnyPool, key: &IntentKey<'_>, what: &str, now: i64) -> Result<(), sqlx::Error> {
    let sql = format!(
        "UPDATE intents SET {what} WHERE flavor = $2 AND kind = $3 AND entity_key = $4 AND target = $5"
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(key.flavor)
        .bind(key.kind)
        .bind(key.entity_key)
        .bind(key.target)
        .execute(pool)
        .await?;
    Ok(())
}

/// Removes a 'claimed' row after the vendor certainly applied nothing.
pub async fn drop_claim(pool: &AnyPool, key: &IntentKey<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM intents WHERE flavor = $1 AND kind = $2 AND entity_key = $3 AND target = $4 \
         AND state = 'claimed'",
    )
    .bind(key.flavor)
    .bind(key.kind)
    .bind(key.entity_key)
    .bind(key.target)
    .execute(pool)
    .await?;
    Ok(())
}
