//! Durable timers, first piece of Kit III-b (issue 25): business-hours
//! calendars and the wall clock they run on.
//!
//! - [`Calendar`] says when business time runs (24x7, or working hours in an
//!   IANA zone with holidays) and turns budgets into due instants;
//! - [`SlaClock`] is a pausable budget on a calendar (an SLA paused while the
//!   case waits on the customer), pure data to be stored in a timer row;
//! - [`Clock`] (with [`SystemClock`] and [`ManualClock`], shared with the
//!   maintenance windows) is the wall clock that decides what is due, so
//!   tests move time without sleeping; tokio time only drives sleeps.
//!
//! Still to come in Kit III-b: the store-backed timers (rows holding an
//! [`SlaClock`] or a plain due time), partition-owned polling of due rows,
//! and firing them.

mod calendar;
mod local;
mod rows;
mod sla;
mod store;

#[cfg(test)]
mod calendar_tests;
#[cfg(test)]
mod sla_calendar_tests;

pub use crate::resilience::maintenance::{Clock, ManualClock, SystemClock};
pub use calendar::{Calendar, CalendarError, Interval, WorkingHours};
pub use rows::{cancel, move_to, schedule, Schedule, TIMERS};
pub use sla::SlaClock;
pub use store::{claim, due, fired, firing_id, Timer, TimerStoreError};
