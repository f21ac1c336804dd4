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
//! - [`due`] lists the due timers of owned partitions, oldest first (those
//!   due while the service was down included); [`claim`] takes them
//!   atomically with a lease (`UPDATE … WHERE state = 'pending' …
//!   RETURNING`: ownership decides who polls, the claim who fires, so a
//!   revoked owner still finishing cannot fire twice; a crashed claimer's
//!   lease runs out and is taken over); [`fired`] marks one fired in the
//!   firing's transaction, fenced by its claim; [`firing_id`] is the
//!   firing's deterministic id.
//!
//! Still to come in Kit III-b: partition-owned polling of due rows (the
//! runtime calling [`due`] and [`claim`] for the partitions it owns), and
//! firing them through the per-key lane of their case; a flavor listing
//! [`TIMERS`] in its `tables`.

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
pub use outcome::{bury, fired, firing_id, release, retry_later};
pub use rows::{cancel, move_to, schedule, Schedule, TIMERS};
pub use sla::SlaClock;
pub use store::{claim, claim_due, due, Timer, TimerStoreError};
