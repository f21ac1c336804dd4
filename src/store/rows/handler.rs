//! A read-model flavor as a batch handler: plan each event (pure), apply
//! the batch's plans and ledger rows in one transaction, answer per event.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;

use super::{PlanError, Planned, RowOp};
use crate::event::Event;
use crate::handler::{BatchHandler, Ctx, ErrorClass, HandleResp, HandlerError, SkipReason};
use crate::store::StoreError;

/// What a read-model flavor writes for one event: which rows change (the
/// registry row says which events it gets). `plan` is pure: no IO, no clock.
pub trait RowPlanner: Send + Sync + 'static {
    /// The rows one event changes; an error means the event is unusable
    /// (its own [`PlanError::Invalid`] reason) or the planner named a
    /// column wrong: either way the event is discarded, naming the problem.
    fn plan(&self, event: &Event) -> Result<Vec<RowOp>, PlanError>;
}

/// The batch handler of a [`RowPlanner`]: one transaction per batch.
pub struct PlannedRows<P> {
    planner: Arc<P>,
}

impl<P: RowPlanner> PlannedRows<P> {
    /// Wraps a planner.
    pub fn new(planner: P) -> Self {
        Self {
            planner: Arc::new(planner),
        }
    }
}

#[async_trait]
impl<P: RowPlanner> BatchHandler for PlannedRows<P> {
    /// The writer claims the ledger rows in its transaction.
    fn claims_ledger(&self) -> bool {
        true
    }

    /// One batch at a time: a case's events are applied in order across
    /// batches (and the next batch fills while this one commits).
    fn max_running(&self) -> usize {
        1
    }

    /// An event whose plan fails is discarded alone (its ledger row is not
    /// written); a database error retries the whole batch, which is safe:
    /// nothing of it committed.
    async fn handle_batch(&self, ctx: &Ctx, events: &[&Event]) -> Vec<HandleResp> {
        let (answers, planned) = plan_each(events, |event| {
            (self.planner.plan(event))
                .map_err(|why| HandleResp::Discard(HandlerError::invalid(why)))
        });
        apply_planned(ctx, events, answers, planned).await
    }
}

/// Plans each event of a batch: its row ops, or its answer (a plan that
/// failed is discarded, a refusal retried, as `plan` says); the answers
/// and plans [`apply_planned`] takes.
pub fn plan_each(
    events: &[&Event],
    mut plan: impl FnMut(&Event) -> Result<Vec<RowOp>, HandleResp>,
) -> (Vec<Option<HandleResp>>, Vec<Planned>) {
    let mut answers: Vec<Option<HandleResp>> = events.iter().map(|_| None).collect();
    let mut planned = Vec::with_capacity(events.len());
    for (i, event) in events.iter().enumerate() {
        match plan(event) {
            Ok(ops) => planned.push(Planned {
                event_id: event.event_id.clone(),
                ops,
            }),
            Err(answer) => answers[i] = Some(answer),
        }
    }
    (answers, planned)
}

/// Applies the `planned` events of a batch with their ledger rows in one
/// transaction and answers every event: those already answered (`answers`,
/// e.g. a failed plan) as they are, the applied ones `Success`, duplicates
/// `Skip`. A database error retries the whole batch (nothing of it
/// committed), unless it is permanent: then the plans are applied one by
/// one so that only the refused event is discarded.
pub async fn apply_planned(
    ctx: &Ctx,
    events: &[&Event],
    mut answers: Vec<Option<HandleResp>>,
    planned: Vec<Planned>,
) -> Vec<HandleResp> {
    let Some(store) = ctx.store() else {
        return retry_all(events.len(), StoreError::NotConfigured);
    };
    let mut failed = HashMap::new();
    let claimed = match store.apply_rows(ctx.flavor(), &planned).await {
        Ok(claimed) => claimed,
        Err(err) => match HandlerError::from(err) {
            err if err.class == ErrorClass::Transient || planned.len() == 1 => {
                return answers
                    .drain(..)
                    .map(|a| a.unwrap_or_else(|| HandleResp::classify(Err(copy(&err)))))
                    .collect();
            }
            // A permanent error (a constraint, bad SQL) may be one event's
            // doing: apply them one by one so that only it is discarded.
            _ => one_by_one(store, ctx.flavor(), &planned, &mut failed).await,
        },
    };
    let mut first = HashSet::new();
    answers
        .into_iter()
        .zip(events)
        .map(|(answer, event)| {
            answer.unwrap_or_else(|| {
                if let Some(err) = failed.get(&event.event_id) {
                    return HandleResp::classify(Err(copy(err)));
                }
                // A second copy of an id in one batch is a duplicate too.
                if claimed.contains(&event.event_id) && first.insert(event.event_id.as_str()) {
                    HandleResp::Success
                } else {
                    HandleResp::Skip(SkipReason::Duplicate)
                }
            })
        })
        .collect()
}

/// Applies each plan in its own transaction; returns the ids claimed, and
/// notes the error of each event that failed (by event id).
async fn one_by_one(
    store: &crate::store::Store,
    flavor: &str,
    planned: &[Planned],
    failed: &mut HashMap<String, HandlerError>,
) -> HashSet<String> {
    let mut claimed = HashSet::new();
    for plan in planned {
        match store.apply_rows(flavor, std::slice::from_ref(plan)).await {
            Ok(ids) => claimed.extend(ids),
            Err(err) => {
                failed.insert(plan.event_id.clone(), HandlerError::from(err));
            }
        }
    }
    claimed
}

fn copy(err: &HandlerError) -> HandlerError {
    HandlerError {
        class: err.class,
        retry_after: err.retry_after,
        message: err.message.clone(),
    }
}

fn retry_all(n: usize, err: StoreError) -> Vec<HandleResp> {
    let message = err.to_string();
    (0..n)
        .map(|_| HandleResp::Retry(HandlerError::transient(&message)))
        .collect()
}
