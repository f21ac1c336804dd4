//! A delivering flavor's event side: [`Enqueuer`] is the batch handler of a
//! [`DeliveryPlanner`]. For a batch of events it plans (pure) the
//! deliveries each asks for, enqueues them with the events' ledger rows in
//! one transaction (the batch writer), rings the worker's doorbell, and
//! answers: the events settle once their rows are written, so a partition
//! never waits for a destination.
//!
//! Each row is keyed by the event and destination (a redelivered event
//! enqueues nothing twice), ordered within its (destination, case) by the
//! case version, and due from the event's time, from which its retry
//! horizon runs too. An event bound to a destination whose queue refuses
//! rows (over depth under `on_full: refuse`) waits: `Retry`, deferred, so
//! its partition pauses until the queue drains, and never a silent drop.

use std::sync::Arc;

use async_trait::async_trait;

use super::deliverer::Queue;
use super::rows::{enqueue, Enqueue};
use crate::event::Event;
use crate::handler::{BatchHandler, Ctx, HandleResp, HandlerError};
use crate::store::rows::{apply_planned, plan_each, PlanError, RowOp};

/// One delivery an event asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    /// The destination instance (e.g. `webhook:SEC/soc-intake`).
    pub destination: String,
    /// What it gets (JSON), as the deliverer will send it.
    pub payload: serde_json::Value,
}

/// What a delivering flavor plans per event: pure (no IO, no clock), so a
/// redelivered event plans the same rows.
pub trait DeliveryPlanner: Send + Sync + 'static {
    /// The deliveries `event` asks for (none: it completes with nothing to
    /// deliver); an error discards the event, naming the problem.
    fn plan(&self, event: &Event) -> Result<Vec<Wanted>, PlanError>;
}

/// The batch handler of a [`DeliveryPlanner`].
pub struct Enqueuer<P> {
    planner: Arc<P>,
    queue: Queue,
}

impl<P: DeliveryPlanner> Enqueuer<P> {
    /// Wraps `planner`, ringing `queue`'s doorbell after each write.
    pub fn new(planner: P, queue: Queue) -> Self {
        Self {
            planner: Arc::new(planner),
            queue,
        }
    }

    /// The row ops of `wanted` for `event`, or the destination that refuses
    /// new rows.
    fn ops(&self, flavor: &str, event: &Event, wanted: &[Wanted]) -> Result<Vec<RowOp>, Refused> {
        if let Some(full) = wanted
            .iter()
            .find(|w| self.queue.full.contains(&w.destination))
        {
            return Err(Refused::Full(full.destination.clone()));
        }
        let created_at = event.occurred_at_ms();
        (wanted.iter())
            .map(|w| {
                enqueue(&Enqueue {
                    flavor,
                    destination: &w.destination,
                    case_key: &event.case_id,
                    seq: i64::try_from(event.aggregate_version).unwrap_or(i64::MAX),
                    payload: &w.payload,
                    created_at,
                    event_id: &event.event_id,
                    correlation_id: &event.correlation_id,
                    chain_depth: i64::from(event.chain_depth),
                })
            })
            .collect::<Result<_, _>>()
            .map_err(Refused::Plan)
    }
}

enum Refused {
    Full(String),
    Plan(PlanError),
}

#[async_trait]
impl<P: DeliveryPlanner> BatchHandler for Enqueuer<P> {
    /// The batch writer claims the ledger rows with the enqueued rows.
    fn claims_ledger(&self) -> bool {
        true
    }

    /// One batch at a time: a case's rows are written in version order, so
    /// none is leased before an earlier one of its (destination, case)
    /// exists.
    fn max_running(&self) -> usize {
        1
    }

    async fn handle_batch(&self, ctx: &Ctx, events: &[&Event]) -> Vec<HandleResp> {
        let (answers, planned) = plan_each(events, |event| {
            let wanted = (self.planner.plan(event))
                .map_err(|why| HandleResp::Discard(HandlerError::invalid(why)))?;
            self.ops(ctx.flavor(), event, &wanted)
                .map_err(|refused| match refused {
                    Refused::Plan(why) => HandleResp::Discard(HandlerError::invalid(why)),
                    Refused::Full(destination) => HandleResp::Retry(HandlerError::deferred(
                        format!("destination {destination}: queue over depth, refusing new rows"),
                    )),
                })
        });
        let any = planned.iter().any(|p| !p.ops.is_empty());
        let answers = apply_planned(ctx, events, answers, planned).await;
        if any && answers.iter().any(|a| matches!(a, HandleResp::Success)) {
            self.queue.doorbell.ring();
        }
        answers
    }
}
