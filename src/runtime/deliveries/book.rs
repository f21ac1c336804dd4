//! The worker's per-destination book, in memory and pure (instants are
//! arguments): how many rows each destination may be leased now, and when
//! its breaker opens.
//!
//! - **Slots:** a destination has at most `per_destination` attempts in
//!   flight from leases made while it had room (a lease asks for its free
//!   slots only), so one slow destination never takes the worker's other
//!   slots.
//! - **Rate:** with a rate set, a token bucket per destination (burst one
//!   second's worth): a lease asks for no more rows than it has tokens.
//! - **Breaker:** `failures` transient failures in a row open it: the
//!   worker holds the destination (durably, `delivery::hold`) for the
//!   cooldown; after it, one probe at a time (half open) until a success
//!   closes it or another failure opens it again.
//! - **Bounded:** an entry with nothing in flight, no failures and a full
//!   bucket is forgotten; past `max_entries` the quietest are dropped, so
//!   memory follows the destinations in flight, not every one ever seen.

use crate::store::ms_of;
use std::collections::HashMap;
use std::time::Duration;

/// The book's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Attempts in flight per destination.
    pub per_destination: usize,
    /// Attempts per second per destination (`None`: unlimited).
    pub rate: Option<f64>,
    /// Transient failures in a row that open a destination's breaker.
    pub failures: u32,
    /// How long an open breaker holds the destination.
    pub cooldown: Duration,
    /// Most destinations remembered.
    pub max_entries: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    busy: usize,
    failures: u32,
    tokens: f64,
    refilled_at: i64,
    /// A success was recorded in the store since the last failure.
    healthy: bool,
}

/// What the book says after an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Nothing to record.
    Nothing,
    /// The first success after failures (or the first seen): record the
    /// destination healthy.
    Healthy,
    /// A failure: record it (the auto-disable clock).
    Failing,
    /// A failure that opened the breaker: record it and hold the
    /// destination until this instant (ms).
    Open(i64),
}

/// Per-destination slots, rate tokens and breakers.
#[derive(Debug, Clone)]
pub struct Book {
    limits: Limits,
    entries: HashMap<String, Entry>,
}

impl Book {
    /// An empty book.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            entries: HashMap::new(),
        }
    }

    /// How many rows `destination` may be leased at `now_ms`.
    pub fn room(&mut self, destination: &str, now_ms: i64) -> usize {
        let limits = self.limits;
        let Some(entry) = self.entries.get_mut(destination) else {
            return limits.per_destination.min(burst(limits.rate));
        };
        refill(entry, limits.rate, now_ms);
        let mut room = limits.per_destination.saturating_sub(entry.busy);
        if limits.failures > 0 && entry.failures >= limits.failures {
            // Half open: one probe at a time.
            room = room.min(usize::from(entry.busy == 0));
        }
        if limits.rate.is_some() {
            room = room.min(entry.tokens.max(0.0) as usize);
        }
        room
    }

    /// An attempt at `destination` starts at `now_ms`.
    pub fn started(&mut self, destination: &str, now_ms: i64) {
        let limits = self.limits;
        let entry = (self.entries)
            .entry(destination.to_owned())
            .or_insert_with(|| Entry {
                busy: 0,
                failures: 0,
                tokens: burst(limits.rate) as f64,
                refilled_at: now_ms,
                healthy: false,
            });
        refill(entry, limits.rate, now_ms);
        entry.busy += 1;
        if limits.rate.is_some() {
            entry.tokens -= 1.0;
        }
    }

    /// An attempt at `destination` ended at `now_ms`: `Some(true)` the
    /// destination took it, `Some(false)` it failed (transiently: the
    /// breaker counts it), `None` neither says anything about the
    /// destination's health (a payload it refused).
    pub fn finished(&mut self, destination: &str, ok: Option<bool>, now_ms: i64) -> After {
        let limits = self.limits;
        let Some(entry) = self.entries.get_mut(destination) else {
            return After::Nothing;
        };
        entry.busy = entry.busy.saturating_sub(1);
        let after = match ok {
            None => After::Nothing,
            Some(true) => {
                entry.failures = 0;
                match std::mem::replace(&mut entry.healthy, true) {
                    true => After::Nothing,
                    false => After::Healthy,
                }
            }
            Some(false) => {
                entry.failures = entry.failures.saturating_add(1);
                entry.healthy = false;
                if limits.failures > 0 && entry.failures >= limits.failures {
                    After::Open(now_ms.saturating_add(ms_of(limits.cooldown)))
                } else {
                    After::Failing
                }
            }
        };
        self.trim(now_ms);
        after
    }

    /// Attempts in flight at `destination`.
    pub fn busy(&self, destination: &str) -> usize {
        self.entries.get(destination).map_or(0, |e| e.busy)
    }

    /// Destinations remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no destination is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets idle entries; past `max_entries`, the idle ones with the
    /// fewest failures first (never one with attempts in flight).
    fn trim(&mut self, now_ms: i64) {
        let rate = self.limits.rate;
        let full = burst(rate) as f64;
        self.entries.retain(|_, e| {
            refill(e, rate, now_ms);
            e.busy > 0 || e.failures > 0 || (rate.is_some() && e.tokens < full)
        });
        if self.entries.len() <= self.limits.max_entries {
            return;
        }
        let mut idle: Vec<(u32, String)> = (self.entries.iter())
            .filter(|(_, e)| e.busy == 0)
            .map(|(name, e)| (e.failures, name.clone()))
            .collect();
        idle.sort();
        let excess = self.entries.len() - self.limits.max_entries;
        for (_, name) in idle.into_iter().take(excess) {
            self.entries.remove(&name);
        }
    }
}

