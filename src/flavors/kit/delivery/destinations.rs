//! Per-destination state (`delivery_destinations`) and queue depths.
//!
//! A destination without a row is active. [`disable`] stops its leases
//! until [`enable`], as does [`gone`] (a 410), whose waiting rows the
//! worker dead-letters (its rows wait, or [`bury_queued`] dead-letters them
//! with the reason); [`hold`] pauses it until an instant (a 429's
//! `Retry-After`, on that destination only); [`failing`] starts the
//! auto-disable clock at the first failure of a run and keeps it through
//! later ones, [`healthy`] stops it. Each is one upsert, so concurrent
//! workers of one destination agree on one `failing_since`.

use sqlx::{AnyPool, Row};

use super::store::DeliveryStoreError;

/// A destination's state and queue, as the `deliveries` command shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Depth {
    /// The destination instance.
    pub destination: String,
    /// `active`, `disabled` or `gone`.
    pub state: String,
    /// Why it is disabled or held (empty when neither).
    pub reason: String,
    /// Failing continuously since (ms; 0 healthy).
    pub failing_since: i64,
    /// Held until (ms; 0 not held).
    pub hold_until: i64,
    /// Rows waiting.
    pub pending: i64,
    /// Rows being delivered.
    pub leased: i64,
    /// Dead letters.
    pub dead: i64,
    /// The earliest due time of its waiting rows (ms; 0 none).
    pub oldest_next_at: i64,
}

const UPSERT: &str = "INSERT INTO delivery_destinations \
     (flavor, destination, state, reason, failing_since, hold_until, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (flavor, destination) DO UPDATE SET ";

