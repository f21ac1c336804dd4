//! Durable timers, Kit III-b (issue 25): business-hours calendars, the wall
//! clock they run on, and the store side of timers.
//!
//! - [`Calendar`] says when business time runs (24x7, or working hours in an
//!   IANA zone with holidays) and turns budgets into due instants;
//! - [`SlaClock`] is a pausable budget on a calendar (an SLA paused while the
//!   case waits on the customer), pure data to be stored in a timer row;
//! - [`Clock`] (with [`SystemClock`] and [`ManualClock`], shared with the
//!   maintenance windows) is the wall clock that decides what is due, so
//!   tests move time without sleeping; tokio time only drives sleeps;
//! - [`TIMERS`] is the `timers` table: a flavor [`schedule`]s `(case key,
//!   timer id, due at, payload)` with the scheduling event's partition (stored,
//!   never recomputed: librdkafka's default partitioner is not Java's
//!   murmur2), id and causal stamps, and [`move_to`]s or [`cancel`]s it, as
//!   row ops in the transaction of its other effects, each guarded by the
//!   event's case version (a cancel is a tombstone, so a late older schedule
//!   cannot resurrect it);
//! - [`claim_due`] is the runtime's poll: the oldest due timers of the
//!   partitions it owns (those due while the service was down included),
//!   claimed in one statement with a lease (`UPDATE … WHERE state =
//!   'pending' … RETURNING`: ownership decides who polls, the claim who
//!   fires, so a revoked owner still finishing cannot fire twice; a crashed
//!   claimer's lease runs out and is taken over); [`due`] lists what is due
//!   without claiming it (a read, for tests and operators);
//! - a [`Firing`] is a claimed timer handed to `Handler::fire` on the
//!   per-key lane of its case (`runtime/dispatch/timers.rs`); its effects,
//!   its ledger row ([`firing_id`], deterministic) and [`fired`] commit in
//!   one transaction, fenced by the claim ([`Firing::begin`] /
//!   [`Firing::apply`]); [`retry_later`], [`bury`] (`dead`, with the reason)
//!   and [`release`] are the other ends, fenced alike.
//!
//! A flavor opts in by listing [`TIMERS`] in its row's `tables` (single
//! style only); `runtime.timers` sets the poll period, batch and lease.

mod calendar;
mod fire;
mod local;
mod outcome;
mod rows;
mod sla;
mod store;

#[cfg(test)]
mod calendar_tests;
#[cfg(test)]
mod sla_calendar_tests;
#[cfg(test)]
mod store_tests;

pub use crate::resilience::maintenance::{Clock, ManualClock, SystemClock};
pub use calendar::{Calendar, CalendarError, Interval, WorkingHours};
pub use fire::Firing;
pub use outcome::{bury, fired, fired_many, firing_id, release, retry_later};
pub use rows::{cancel, move_to, schedule, Schedule, TIMERS};
pub use sla::SlaClock;
pub use store::{claim_due, due, Timer, TimerStoreError};