/// A full bucket: one second's worth, at least 1 (unlimited: no bound).
fn burst(rate: Option<f64>) -> usize {
    rate.map_or(usize::MAX, |r| (r.ceil() as usize).max(1))
}

fn refill(entry: &mut Entry, rate: Option<f64>, now_ms: i64) {
    let Some(rate) = rate else {
        return;
    };
    let elapsed = now_ms.saturating_sub(entry.refilled_at).max(0) as f64 / 1_000.0;
    entry.tokens = (entry.tokens + elapsed * rate).min(burst(Some(rate)) as f64);
    entry.refilled_at = now_ms;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            per_destination: 4,
            rate: None,
            failures: 3,
            cooldown: Duration::from_secs(30),
            max_entries: 100,
        }
    }

    #[test]
    fn a_destination_gets_its_free_slots_only() {
        let mut book = Book::new(limits());
        assert_eq!(book.room("a", 0), 4);
        for _ in 0..3 {
            book.started("a", 0);
        }
        assert_eq!((book.room("a", 0), book.room("b", 0)), (1, 4));
        book.started("a", 0);
        assert_eq!(book.room("a", 0), 0);
        assert_eq!(book.finished("a", Some(true), 5), After::Healthy);
        assert_eq!(book.room("a", 5), 1);
        book.started("a", 5);
        assert_eq!(book.finished("a", Some(true), 6), After::Nothing);
    }

    #[test]
    fn failures_in_a_row_open_the_breaker_then_one_probe_at_a_time() {
        let mut book = Book::new(limits());
        for i in 0..3 {
            book.started("a", i);
        }
        assert_eq!(book.finished("a", Some(false), 10), After::Failing);
        assert_eq!(book.finished("a", Some(false), 11), After::Failing);
        assert_eq!(book.finished("a", Some(false), 12), After::Open(30_012));
        // Half open: one probe, none while it is out.
        assert_eq!(book.room("a", 40_000), 1);
        book.started("a", 40_000);
        assert_eq!(book.room("a", 40_000), 0);
        assert_eq!(book.finished("a", Some(false), 40_100), After::Open(70_100));
        book.started("a", 80_000);
        assert_eq!(book.finished("a", Some(true), 80_100), After::Healthy);
        assert_eq!(book.room("a", 80_100), 4, "closed again");
    }

    #[test]
    fn a_refused_payload_says_nothing_of_the_destination() {
        let mut book = Book::new(limits());
        book.started("a", 0);
        book.started("a", 0);
        book.finished("a", Some(false), 1);
        assert_eq!(book.finished("a", None, 2), After::Nothing);
        book.started("a", 3);
        book.started("a", 3);
        assert_eq!(book.finished("a", Some(false), 4), After::Failing);
        assert_eq!(book.finished("a", Some(false), 4), After::Open(30_004));
    }

    #[test]
    fn the_rate_bounds_what_a_lease_asks_for() {
        let mut book = Book::new(Limits {
            rate: Some(2.0),
            ..limits()
        });
        assert_eq!(book.room("a", 0), 2, "a burst of one second's worth");
        book.started("a", 0);
        book.started("a", 0);
        book.finished("a", Some(true), 1);
        book.finished("a", Some(true), 1);
        assert_eq!(book.room("a", 1), 0, "no tokens left");
        assert_eq!(book.room("a", 501), 1, "refilled at 2/s");
        assert_eq!(book.room("a", 5_000), 2, "never more than the burst");
    }

    #[test]
    fn memory_follows_what_is_in_flight() {
        let mut book = Book::new(Limits {
            max_entries: 2,
            ..limits()
        });
        for d in ["a", "b", "c", "d"] {
            book.started(d, 0);
        }
        assert_eq!(book.len(), 4, "in flight: kept");
        for d in ["a", "b", "c"] {
            book.finished(d, Some(true), 1);
        }
        assert_eq!(book.len(), 1, "idle and healthy: forgotten");
        for d in ["x", "y", "z"] {
            book.started(d, 2);
            book.finished(d, Some(false), 3);
        }
        assert!(
            book.len() <= 2,
            "failing ones are capped too: {}",
            book.len()
        );
        assert_eq!(book.busy("d"), 1, "never the one in flight");
    }
}
