//! IO: the webhook deliveries already handled (`jira_webhook_deliveries`).

use sqlx::AnyPool;

use crate::store::now_ms;

/// How long a claimed delivery is owned by the request that claimed it;
/// after that (the service crashed mid-way) a new copy may take it over.
pub const CLAIM_LEASE_MS: i64 = 60_000;

/// The outcome of claiming a delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This request handles it.
    Mine,
    /// Handled already, or being handled by another request.
    Taken,
}

/// Claims a webhook delivery in one statement: a new delivery, or one whose
/// claim outlived its lease, is this request's; any other copy is `Taken`.
pub async fn claim_delivery(
    pool: &AnyPool,
    delivery_id: &str,
    issue_id: &str,
) -> Result<Claim, sqlx::Error> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO jira_webhook_deliveries (delivery_id, issue_id, received_at, state) \
         VALUES ($1, $2, $3, 'claimed') \
         ON CONFLICT (delivery_id) DO UPDATE SET received_at = excluded.received_at \
         WHERE jira_webhook_deliveries.state = 'claimed' AND jira_webhook_deliveries.received_at < $4 \
         RETURNING delivery_id",
    )
    .bind(delivery_id)
    .bind(issue_id)
    .bind(now)
    .bind(now - CLAIM_LEASE_MS)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some(_) => Claim::Mine,
        None => Claim::Taken,
    })
}

/// Marks a claimed delivery handled: later copies are duplicates.
pub async fn finish_delivery(pool: &AnyPool, delivery_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jira_webhook_deliveries SET state = 'done' WHERE delivery_id = $1")
        .bind(delivery_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Gives a claim back after a failure, so Jira's next copy is handled.
pub async fn release_delivery(pool: &AnyPool, delivery_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM jira_webhook_deliveries WHERE delivery_id = $1 AND state = 'claimed'")
        .bind(delivery_id)
        .execute(pool)
        .await?;
    Ok(())
}
