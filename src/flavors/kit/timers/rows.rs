//! The `timers` table as the batch writer sees it, and a flavor's ops on it:
//! [`schedule`], [`move_to`] and [`cancel`] are [`RowOp`]s, applied in the
//! transaction of the event that made them (with its other effects).
//!
//! Every op carries the scheduling event's case version, the row's guard: a
//! later version replaces or edits the timer, an older one arriving late
//! changes nothing. A cancel is a tombstone (`state = 'cancelled'` at its
//! version), not a delete: a delete would let a late older schedule insert
//! the timer again.
//!
//! `state` has a guard of its own (`state_version`), as in version order: a
//! cancel (v4) arriving after a newer move (v5) still cancels; a schedule
//! (v2) arriving after a newer cancel (v3) updates the timer's fields but
//! leaves it cancelled (the batch writer's replace keeps a column whose own
//! guard is newer); a move never re-arms what a cancel ended.

use crate::store::rows::{Patchable, PlanError, RowOp, Table, Value};

/// The durable timers of every flavor (migration `…_timers.sql`).
pub static TIMERS: Table = Table {
    name: "timers",
    columns: COLUMNS,
    key: &["flavor", "case_key", "timer_id"],
    version: "version",
    // Everything but the key (the first three columns).
    on_conflict_update: COLUMNS.split_at(3).1,
    patchable: &[
        Patchable::row("due_at"),
        Patchable::own("state", "state_version"),
    ],
};

/// Every column of a timer row, in the order the store reads them.
pub(super) const COLUMNS: &[&str] = &[
    "flavor",
    "case_key",
    "timer_id",
    "due_at",
    "state",
    "topic",
    "partition",
    "event_id",
    "correlation_id",
    "chain_depth",
    "payload",
    "version",
    "claimed_until",
    "fired_at",
    "attempts",
    "last_error",
    "state_version",
    "failing_since",
];

/// What a flavor schedules: a timer of a case, due at an instant, with the
/// scheduling event's partition, id and causal stamps (the firing's ids
/// derive from them; the partition is stored, never recomputed).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule<'a> {
    /// The flavor that owns the timer.
    pub flavor: &'a str,
    /// The case it belongs to (the per-key lane it fires on).
    pub case_key: &'a str,
    /// Which of the case's timers (e.g. `sla:ttfr`).
    pub timer_id: &'a str,
    /// When it is due, in ms since the epoch.
    pub due_at: i64,
    /// The scheduling event's topic.
    pub topic: &'a str,
    /// The scheduling event's partition.
    pub partition: i32,
    /// The scheduling event's id.
    pub event_id: &'a str,
    /// The scheduling event's correlation id.
    pub correlation_id: &'a str,
    /// The scheduling event's chain depth.
    pub chain_depth: i64,
    /// What the firing needs (JSON).
    pub payload: &'a serde_json::Value,
    /// The scheduling event's case version: the row's guard.
    pub version: i64,
}

/// Schedules the timer: inserts it, or replaces an older version of it
/// (re-armed: `pending`, unclaimed, unfired, no failed attempts), whatever
/// its state.
pub fn schedule(s: &Schedule<'_>) -> Result<RowOp, PlanError> {
    for (what, v) in [
        ("flavor", s.flavor),
        ("case_key", s.case_key),
        ("timer_id", s.timer_id),
        ("topic", s.topic),
        ("event_id", s.event_id),
    ] {
        if v.is_empty() {
            return Err(PlanError::Invalid(format!("timer: empty {what}")));
        }
    }
    if s.partition < 0 {
        return Err(PlanError::Invalid(format!(
            "timer {}/{}: partition {}",
            s.case_key, s.timer_id, s.partition
        )));
    }
    TIMERS.row([
        ("flavor", s.flavor.into()),
        ("case_key", s.case_key.into()),
        ("timer_id", s.timer_id.into()),
        ("due_at", s.due_at.into()),
        ("state", "pending".into()),
        ("topic", s.topic.into()),
        ("partition", i64::from(s.partition).into()),
        ("event_id", s.event_id.into()),
        ("correlation_id", s.correlation_id.into()),
        ("chain_depth", s.chain_depth.into()),
        ("payload", s.payload.to_string().into()),
        ("version", s.version.into()),
        ("claimed_until", 0.into()),
        ("fired_at", 0.into()),
        ("attempts", 0.into()),
        ("last_error", "".into()),
        ("state_version", s.version.into()),
        ("failing_since", 0.into()),
    ])
}

/// Moves the timer to `due_at` if `version` is newer than the row's; its
/// state stays (a cancelled or fired timer is not re-armed: schedule it
/// again for that). Before the row exists, the move waits for it.
pub fn move_to(
    flavor: &str,
    case_key: &str,
    timer_id: &str,
    due_at: i64,
    version: i64,
) -> Result<RowOp, PlanError> {
    TIMERS
        .patch(key(flavor, case_key, timer_id), version)
        .set("due_at", due_at)
        .build()
}

/// Cancels the timer if `version` is newer than the row's: a tombstone
/// (`cancelled` at `version`), so a late older schedule cannot bring it
/// back; a newer schedule re-arms it.
pub fn cancel(
    flavor: &str,
    case_key: &str,
    timer_id: &str,
    version: i64,
) -> Result<RowOp, PlanError> {
    TIMERS
        .patch(key(flavor, case_key, timer_id), version)
        .set("state", "cancelled")
        .build()
}

fn key(flavor: &str, case_key: &str, timer_id: &str) -> Vec<Value> {
    vec![flavor.into(), case_key.into(), timer_id.into()]
}
