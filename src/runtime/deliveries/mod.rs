//! The delivery worker (Kit II-d): delivers a flavor's delivery queue
//! (`kit::delivery`), beside the event pipeline and independent of it. The
//! flavor's handler only enqueues rows (in the transaction of its ledger
//! row) and settles its events, so a Kafka partition never waits for a
//! destination; the worker owns the rest.
//!
//! Each turn it leases due rows for the destinations with room
//! ([`book::Book`]: free slots per destination, rate tokens, breaker), one
//! statement per 100 destinations, and runs each attempt as a future it
//! polls itself (no task per row), under the attempt timeout. An attempt's
//! end goes through the pure schedule (`DeliveryPolicy::decide`): delivered
//! rows are marked in one statement per turn; a failure is due again after
//! the backoff (never before a `Retry-After`, which also holds that
//! destination), a refusal or the horizon makes the row dead with the
//! reason, a 410 disables the destination and dead-letters its rows, and a
//! destination failing for `disable_after` is disabled (its rows wait for
//! `enable`). The breaker's opening holds the destination durably, so every
//! replica stops calling it. Any replica delivers any row: a lease is the
//! fence, and a row whose worker died is leased again when its lease runs
//! out, with the same delivery id (at most one duplicate per row in flight).
//!
//! It leases at once when the flavor's handler rings the doorbell, when a
//! lease came back full, when an attempt ended, or every `poll_every`; the
//! list of destinations is read again only on the doorbell and the poll
//! (an ended attempt frees a slot of a destination already known); on stop it leases nothing
//! more and waits up to the grace for attempts in flight.

mod book;
mod depth;
mod settle;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;

use crate::flavors::kit::delivery::{
    self, Deliverer, Delivery, DeliveryOutcome, DeliveryPolicy, Queue, Room,
};
use crate::resilience::maintenance::Clock;
use crate::settings::{DeliverySettings, OnFull};
use crate::telemetry::events::DeliveryTally;

pub use book::{After, Book, Limits};

/// How the worker leases, paces and retries.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Between polls when nothing rang.
    pub poll_every: Duration,
    /// Attempts in flight in this process.
    pub max_in_flight: usize,
    /// Per-destination slots, rate and breaker.
    pub limits: Limits,
    /// The longest one attempt may take.
    pub attempt_timeout: Duration,
    /// How long a lease holds.
    pub lease: Duration,
    /// Backoff, horizon and auto-disable.
    pub policy: DeliveryPolicy,
    /// Rows waiting per destination above which it is over depth.
    pub max_depth: u64,
    /// What over depth does.
    pub on_full: OnFull,
    /// Between depth checks.
    pub depth_every: Duration,
    /// How long a stop waits for attempts in flight.
    pub grace: Duration,
}

impl DeliveryConfig {
    /// The config of `settings`, waiting up to `grace` on stop.
    pub fn new(s: &DeliverySettings, grace: Duration) -> Self {
        let rate = (s.rate_per_second > 0.0).then_some(s.rate_per_second);
        Self {
            poll_every: Duration::from_millis(s.poll_ms),
            max_in_flight: s.max_in_flight as usize,
            limits: Limits {
                per_destination: s.per_destination as usize,
                rate,
                failures: s.breaker_failures,
                cooldown: Duration::from_millis(s.breaker_cooldown_ms),
                max_entries: 10_000,
            },
            attempt_timeout: s.attempt_timeout(),
            lease: Duration::from_millis(s.lease_ms),
            policy: DeliveryPolicy {
                base: Duration::from_millis(s.backoff_base_ms),
                cap: Duration::from_millis(s.backoff_cap_ms),
                horizon: Duration::from_secs(s.horizon_secs),
                disable_after: Duration::from_secs(s.disable_after_secs),
            },
            max_depth: s.max_depth,
            on_full: s.on_full,
            depth_every: Duration::from_millis(s.depth_check_ms),
            grace,
        }
    }
}

/// One flavor's delivery worker.
pub struct Deliveries {
    /// The flavor whose queue it delivers.
    pub flavor: &'static str,
    /// The store's pool.
    pub pool: AnyPool,
    /// The flavor's deliverer.
    pub deliverer: Arc<dyn Deliverer>,
    /// Shared with the flavor's handler: its doorbell, and the
    /// destinations refusing new rows.
    pub queue: Queue,
    /// Limits and schedule.
    pub config: DeliveryConfig,
    /// The wall clock (a manual one in tests).
    pub clock: Arc<dyn Clock>,
}

/// The flavor's destinations with rows, as last read.
struct Known {
    names: Vec<String>,
    /// Rows may have been added since: read again before the next lease.
    stale: bool,
}

