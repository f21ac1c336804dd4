//! What becomes of a claimed timer, each fenced by the claim it holds (the
//! row still `claimed` at the same version, due time and lease): a timer
//! moved, cancelled or re-scheduled since, or taken over by another claimer
//! after its lease ran out, is not touched, and the caller learns so.
//!
//! - [`fired`]: in the firing's transaction, with its effects; or
//!   [`fired_many`], the runtime's one statement for firings whose flavor
//!   committed nothing itself (their effects are idempotent by firing id);
//! - [`retry_later`]: a transient failure; the claim now runs out at the
//!   retry time, so the next poll after it claims the timer again;
//! - [`bury`]: a permanent failure or an exhausted retry budget: `dead` with
//!   the reason, the timer's dead letter (re-scheduling it re-arms it);
//! - [`release`]: the claimer gives it back unfired (its partition was
//!   revoked before it started), so the new owner need not wait the lease.

use sqlx::{AnyConnection, AnyPool};

use super::store::{Timer, TimerStoreError};
use crate::flavors::kit::ids;

/// The fence every outcome shares: `$2..=$7` bind [`Fence`].
const FENCE: &str = "flavor = $2 AND case_key = $3 AND timer_id = $4 AND state = 'claimed' \
     AND version = $5 AND due_at = $6 AND claimed_until = $7";

/// Marks `timer` fired at `now_ms`, inside the firing's transaction; false
/// when the claim no longer holds: the firing must then roll back.
pub async fn fired(
    conn: &mut AnyConnection,
    timer: &Timer,
    now_ms: i64,
) -> Result<bool, TimerStoreError> {
    let sql = format!("UPDATE timers SET state = 'fired', fired_at = $1 WHERE {FENCE}");
    let done = fence(sqlx::query(&sql).bind(now_ms), timer)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks many timers fired at `now_ms` in one statement per 200, each
/// fenced by its claim (the runtime's mark for firings whose flavor
/// committed nothing itself); returns how many still held their claim.
pub async fn fired_many(
    pool: &AnyPool,
    timers: &[Timer],
    now_ms: i64,
) -> Result<u64, TimerStoreError> {
    set_many(pool, timers, "state = 'fired', fired_at = $1", now_ms).await
}

/// `UPDATE timers SET <set> …` (with `$1` bound to `value`) of the timers
/// of one flavor (the runtime's) that still hold their claim, one statement
/// per 200; returns how many did.
async fn set_many(
    pool: &AnyPool,
    timers: &[Timer],
    set: &str,
    value: i64,
) -> Result<u64, TimerStoreError> {
    let mut changed = 0;
    let Some(flavor) = timers.first().map(|t| t.flavor.as_str()) else {
        return Ok(0);
    };
    for chunk in timers.chunks(200) {
        let rows = (0..chunk.len())
            .map(|i| {
                let p = 3 + 5 * i;
                format!("(${p}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE timers SET {set} WHERE flavor = $2 \
             AND state = 'claimed' AND (case_key, timer_id, version, due_at, claimed_until) \
             IN (VALUES {rows})"
        );
        let mut query = sqlx::query(&sql).bind(value).bind(flavor);
        for t in chunk {
            query = (query.bind(t.case_key.as_str()).bind(t.timer_id.as_str()))
                .bind(t.version)
                .bind(t.due_at)
                .bind(t.claimed_until);
        }
        changed += query.execute(pool).await?.rows_affected();
    }
    Ok(changed)
}

/// A transient failure at `now_ms`: `error` kept, one more attempt when
/// `counted` (a deferral, which the dependency never judged, is not), the
/// start of the run of failures noted (`failing_since`, the retry budget's
/// start), and the claim made to run out at `retry_at_ms` (then the timer is
/// due to the next poll again). False when the claim no longer holds.
pub async fn retry_later(
    pool: &AnyPool,
    timer: &Timer,
    (now_ms, retry_at_ms): (i64, i64),
    error: &str,
    counted: bool,
) -> Result<bool, TimerStoreError> {
    let sql = format!(
        "UPDATE timers SET claimed_until = $1, attempts = attempts + $9, last_error = $8, \
         failing_since = CASE WHEN failing_since = 0 THEN $10 ELSE failing_since END \
         WHERE {FENCE}"
    );
    let query = fence(sqlx::query(&sql).bind(retry_at_ms), timer)
        .bind(error)
        .bind(i64::from(counted))
        .bind(now_ms);
    Ok(query.execute(pool).await?.rows_affected() == 1)
}

/// A permanent failure, or retries exhausted: the timer ends `dead` with
/// `error`. False when the claim no longer holds.
pub async fn bury(pool: &AnyPool, timer: &Timer, error: &str) -> Result<bool, TimerStoreError> {
    let sql = format!(
        "UPDATE timers SET state = 'dead', claimed_until = $1, attempts = attempts + 1, \
         last_error = $8 WHERE {FENCE}"
    );
    let query = fence(sqlx::query(&sql).bind(0_i64), timer).bind(error);
    Ok(query.execute(pool).await?.rows_affected() == 1)
}

/// Gives claimed timers of one flavor back unfired (`pending`,
/// unclaimed), in one statement per 200; returns how many still held their
/// claim.
pub async fn release(pool: &AnyPool, timers: &[Timer]) -> Result<u64, TimerStoreError> {
    set_many(pool, timers, "state = 'pending', claimed_until = $1", 0).await
}

/// The firing's id: a UUIDv7 at the due time from (flavor, scheduling
/// event, timer, due time) (`kit::ids`); a retried firing gets the same id,
/// a moved timer's firing another.
pub fn firing_id(timer: &Timer) -> String {
    let due = timer.due_at.to_string();
    ids::from_parts(
        timer.due_at,
        &[&timer.flavor, &timer.event_id, &timer.timer_id, &due],
    )
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds `$2..=$7` of [`FENCE`].
fn fence<'q>(query: Query<'q>, timer: &'q Timer) -> Query<'q> {
    query
        .bind(timer.flavor.as_str())
        .bind(timer.case_key.as_str())
        .bind(timer.timer_id.as_str())
        .bind(timer.version)
        .bind(timer.due_at)
        .bind(timer.claimed_until)
}
