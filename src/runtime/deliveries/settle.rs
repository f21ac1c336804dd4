//! What the worker records when attempts end: delivered rows in one
//! statement per turn; each failure through the pure schedule, with the
//! destination's health (the auto-disable clock, the breaker's hold, a
//! `Retry-After` hold) recorded first.

use crate::flavors::kit::delivery::{self, jitter, Context, Delivery, DeliveryOutcome, Verdict};
use crate::telemetry::events::{DeliveryResult, DeliveryTally};

use super::{After, Book, Deliveries};

/// Records the attempts that ended this turn.
pub(super) async fn settle(
    w: &Deliveries,
    book: &mut Book,
    tally: &DeliveryTally,
    done: Vec<(Delivery, DeliveryOutcome)>,
) {
    let now_ms = w.now_ms();
    let mut delivered = Vec::new();
    for (row, outcome) in &done {
        let ok = match outcome {
            DeliveryOutcome::Delivered => Some(true),
            DeliveryOutcome::Transient { .. } | DeliveryOutcome::Gone { .. } => Some(false),
            DeliveryOutcome::Permanent { .. } => None,
        };
        let after = book.finished(&row.destination, ok, now_ms);
        if after == After::Healthy {
            let healthy = delivery::healthy(&w.pool, w.flavor, &row.destination, now_ms).await;
            if let Err(err) = healthy {
                tally.store_failed("healthy", &err.to_string());
            }
        }
        match outcome {
            DeliveryOutcome::Delivered => delivered.push(row),
            failed => {
                let result = failure(w, row, failed, after, now_ms).await;
                match result {
                    Ok((result, error)) => {
                        tally.settled(&row.destination, &row.delivery_id, result, &error)
                    }
                    Err(err) => tally.store_failed("outcome", &err.to_string()),
                }
            }
        }
    }
    if delivered.is_empty() {
        return;
    }
    match delivery::delivered_many(&w.pool, &delivered, now_ms).await {
        Ok(_) => tally.delivered(delivered.iter().map(|d| now_ms - d.created_at)),
        Err(err) => tally.store_failed("delivered", &err.to_string()),
    }
}

/// Records one failed attempt; answers what came of it and why.
async fn failure(
    w: &Deliveries,
    row: &Delivery,
    outcome: &DeliveryOutcome,
    after: After,
    now_ms: i64,
) -> Result<(DeliveryResult, String), delivery::DeliveryStoreError> {
    let (pool, flavor, destination) = (&w.pool, w.flavor, row.destination.as_str());
    let mut failing_since = 0;
    let mut counted = true;
    if let DeliveryOutcome::Transient { error, retry_after } = outcome {
        failing_since = delivery::failing(pool, flavor, destination, now_ms).await?;
        if let After::Open(until) = after {
            let reason = format!("breaker open: {error}");
            delivery::hold(pool, flavor, destination, until, &reason, now_ms).await?;
        }
        if let Some(after) = retry_after {
            // The destination paces itself: hold it, and do not charge
            // the row an attempt it never judged.
            let until = now_ms.saturating_add(crate::store::ms_of(*after));
            let reason = format!("Retry-After: {error}");
            delivery::hold(pool, flavor, destination, until, &reason, now_ms).await?;
            counted = false;
        }
    }
    let attempt = u32::try_from(row.attempts.saturating_add(1)).unwrap_or(u32::MAX);
    let ctx = Context {
        now_ms,
        created_at: row.created_at,
        attempt,
        failing_since,
    };
    let draw = jitter(&row.delivery_id, attempt);
    let policy = &w.config.policy;
    let stale = |done: bool, result| if done { result } else { DeliveryResult::Stale };
    Ok(match policy.decide(outcome.attempt(), ctx, draw) {
        Verdict::Delivered => (DeliveryResult::Stale, String::new()),
        Verdict::RetryAt(at) => {
            let error = error_of(outcome);
            let done = delivery::retry_at(pool, row, at, &error, counted).await?;
            (stale(done, DeliveryResult::Retry), error)
        }
        Verdict::Dead(reason) => {
            let done = delivery::bury(pool, row, &reason).await?;
            (stale(done, DeliveryResult::Dead), reason)
        }
        Verdict::DisableDestination(reason) => {
            if matches!(outcome, DeliveryOutcome::Gone { .. }) {
                // Gone for good: this row and every one waiting are dead
                // (and those enqueued later, by the depth check).
                delivery::gone(pool, flavor, destination, &reason, now_ms).await?;
                delivery::bury(pool, row, &reason).await?;
                delivery::bury_queued(pool, flavor, destination, &reason).await?;
            } else {
                delivery::disable(pool, flavor, destination, &reason, now_ms).await?;
                // Failing too long: its rows wait for `enable`.
                let at = now_ms.saturating_add(policy.delay(attempt, draw));
                delivery::retry_at(pool, row, at, &reason, true).await?;
            }
            (DeliveryResult::Disabled, reason)
        }
    })
}

fn error_of(outcome: &DeliveryOutcome) -> String {
    match outcome {
        DeliveryOutcome::Delivered => String::new(),
        DeliveryOutcome::Transient { error, .. }
        | DeliveryOutcome::Permanent { error }
        | DeliveryOutcome::Gone { error } => error.clone(),
    }
}
