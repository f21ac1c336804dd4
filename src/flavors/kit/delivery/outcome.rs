//! What becomes of a leased delivery, each fenced by the lease it holds
//! (the row still `leased` with the same `leased_until`): a row whose lease
//! ran out and was taken over by another worker is not touched, and the
//! caller learns so (false), so a stale worker's outcome never overwrites
//! the current one's.
//!
//! - [`delivered`] (one) and [`delivered_many`] (the worker's, one
//!   statement per turn): accepted by the destination;
//! - [`retry_at`]: `pending` again, due at the retry time, the error kept,
//!   one more attempt when counted (a hold, which the destination never
//!   judged, is not); the rows behind it in its (destination, case) are
//!   due no earlier;
//! - [`bury`]: `dead` with the reason, the row's dead letter; rows after it
//!   in its (destination, case) are no longer held up by it.

use sqlx::AnyPool;

use super::store::{Delivery, DeliveryStoreError};

/// The fence every outcome shares: `$2..=$5` bind [`fence`].
const FENCE: &str =
    "flavor = $2 AND destination = $3 AND delivery_id = $4 AND state = 'leased' AND leased_until = $5";

/// Marks `delivery` delivered at `now_ms`; false when the lease no longer
/// holds.
pub async fn delivered(
    pool: &AnyPool,
    delivery: &Delivery,
    now_ms: i64,
) -> Result<bool, DeliveryStoreError> {
    let sql = format!(
        "UPDATE deliveries SET state = 'delivered', delivered_at = $1, leased_until = 0, \
         attempts = attempts + 1 WHERE {FENCE}"
    );
    let query = fence(sqlx::query(&sql).bind(now_ms), delivery);
    Ok(query.execute(pool).await?.rows_affected() == 1)
}

/// Marks many deliveries delivered at `now_ms` in one statement per 200,
/// each fenced by its lease (the worker's mark once per turn for every
/// attempt that ended delivered); returns how many still held their lease.
pub async fn delivered_many(
    pool: &AnyPool,
    deliveries: &[&Delivery],
    now_ms: i64,
) -> Result<u64, DeliveryStoreError> {
    let mut changed = 0;
    let Some(flavor) = deliveries.first().map(|d| d.flavor.as_str()) else {
        return Ok(0);
    };
    for chunk in deliveries.chunks(200) {
        let rows = (0..chunk.len())
            .map(|i| {
                let p = 3 + 3 * i;
                format!("(${p}, ${}, ${})", p + 1, p + 2)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE deliveries SET state = 'delivered', delivered_at = $1, leased_until = 0, \
             attempts = attempts + 1 WHERE flavor = $2 AND state = 'leased' \
             AND (destination, delivery_id, leased_until) IN (VALUES {rows})"
        );
        let mut query = sqlx::query(&sql).bind(now_ms).bind(flavor);
        for d in chunk {
            query = (query.bind(d.destination.as_str()))
                .bind(d.delivery_id.as_str())
                .bind(d.leased_until);
        }
        changed += query.execute(pool).await?.rows_affected();
    }
    Ok(changed)
}

/// A failed (`counted`) or held attempt: `pending` again, due at `at_ms`,
/// with `error`; false when the lease no longer holds. In the same
/// transaction the rows waiting behind it in its (destination, case) are
/// made due no earlier than it: they cannot go before it anyway, and so a
/// failing destination's backlog leaves the range its next leases read.
pub async fn retry_at(
    pool: &AnyPool,
    delivery: &Delivery,
    at_ms: i64,
    error: &str,
    counted: bool,
) -> Result<bool, DeliveryStoreError> {
    let sql = format!(
        "UPDATE deliveries SET state = 'pending', next_at = $1, leased_until = 0, \
         attempts = attempts + $6, last_error = $7 WHERE {FENCE}"
    );
    let mut tx = pool.begin().await?;
    let query = fence(sqlx::query(&sql).bind(at_ms), delivery)
        .bind(i64::from(counted))
        .bind(error);
    if query.execute(&mut *tx).await?.rows_affected() != 1 {
        return Ok(false);
    }
    let behind = "UPDATE deliveries SET next_at = $1 WHERE flavor = $2 AND destination = $3 \
         AND case_key = $4 AND state = 'pending' AND next_at < $1 \
         AND (seq > $5 OR (seq = $5 AND delivery_id > $6))";
    (sqlx::query(behind)
        .bind(at_ms)
        .bind(delivery.flavor.as_str()))
    .bind(delivery.destination.as_str())
    .bind(delivery.case_key.as_str())
    .bind(delivery.seq)
    .bind(delivery.delivery_id.as_str())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A permanent failure, or the horizon passed: `dead` with `reason`; false
/// when the lease no longer holds.
pub async fn bury(
    pool: &AnyPool,
    delivery: &Delivery,
    reason: &str,
) -> Result<bool, DeliveryStoreError> {
    let sql = format!(
        "UPDATE deliveries SET state = 'dead', leased_until = $1, attempts = attempts + 1, \
         last_error = $6 WHERE {FENCE}"
    );
    let query = fence(sqlx::query(&sql).bind(0_i64), delivery).bind(reason);
    Ok(query.execute(pool).await?.rows_affected() == 1)
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds `$2..=$5` of [`FENCE`].
fn fence<'q>(query: Query<'q>, delivery: &'q Delivery) -> Query<'q> {
    query
        .bind(delivery.flavor.as_str())
        .bind(delivery.destination.as_str())
        .bind(delivery.delivery_id.as_str())
        .bind(delivery.leased_until)
}
