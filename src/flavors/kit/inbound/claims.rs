//! Delivery claims in `inbound_deliveries`: of concurrent or repeated copies
//! of one delivery exactly one is handled. Every statement runs on
//! PostgreSQL and SQLite (sqlx Any, `$n` placeholders, ms times).
//!
//! A row is `claimed` while one request works on it (until `expires_at` =
//! claim + lease; after that a new copy takes it over: the service crashed
//! mid-way) and `done` once handled (until `expires_at` = done + retention,
//! at least 72 h: PagerDuty retries for 48 h, and a late copy of a handled
//! delivery must still find it and answer `duplicate`).

use std::time::Duration;

use crate::store::ms_of;
use sqlx::{AnyPool, Row};

/// The shortest retention of a handled delivery (PagerDuty retries for 48 h).
pub const MIN_RETENTION: Duration = Duration::from_secs(72 * 3600);

/// How long a claim is owned by its request unless it says otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The outcome of claiming a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This request handles it.
    Mine,
    /// Another copy has it: handled already (`done`), or in flight.
    Taken {
        /// Whether it was handled (else another request holds a live lease).
        done: bool,
    },
}

/// Claims `(flavor, id)` at `now_ms` in one statement: a new delivery, or
/// a row past its `expires_at` (a `claimed` row's is its lease's end, a
/// `done` row's its retention's), is this request's; any other copy is
/// [`Claim::Taken`].
pub async fn claim(
    pool: &AnyPool,
    flavor: &str,
    id: &str,
    now_ms: i64,
    lease: Duration,
) -> Result<Claim, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO inbound_deliveries (flavor, delivery_id, state, claimed_at, expires_at) \
         VALUES ($1, $2, 'claimed', $3, $4) \
         ON CONFLICT (flavor, delivery_id) DO UPDATE \
         SET state = 'claimed', claimed_at = excluded.claimed_at, expires_at = excluded.expires_at \
         WHERE inbound_deliveries.expires_at <= $3 \
         RETURNING delivery_id",
    )
    .bind(flavor)
    .bind(id)
    .bind(now_ms)
    .bind(now_ms.saturating_add(ms_of(lease)))
    .fetch_optional(pool)
    .await?;
    if row.is_some() {
        return Ok(Claim::Mine);
    }
    // Only to say which kind of taken; a row gone since is in flight too
    // (the sender's retry then claims it).
    let state: Option<String> =
        sqlx::query("SELECT state FROM inbound_deliveries WHERE flavor = $1 AND delivery_id = $2")
            .bind(flavor)
            .bind(id)
            .fetch_optional(pool)
            .await?
            .map(|r| r.try_get("state"))
            .transpose()?;
    Ok(Claim::Taken {
        done: state.as_deref() == Some("done"),
    })
}

/// Marks a claimed delivery handled, kept `retention` (at least
/// [`MIN_RETENTION`]) from `now_ms`: later copies are duplicates.
pub async fn finish(
    pool: &AnyPool,
    flavor: &str,
    id: &str,
    now_ms: i64,
    retention: Duration,
) -> Result<(), sqlx::Error> {
    let retention = retention.max(MIN_RETENTION);
    sqlx::query(
        "UPDATE inbound_deliveries SET state = 'done', expires_at = $1 \
         WHERE flavor = $2 AND delivery_id = $3",
    )
    .bind(now_ms.saturating_add(ms_of(retention)))
    .bind(flavor)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Gives a claim back after a failure, so the sender's next copy is handled.
pub async fn release(pool: &AnyPool, flavor: &str, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM inbound_deliveries \
         WHERE flavor = $1 AND delivery_id = $2 AND state = 'claimed'",
    )
    .bind(flavor)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes every row past its `expires_at`; returns how many went.
pub async fn sweep(pool: &AnyPool, now_ms: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM inbound_deliveries WHERE expires_at <= $1")
        .bind(now_ms)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