impl Default for Known {
    fn default() -> Self {
        Self {
            names: Vec::new(),
            stale: true,
        }
    }
}

/// An attempt in flight and what came of it.
type Running = BoxFuture<'static, (Delivery, DeliveryOutcome)>;

impl Deliveries {
    /// Delivers until `shutdown`, then waits up to the grace for attempts
    /// in flight (a row still out is leased again when its lease runs out).
    pub async fn run(self, shutdown: CancellationToken) {
        let tally = DeliveryTally::new(self.flavor);
        let mut book = Book::new(self.config.limits);
        let mut running: FuturesUnordered<Running> = FuturesUnordered::new();
        let mut poll = tokio::time::interval(self.config.poll_every);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut depth = tokio::time::interval(self.config.depth_every);
        depth.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The destinations with rows, read again only when rows may have
        // been added (the doorbell, a poll): a completion frees a slot of a
        // destination already known.
        let mut known = Known::default();
        let mut lease_now = true;
        loop {
            if lease_now && running.len() < self.config.max_in_flight {
                lease_now = self
                    .lease(&mut known, &mut book, &mut running, &tally)
                    .await;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(first) = running.next() => {
                    let mut done = vec![first];
                    while let Some(Some(more)) = running.next().now_or_never() {
                        done.push(more);
                    }
                    settle::settle(&self, &mut book, &tally, done).await;
                    lease_now = true;
                }
                _ = self.queue.doorbell.rung() => (lease_now, known.stale) = (true, true),
                _ = poll.tick() => (lease_now, known.stale) = (true, true),
                _ = depth.tick() => depth::check(&self, &tally).await,
            }
        }
        self.drain(&mut book, &tally, running).await;
    }

    /// Waits up to the grace for the attempts in flight and records them.
    async fn drain(
        &self,
        book: &mut Book,
        tally: &DeliveryTally,
        mut running: FuturesUnordered<Running>,
    ) {
        let deadline = tokio::time::Instant::now() + self.config.grace;
        while !running.is_empty() {
            match tokio::time::timeout_at(deadline, running.next()).await {
                Ok(Some(done)) => settle::settle(self, book, tally, vec![done]).await,
                Ok(None) => break,
                Err(_) => {
                    let flavor = self.flavor;
                    let left = running.len();
                    tracing::warn!(flavor, left, "stopping with deliveries in flight: their leases run out and they are delivered again");
                    break;
                }
            }
        }
    }

    /// Leases what the destinations with room may take and starts each
    /// attempt; true when the lease came back full (more may be due).
    async fn lease(
        &self,
        known: &mut Known,
        book: &mut Book,
        running: &mut FuturesUnordered<Running>,
        tally: &DeliveryTally,
    ) -> bool {
        let now_ms = self.now_ms();
        if known.stale {
            match delivery::destinations(&self.pool, self.flavor).await {
                Ok(names) => {
                    *known = Known {
                        names,
                        stale: false,
                    }
                }
                Err(err) => {
                    tally.store_failed("destinations", &err.to_string());
                    return false;
                }
            }
        }
        let rooms: Vec<Room<'_>> = (known.names.iter())
            .map(|d| Room {
                destination: d,
                limit: book.room(d, now_ms),
            })
            .filter(|r| r.limit > 0)
            .collect();
        let limit = self.config.max_in_flight.saturating_sub(running.len());
        if rooms.is_empty() || limit == 0 {
            return false;
        }
        let leased = match delivery::lease_rooms(
            &self.pool,
            self.flavor,
            &rooms,
            now_ms,
            limit,
            self.config.lease,
        )
        .await
        {
            Ok(leased) => leased,
            Err(err) => {
                tally.store_failed("lease", &err.to_string());
                return false;
            }
        };
        let full = leased.len() >= limit;
        for row in leased {
            book.started(&row.destination, now_ms);
            running.push(self.attempt(row));
        }
        full
    }

    /// One attempt under the timeout, a panic caught as a refusal.
    fn attempt(&self, row: Delivery) -> Running {
        let deliverer = self.deliverer.clone();
        let timeout = self.config.attempt_timeout;
        async move {
            let call = std::panic::AssertUnwindSafe(deliverer.deliver(&row)).catch_unwind();
            let outcome = match tokio::time::timeout(timeout, call).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => DeliveryOutcome::Permanent {
                    error: "the deliverer panicked".into(),
                },
                Err(_) => DeliveryOutcome::Transient {
                    error: format!("no answer within {} ms", timeout.as_millis()),
                    retry_after: None,
                },
            };
            (row, outcome)
        }
        .boxed()
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }
}
