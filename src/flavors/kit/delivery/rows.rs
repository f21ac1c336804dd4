//! The `deliveries` table as the batch writer sees it, and a flavor's op on
//! it: [`enqueue`] is a [`RowOp`] applied in the transaction of the event
//! that made it (with its ledger row and other effects).
//!
//! The op inserts the row if absent (`ON CONFLICT DO NOTHING`): its key
//! (flavor, destination, delivery id) derives from the event id and the
//! destination alone, so a redelivered event plans the very same row and
//! enqueues nothing twice, and a row already leased, delivered or dead is
//! never reset by a replay.

use crate::flavors::kit::ids;
use crate::store::rows::{PlanError, RowOp, Table};

/// The delivery queue of every flavor (migration `…_deliveries.sql`).
/// Rows are only ever inserted by the batch writer; leases and outcomes
/// are the store's statements (`store.rs`, `outcome.rs`).
pub static DELIVERIES: Table = Table {
    name: "deliveries",
    columns: COLUMNS,
    key: &["flavor", "destination", "delivery_id"],
    version: "seq",
    on_conflict_update: &[],
    patchable: &[],
};

/// Every column of a delivery row, in the order the store reads them.
pub(super) const COLUMNS: &[&str] = &[
    "flavor",
    "destination",
    "delivery_id",
    "case_key",
    "seq",
    "payload",
    "state",
    "attempts",
    "next_at",
    "leased_until",
    "last_error",
    "created_at",
    "delivered_at",
    "event_id",
    "correlation_id",
    "chain_depth",
];

/// What a flavor enqueues: one delivery of an event to one destination.
/// Every field comes from the event or the flavor's config (no clock), so
/// a redelivered event plans the same row.
#[derive(Debug, Clone, PartialEq)]
pub struct Enqueue<'a> {
    /// The flavor that owns the queue.
    pub flavor: &'a str,
    /// The destination instance (e.g. `webhook:ep-42`, `slack:#ops`).
    pub destination: &'a str,
    /// The case the row belongs to: its ordering key.
    pub case_key: &'a str,
    /// Its order within (destination, case), e.g. the case version.
    pub seq: i64,
    /// What the destination gets (JSON).
    pub payload: &'a serde_json::Value,
    /// The event's time (ms): the row is due from it, the retry horizon
    /// runs from it, and the delivery id's time is it.
    pub created_at: i64,
    /// The enqueueing event's id.
    pub event_id: &'a str,
    /// The enqueueing event's correlation id.
    pub correlation_id: &'a str,
    /// The enqueueing event's chain depth.
    pub chain_depth: i64,
}

/// The idempotency key the destination sees: a UUIDv7 at `at_ms` whose
/// random bits are a digest of (flavor, event id, destination); a retried
/// delivery, and a redelivered event, keep it.
pub fn delivery_id(flavor: &str, event_id: &str, destination: &str, at_ms: i64) -> String {
    ids::from_parts(at_ms, &[flavor, event_id, destination])
}

/// Enqueues the delivery `pending`, due at its `created_at`, unless the
/// row exists (whatever its state).
pub fn enqueue(e: &Enqueue<'_>) -> Result<RowOp, PlanError> {
    for (what, v) in [
        ("flavor", e.flavor),
        ("destination", e.destination),
        ("case_key", e.case_key),
        ("event_id", e.event_id),
    ] {
        if v.is_empty() {
            return Err(PlanError::Invalid(format!("delivery: empty {what}")));
        }
    }
    let id = delivery_id(e.flavor, e.event_id, e.destination, e.created_at);
    DELIVERIES.insert_absent([
        ("flavor", e.flavor.into()),
        ("destination", e.destination.into()),
        ("delivery_id", id.into()),
        ("case_key", e.case_key.into()),
        ("seq", e.seq.into()),
        ("payload", e.payload.to_string().into()),
        ("state", "pending".into()),
        ("attempts", 0.into()),
        ("next_at", e.created_at.into()),
        ("leased_until", 0.into()),
        ("last_error", "".into()),
        ("created_at", e.created_at.into()),
        ("delivered_at", 0.into()),
        ("event_id", e.event_id.into()),
        ("correlation_id", e.correlation_id.into()),
        ("chain_depth", e.chain_depth.into()),
    ])
}
