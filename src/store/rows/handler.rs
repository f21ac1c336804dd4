//! A read-model flavor as a batch handler: plan each event (pure), apply
//! the batch's plans and ledger rows in one transaction, answer per event.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Planned, RowOp};
use crate::event::CaseEvent;
use crate::handler::{BatchHandler, Ctx, HandleResp, HandlerError, SkipReason};
use crate::store::StoreError;

/// What a read-model flavor writes: which events it consumes and, for one
/// event, which rows change. `plan` is pure: no IO, no clock.
pub trait RowPlanner: Send + Sync + 'static {
    /// Whether the flavor consumes events of this type.
    fn wants(&self, event_type: &str) -> bool;

    /// The rows one event changes; an error means the event is unusable.
    fn plan(&self, event: &CaseEvent) -> Result<Vec<RowOp>, String>;
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
    fn wants(&self, event_type: &str) -> bool {
        self.planner.wants(event_type)
    }

    /// The writer claims the ledger rows in its transaction.
    fn claims_ledger(&self) -> bool {
        true
    }

    /// An event whose plan fails is discarded alone (its ledger row is not
    /// written); a database error retries the whole batch, which is safe:
    /// nothing of it committed.
    async fn handle_batch(&self, ctx: &Ctx, events: &[&CaseEvent]) -> Vec<HandleResp> {
        let mut answers: Vec<Option<HandleResp>> = events.iter().map(|_| None).collect();
        let mut planned = Vec::with_capacity(events.len());
        for (i, event) in events.iter().enumerate() {
            match self.planner.plan(event) {
                Ok(ops) => planned.push(Planned {
                    event_id: event.event_id.clone(),
                    ops,
                }),
                Err(why) => answers[i] = Some(HandleResp::Discard(HandlerError::invalid(why))),
            }
        }
        let Some(store) = ctx.store() else {
            return retry_all(events.len(), StoreError::NotConfigured);
        };
        let claimed = match store.apply_rows(ctx.flavor(), &planned).await {
            Ok(claimed) => claimed,
            Err(err) => {
                let err = HandlerError::from(err);
                return events
                    .iter()
                    .map(|_| HandleResp::classify(Err(HandlerError::transient(&err.message))))
                    .collect();
            }
        };
        let mut first = std::collections::HashSet::new();
        answers
            .into_iter()
            .zip(events)
            .map(|(answer, event)| {
                answer.unwrap_or_else(|| {
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
}

fn retry_all(n: usize, err: StoreError) -> Vec<HandleResp> {
    let message = err.to_string();
    (0..n)
        .map(|_| HandleResp::Retry(HandlerError::transient(&message)))
        .collect()
}
