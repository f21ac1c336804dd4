//! What a flavor gives the delivery worker: a [`Deliverer`] that makes one
//! attempt at one leased row and says what the destination answered; and
//! what it gets ([`Queue`]): the [`Doorbell`] its handler rings once its
//! enqueued rows committed (so the worker leases them at once instead of at
//! its next poll) and the [`Full`] destinations whose new rows it refuses.
//!
//! The deliverer never retries, sleeps or touches the queue: the worker
//! (`runtime::deliveries`) owns the schedule, the per-destination slots,
//! rate and breaker, and the row's outcome.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::schedule::Attempt;
use super::store::Delivery;

/// What one attempt came to, as the destination's client judged it (the
/// owned form of [`Attempt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Accepted (2xx, or the destination's own "already have it").
    Delivered,
    /// Worth retrying (a timeout, a dropped connection, 5xx, 408, 429,
    /// a redirect), with the destination's `Retry-After`, if any.
    Transient {
        /// What went wrong (no secrets: it is stored and logged).
        error: String,
        /// The destination's hint: not before this long from now.
        retry_after: Option<Duration>,
    },
    /// This payload will never be accepted (another 4xx, a refused
    /// address, a destination no longer configured).
    Permanent {
        /// What went wrong.
        error: String,
    },
    /// The destination is gone (410): it is disabled.
    Gone {
        /// What it said.
        error: String,
    },
}

impl DeliveryOutcome {
    /// The attempt as the schedule reads it.
    pub fn attempt(&self) -> Attempt<'_> {
        match self {
            Self::Delivered => Attempt::Delivered,
            Self::Transient { error, retry_after } => Attempt::Transient {
                error,
                retry_after: *retry_after,
            },
            Self::Permanent { error } => Attempt::Permanent { error },
            Self::Gone { error } => Attempt::Gone { error },
        }
    }
}

/// Makes one attempt at one leased delivery.
#[async_trait]
pub trait Deliverer: Send + Sync + 'static {
    /// Delivers `delivery` (its payload, with its delivery id as the
    /// idempotency key the destination sees), once; answers what the
    /// destination said. Must end within the worker's attempt timeout
    /// (a deliverer that does not is counted a transient failure).
    async fn deliver(&self, delivery: &Delivery) -> DeliveryOutcome;
}

/// Rung by a flavor's handler after its enqueued rows committed; the
/// delivery worker of the same process leases at once when it rings.
#[derive(Debug, Clone, Default)]
pub struct Doorbell(Arc<Notify>);

impl Doorbell {
    /// Rows were enqueued.
    pub fn ring(&self) {
        self.0.notify_one();
    }

    /// Resolves at the next ring (or at once if one is pending).
    pub async fn rung(&self) {
        self.0.notified().await;
    }
}

/// The destinations whose queues refuse new rows (`on_full: refuse`),
/// shared by the worker (which fills it) and the flavor's handler.
#[derive(Debug, Clone, Default)]
pub struct Full(Arc<RwLock<HashSet<String>>>);

impl Full {
    /// Whether `destination` refuses new rows.
    pub fn contains(&self, destination: &str) -> bool {
        self.0.read().is_ok_and(|set| set.contains(destination))
    }

    /// Replaces the set (the worker's depth check).
    pub fn replace(&self, names: HashSet<String>) {
        if let Ok(mut set) = self.0.write() {
            *set = names;
        }
    }
}

/// What a delivering flavor's handler gets from the build
/// (`BuildCtx::delivery_queue`): the worker's doorbell, to ring after its
/// enqueues commit, and the destinations refusing new rows.
#[derive(Debug, Clone, Default)]
pub struct Queue {
    /// Ring after enqueueing.
    pub doorbell: Doorbell,
    /// Destinations over depth under `on_full: refuse`.
    pub full: Full,
}