/// Disables `destination` at `now_ms` with `reason`: no lease until enabled.
pub async fn disable(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(), DeliveryStoreError> {
    set_state(pool, [flavor, destination, "disabled", reason], now_ms).await
}

/// Marks `destination` gone at `now_ms` with `reason` (it answered 410):
/// no lease until enabled, and the worker dead-letters its waiting rows,
/// those enqueued since included, with the reason.
pub async fn gone(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    reason: &str,
    now_ms: i64,
) -> Result<(), DeliveryStoreError> {
    set_state(pool, [flavor, destination, "gone", reason], now_ms).await
}

/// Sets a destination's state and reason (its failing and hold clocks kept).
async fn set_state(
    pool: &AnyPool,
    [flavor, destination, state, reason]: [&str; 4],
    now_ms: i64,
) -> Result<(), DeliveryStoreError> {
    let sql = format!(
        "{UPSERT}state = excluded.state, reason = excluded.reason, \
         updated_at = excluded.updated_at"
    );
    upsert(
        pool,
        &sql,
        [flavor, destination, state, reason],
        [0, 0, now_ms],
    )
    .await
}

/// Enables `destination` at `now_ms`: active, unheld, healthy.
pub async fn enable(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    now_ms: i64,
) -> Result<(), DeliveryStoreError> {
    let sql = format!(
        "{UPSERT}state = excluded.state, reason = excluded.reason, \
         failing_since = 0, hold_until = 0, updated_at = excluded.updated_at"
    );
    upsert(
        pool,
        &sql,
        [flavor, destination, "active", ""],
        [0, 0, now_ms],
    )
    .await
}

/// Holds `destination` until `until_ms` (a later hold wins, an earlier one
/// does not shorten it), with `reason`.
pub async fn hold(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    until_ms: i64,
    reason: &str,
    now_ms: i64,
) -> Result<(), DeliveryStoreError> {
    let sql = format!(
        "{UPSERT}hold_until = CASE WHEN delivery_destinations.hold_until < excluded.hold_until \
         THEN excluded.hold_until ELSE delivery_destinations.hold_until END, \
         reason = excluded.reason, updated_at = excluded.updated_at"
    );
    let values = [flavor, destination, "active", reason];
    upsert(pool, &sql, values, [0, until_ms, now_ms]).await
}

/// Records a failure of `destination` at `now_ms`; returns since when it
/// has been failing continuously (`now_ms` if this is the first failure).
pub async fn failing(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    now_ms: i64,
) -> Result<i64, DeliveryStoreError> {
    let sql = format!(
        "{UPSERT}failing_since = CASE WHEN delivery_destinations.failing_since = 0 \
         THEN excluded.failing_since ELSE delivery_destinations.failing_since END, \
         updated_at = excluded.updated_at RETURNING failing_since"
    );
    let row = (sqlx::query(&sql).bind(flavor).bind(destination))
        .bind("active")
        .bind("")
        .bind(now_ms)
        .bind(0_i64)
        .bind(now_ms)
        .fetch_one(pool)
        .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

/// Records a success of `destination`: no longer failing.
pub async fn healthy(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    now_ms: i64,
) -> Result<(), DeliveryStoreError> {
    let sql = "UPDATE delivery_destinations SET failing_since = 0, updated_at = $3 \
               WHERE flavor = $1 AND destination = $2 AND failing_since <> 0";
    (sqlx::query(sql).bind(flavor).bind(destination))
        .bind(now_ms)
        .execute(pool)
        .await?;
    Ok(())
}

/// Dead-letters every `pending` row of `destination` with `reason` (a
/// destination disabled for good); leased rows finish their attempt.
/// Returns how many.
pub async fn bury_queued(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    reason: &str,
) -> Result<u64, DeliveryStoreError> {
    let sql = "UPDATE deliveries SET state = 'dead', last_error = $3 \
               WHERE flavor = $1 AND destination = $2 AND state = 'pending'";
    let done = (sqlx::query(sql).bind(flavor).bind(destination))
        .bind(reason)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Dead-letters the `pending` rows of `destination` but its `keep` newest,
/// with `reason` (its queue is over depth and drops its oldest); returns
/// how many. Stated as what stays, so replicas that check at once drop
/// no more than one would.
pub async fn bury_oldest(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    keep: u64,
    reason: &str,
) -> Result<u64, DeliveryStoreError> {
    let sql = "UPDATE deliveries SET state = 'dead', last_error = $3 \
               WHERE flavor = $1 AND destination = $2 AND state = 'pending' \
               AND delivery_id NOT IN (SELECT delivery_id FROM deliveries \
               WHERE flavor = $1 AND destination = $2 AND state = 'pending' \
               ORDER BY created_at DESC, delivery_id DESC LIMIT $4)";
    let done = (sqlx::query(sql).bind(flavor).bind(destination))
        .bind(reason)
        .bind(i64::try_from(keep).unwrap_or(i64::MAX))
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes delivered and dead rows older than `before_ms` (by the event's
/// time): the queue keeps what is waiting, and recent history for
/// `deliveries` and `resend`. Returns how many.
pub async fn expire(pool: &AnyPool, before_ms: i64) -> Result<u64, DeliveryStoreError> {
    let sql = "DELETE FROM deliveries WHERE state IN ('delivered', 'dead') AND created_at < $1";
    let done = sqlx::query(sql).bind(before_ms).execute(pool).await?;
    Ok(done.rows_affected())
}

/// Every destination of `flavor` with rows or state: its state and the
/// depth of its queue, by name.
pub async fn depth(pool: &AnyPool, flavor: &str) -> Result<Vec<Depth>, DeliveryStoreError> {
    let counts = "SELECT destination, \
         SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN state = 'leased' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), \
         MIN(CASE WHEN state = 'pending' THEN next_at END) \
         FROM deliveries WHERE flavor = $1 AND state <> 'delivered' GROUP BY destination";
    let states = "SELECT destination, state, reason, failing_since, hold_until \
         FROM delivery_destinations WHERE flavor = $1";
    let mut all: std::collections::BTreeMap<String, Depth> = Default::default();
    for row in sqlx::query(states).bind(flavor).fetch_all(pool).await? {
        let destination: String = row.try_get(0)?;
        let entry = all.entry(destination.clone()).or_default();
        entry.state = row.try_get(1)?;
        entry.reason = row.try_get(2)?;
        entry.failing_since = row.try_get(3)?;
        entry.hold_until = row.try_get(4)?;
    }
    for row in sqlx::query(counts).bind(flavor).fetch_all(pool).await? {
        let destination: String = row.try_get(0)?;
        let entry = all.entry(destination).or_default();
        entry.pending = row.try_get::<Option<i64>, _>(1)?.unwrap_or(0);
        entry.leased = row.try_get::<Option<i64>, _>(2)?.unwrap_or(0);
        entry.dead = row.try_get::<Option<i64>, _>(3)?.unwrap_or(0);
        entry.oldest_next_at = row.try_get::<Option<i64>, _>(4)?.unwrap_or(0);
    }
    Ok(all
        .into_iter()
        .map(|(destination, mut d)| {
            if d.state.is_empty() {
                d.state = "active".into();
            }
            d.destination = destination;
            d
        })
        .collect())
}

async fn upsert(
    pool: &AnyPool,
    sql: &str,
    [flavor, destination, state, reason]: [&str; 4],
    [failing_since, hold_until, now_ms]: [i64; 3],
) -> Result<(), DeliveryStoreError> {
    (sqlx::query(sql).bind(flavor).bind(destination))
        .bind(state)
        .bind(reason)
        .bind(failing_since)
        .bind(hold_until)
        .bind(now_ms)
        .execute(pool)
        .await?;
    Ok(())
}
