//! What operators do to a queue (the `… deliveries`, `… resend` tools):
//! look at a destination's latest rows, and re-queue its dead (or, asked,
//! delivered) rows from an instant on.

use sqlx::{AnyPool, Row};

use super::store::DeliveryStoreError;

/// One row as the tools show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    /// The idempotency key the destination sees.
    pub delivery_id: String,
    /// The enqueueing event.
    pub event_id: String,
    /// `pending`, `leased`, `delivered` or `dead`.
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last failure, or why it is dead.
    pub last_error: String,
    /// The enqueueing event's time (ms).
    pub created_at: i64,
    /// When it was delivered (ms; 0 not yet).
    pub delivered_at: i64,
}

/// The `n` latest rows of `destination`, newest first.
pub async fn recent(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    n: u32,
) -> Result<Vec<Recent>, DeliveryStoreError> {
    let sql =
        "SELECT delivery_id, event_id, state, attempts, last_error, created_at, delivered_at \
               FROM deliveries WHERE flavor = $1 AND destination = $2 \
               ORDER BY created_at DESC, delivery_id DESC LIMIT $3";
    let rows = (sqlx::query(sql).bind(flavor).bind(destination))
        .bind(i64::from(n))
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(Recent {
            delivery_id: row.try_get(0)?,
            event_id: row.try_get(1)?,
            state: row.try_get(2)?,
            attempts: row.try_get(3)?,
            last_error: row.try_get(4)?,
            created_at: row.try_get(5)?,
            delivered_at: row.try_get(6)?,
        });
    }
    Ok(out)
}

/// Re-queues the dead rows of `destination` (and its delivered ones with
/// `delivered`) whose events are at or after `since_ms`: pending, due now,
/// attempts from zero and their retry horizon from `now_ms` (the payload
/// and the delivery id, which receivers dedupe by, are unchanged). Returns
/// how many.
pub async fn requeue(
    pool: &AnyPool,
    flavor: &str,
    destination: &str,
    since_ms: i64,
    delivered: bool,
    now_ms: i64,
) -> Result<u64, DeliveryStoreError> {
    let states = match delivered {
        true => "('dead', 'delivered')",
        false => "('dead')",
    };
    let sql = format!(
        "UPDATE deliveries SET state = 'pending', next_at = $4, created_at = $4, attempts = 0, \
         last_error = '', leased_until = 0, delivered_at = 0 \
         WHERE flavor = $1 AND destination = $2 AND created_at >= $3 AND state IN {states}"
    );
    let done = (sqlx::query(&sql).bind(flavor).bind(destination))
        .bind(since_ms)
        .bind(now_ms)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
