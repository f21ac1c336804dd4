//! Per-destination delivery, Kit II-d: the store side and the pure
//! schedule of a durable delivery queue, so that one dead destination (an
//! email relay, a Slack channel, a customer's webhook endpoint) never holds
//! up the others or a Kafka partition. The worker that leases rows and calls
//! destinations is the runtime's (`runtime::deliveries`); a flavor gives it
//! a [`Deliverer`] and rings its [`Doorbell`] after enqueueing.
//!
//! - [`DELIVERIES`] is the `deliveries` table: a flavor [`enqueue`]s one row
//!   per (event, destination) as a row op in the transaction of its ledger
//!   row (insert if absent: a redelivered event enqueues nothing twice), so
//!   the event settles once its rows are written; the row's
//!   [`delivery_id`] is the idempotency key the destination sees;
//! - [`DeliveryPolicy::decide`] is the pure schedule: exponential backoff
//!   with full jitter, a `Retry-After` floor, a retry horizon (3 days) after
//!   which the row is dead with the reason, auto-disable of a destination
//!   on 410 or after a configured time failing;
//! - [`lease_due`] leases due rows in one statement per batch of
//!   destinations, only the head of each (destination, case) (order per
//!   case holds), never a disabled or held destination's, each destination
//!   read from the index on its own (one's backlog costs no other);
//!   concurrent leasers never both get a row, and a lease that ran out is
//!   taken over;
//! - [`delivered`], [`retry_at`] and [`bury`] end an attempt, each fenced by
//!   the lease (a stale worker's outcome changes nothing);
//! - [`disable`], [`enable`], [`hold`], [`failing`], [`healthy`] and
//!   [`bury_queued`] keep per-destination state (`delivery_destinations`);
//!   [`depth`] is the per-destination view for a `deliveries` command.

mod admin;
mod deliverer;
mod destinations;
mod enqueuer;
#[cfg(test)]
mod enqueuer_tests;
mod outcome;
mod rows;
mod schedule;
mod store;

#[cfg(test)]
mod schedule_tests;
#[cfg(test)]
mod store_tests;

pub use admin::{recent, requeue, Recent};
pub use deliverer::{Deliverer, DeliveryOutcome, Doorbell, Full, Queue};
pub use destinations::{
    bury_oldest, bury_queued, depth, disable, enable, expire, failing, gone, healthy, hold, Depth,
};
pub use enqueuer::{DeliveryPlanner, Enqueuer, Wanted};
pub use outcome::{bury, delivered, delivered_many, retry_at};
pub use rows::{delivery_id, enqueue, Enqueue, DELIVERIES};
pub use schedule::{jitter, Attempt, Context, DeliveryPolicy, Verdict};
pub use store::{
    destinations, lease_due, lease_rooms, lease_sql, Delivery, DeliveryStoreError, Destinations,
    Room,
};
