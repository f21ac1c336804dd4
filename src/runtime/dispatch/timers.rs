//! Firing durable timers (Kit III-b): the dispatcher polls the flavor's due
//! timers on the partitions the source has assigned to it, claiming them in
//! one statement per poll (`kit::timers::claim_due`), and runs each firing
//! as work on the per-key lane of its case, so a timer and an event of one
//! case never run at once.
//!
//! Ownership decides who polls; the claim decides who fires; the claim's
//! fence decides whose firing commits (a revoked owner still finishing is
//! refused). After a firing:
//! - fired or skipped: done (the lane goes on); the runtime marks it fired,
//!   in bulk, unless the flavor committed it itself;
//! - a transient failure: the claim is made to run out at the backoff's end
//!   (`retry_later`), and the next poll after it claims the timer again; the
//!   lane is not held meanwhile;
//! - a permanent failure or the retry budget spent (counted from the start
//!   of its run of failures): the timer ends `dead` with the reason (`bury`);
//! - revoked or stopping before it started: the claim is given back
//!   (`release`), so the new owner need not wait for the lease; one that
//!   was running settles as above, fenced;
//! - one that waited in its lane until its claim could run out while it
//!   runs is not started: the next poll claims it again.
//!
//! Ownership is the source's `assigned()`: for Kafka, a partition stops
//! being owned when its revoke starts, before the runtime drains it, so no
//! poll claims for a partition on its way out.
//!
//! A pause window stops the polling; skip windows and flags are the
//! flavor's to read in `fire` (they are judged per event). Store operations
//! run as futures of the dispatcher's own (no task); a
//! failed one is logged, and the leases make it good: an unrecorded claim
//! runs out and the timer is claimed again.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use sqlx::AnyPool;
use tokio::time::Instant as TokioInstant;
use tracing::Instrument;

use super::{Dispatcher, Done};
use crate::flavors::kit::timers::{self, Firing, Timer, TimerStoreError};
use crate::handler::{ErrorClass, HandleResp, Processor};
use crate::runtime::attempt::{self, Attempt, FireJob, Work};
use crate::runtime::policy::TimerPolicy;
use crate::runtime::summary::RunError;
use crate::telemetry::events::{TimerResult, TimerTally};

/// A store operation's end.
pub(super) enum Side {
    /// A poll claimed these timers.
    Polled(Result<Vec<Timer>, TimerStoreError>),
    /// An outcome was recorded (what, and how many rows held their claim).
    Recorded(&'static str, Result<u64, TimerStoreError>),
}

/// The dispatcher's timer state.
pub(super) struct Timers {
    policy: Option<(TimerPolicy, AnyPool)>,
    /// The run's timer metrics (with a policy only).
    tally: Option<TimerTally>,
    next_poll: TokioInstant,
    polling: bool,
    /// How many the poll under way may claim.
    asked: usize,
    /// Claimed and not yet settled (waiting for a lane or a slot, running).
    claimed: usize,
    /// Fired without a commit of the flavor's own: marked once per turn.
    to_mark: Vec<Timer>,
    pub(super) side: FuturesUnordered<BoxFuture<'static, Side>>,
}

impl Timers {
    /// Timers fire only with a policy and a store.
    pub(super) fn new(
        flavor: &'static str,
        policy: Option<TimerPolicy>,
        pool: Option<AnyPool>,
    ) -> Self {
        let policy = policy.zip(pool);
        Self {
            tally: policy.as_ref().map(|_| TimerTally::new(flavor)),
            policy,
            next_poll: TokioInstant::now(),
            polling: false,
            asked: 0,
            claimed: 0,
            to_mark: Vec::new(),
            side: FuturesUnordered::new(),
        }
    }

    /// Counts and logs what came of a firing of `timer`.
    fn settled(&self, timer: &Timer, result: TimerResult, error: Option<&str>) {
        if let Some(tally) = &self.tally {
            tally.settled(&timer.case_key, &timer.timer_id, result, error);
        }
    }

    /// Logs a failed store operation.
    fn store_failed(&self, what: &'static str, error: &TimerStoreError) {
        if let Some(tally) = &self.tally {
            tally.store_failed(what, &error.to_string());
        }
    }

    /// Whether a store operation is under way.
    pub(super) fn busy(&self) -> bool {
        self.polling || !self.side.is_empty()
    }
}

impl Dispatcher {
    /// When the next poll is due: never without timers, while stopping or
    /// polling, under a pause window, or while a full batch is unsettled.
    pub(super) fn timer_poll_at(&self) -> Option<TokioInstant> {
        let t = &self.timers;
        let (policy, _) = t.policy.as_ref()?;
        let idle = !t.polling && self.stop.is_none() && !self.input_ended;
        let room = t.claimed < policy.batch;
        (idle && room && !self.flow.stopped_for_maintenance()).then_some(t.next_poll)
    }

    /// Claims the due timers of the assigned partitions (one statement).
    pub(super) fn poll_timers(&mut self) {
        let Some((policy, pool)) = self.timers.policy.clone() else {
            return;
        };
        let owned = self.control.assigned();
        if owned.is_empty() {
            self.timers.next_poll = TokioInstant::now() + policy.poll_every;
            return;
        }
        self.timers.polling = true;
        let now_ms = policy.clock.now().timestamp_millis();
        let flavor = self.rt.flavor;
        let limit = policy.batch - self.timers.claimed;
        self.timers.asked = limit;
        self.timers.side.push(Box::pin(async move {
            let owned: Vec<(&str, i32)> =
                owned.iter().map(|tp| (&*tp.topic, tp.partition)).collect();
            let claimed =
                timers::claim_due(&pool, flavor, &owned, now_ms, limit, policy.lease).await;
            Side::Polled(claimed)
        }));
    }

    pub(super) fn on_side(&mut self, side: Side) {
        match side {
            Side::Polled(Ok(claimed)) => self.on_polled(claimed),
            Side::Polled(Err(err)) => {
                self.timers.polling = false;
                self.timers.store_failed("poll", &err);
                self.schedule_poll(false);
            }
            Side::Recorded(what, Err(err)) => self.timers.store_failed(what, &err),
            Side::Recorded(..) => {}
        }
    }

    fn on_polled(&mut self, claimed: Vec<Timer>) {
        self.timers.polling = false;
        let full = claimed.len() >= self.timers.asked;
        let assigned = self.control.assigned();
        let mut gone = Vec::new();
        for timer in claimed {
            let job = FireJob::new(timer, self.rt.config.ordering);
            if self.stop.is_some() || !assigned.contains(&job.tp) {
                gone.push(job.timer);
                continue;
            }
            self.timers.claimed += 1;
            self.track_tp(&job.tp);
            let lane = (job.tp.clone(), job.key.clone());
            if let Some(work) = self.lanes.offer(lane, Work::Fire(Box::new(job))) {
                self.ready.push_back(work);
            }
        }
        self.release(gone);
        self.schedule_poll(full);
        self.fill_slots();
    }

    /// The next poll: at once after a full batch, else after `poll_every`.
    fn schedule_poll(&mut self, at_once: bool) {
        if let Some((policy, _)) = &self.timers.policy {
            let wait = if at_once {
                Duration::ZERO
            } else {
                policy.poll_every
            };
            self.timers.next_poll = TokioInstant::now() + wait;
        }
    }

    /// Starts a firing as a future of the dispatcher's own set.
    pub(super) fn start_fire(&mut self, job: Box<FireJob>) {
        let (Processor::Single(handler), Some((policy, _))) =
            (self.rt.processor.clone(), &self.timers.policy)
        else {
            return;
        };
        let now_ms = policy.clock.now().timestamp_millis();
        let timeout_ms = crate::store::ms_of(self.rt.config.handler_timeout);
        if now_ms.saturating_add(timeout_ms) >= job.timer.claimed_until {
            // Waited in its lane so long that the claim could run out while
            // it runs: the next poll claims it again instead.
            self.timers.claimed = self.timers.claimed.saturating_sub(1);
            self.timers.settled(&job.timer, TimerResult::Expired, None);
            return self.next_in_lane(&(job.tp, job.key));
        }
        self.running += 1;
        let (generation, _) = self.enter(&job.tp);
        let (env, tp) = (self.env.clone(), job.tp.clone());
        let firing = Firing::new(job.timer.clone(), now_ms);
        let t = &firing.timer;
        let lateness_ms = u64::try_from(firing.lateness().as_millis()).unwrap_or(u64::MAX);
        let span = tracing::info_span!("timer", flavor = env.flavor, case_key = %t.case_key,
            timer_id = %t.timer_id, firing_id = %firing.id, lateness_ms);
        if let Some(tally) = &self.timers.tally {
            tally.started(&t.case_key, &t.timer_id, firing.lateness());
        }
        let task = async move {
            let (result, committed) = attempt::fire(env, handler, &firing).await;
            (generation, tp, Done::Fired(job, result, committed))
        };
        self.tasks.push(Box::pin(task.instrument(span)));
    }

    /// What came of a firing: record it, and let the lane go on.
    pub(super) fn on_fired(&mut self, job: Box<FireJob>, result: Attempt, committed: bool) {
        let lane = (job.tp.clone(), job.key.clone());
        self.settle_firing(job.timer, result, committed);
        self.next_in_lane(&lane);
    }

    /// A firing whose partition was revoked while it ran: its outcome is
    /// recorded all the same (fenced: refused if the new owner took it
    /// over); its lane went with the partition.
    pub(super) fn fired_after_revoke(
        &mut self,
        job: Box<FireJob>,
        result: Attempt,
        committed: bool,
    ) {
        self.settle_firing(job.timer, result, committed);
    }

    /// Records what came of a firing. A success or a skip the flavor did not
    /// commit itself is marked fired (in bulk, fenced): a skipped timer is
    /// done, not claimed again when its lease runs out.
    fn settle_firing(&mut self, timer: Timer, result: Attempt, committed: bool) {
        self.timers.claimed = self.timers.claimed.saturating_sub(1);
        match result {
            Attempt::Resp(resp @ (HandleResp::Success | HandleResp::Skip(_))) => {
                let label = match resp {
                    HandleResp::Success => TimerResult::Fired,
                    _ => TimerResult::Skipped,
                };
                self.timers.settled(&timer, label, None);
                if !committed {
                    self.timers.to_mark.push(timer);
                }
            }
            Attempt::Resp(HandleResp::Discard(err)) => self.bury(timer, err.message),
            Attempt::Resp(HandleResp::Retry(err)) => {
                let counted = err.class != ErrorClass::Deferred;
                self.retry_later(timer, err.retry_after, err.message, counted)
            }
            Attempt::Deferred(after) => {
                self.retry_later(timer, Some(after), "deferred".into(), false)
            }
            Attempt::Cancelled => self.release(vec![timer]),
            Attempt::Panicked(message) => {
                let error = format!("timer {}/{}: {message}", timer.case_key, timer.timer_id);
                self.fail(RunError::Internal(error));
            }
        }
    }

    /// Once per turn: marks the firings fired that no flavor transaction
    /// marked (one statement per 200).
    pub(super) fn mark_fired(&mut self) {
        if self.timers.to_mark.is_empty() {
            return;
        }
        let Some((policy, pool)) = self.timers.policy.clone() else {
            return;
        };
        let marks = std::mem::take(&mut self.timers.to_mark);
        let now_ms = policy.clock.now().timestamp_millis();
        self.timers.side.push(Box::pin(async move {
            Side::Recorded("mark", timers::fired_many(&pool, &marks, now_ms).await)
        }));
    }

    /// A failed firing: again after the backoff, or dead when the budget
    /// (attempts, and time since its run of failures began) is spent.
    fn retry_later(&mut self, timer: Timer, hint: Option<Duration>, error: String, counted: bool) {
        let Some((policy, pool)) = self.timers.policy.clone() else {
            return;
        };
        let now_ms = policy.clock.now().timestamp_millis();
        let retry = self.rt.config.retry_now();
        let attempts = u32::try_from(timer.attempts).unwrap_or(u32::MAX);
        let since = match timer.failing_since {
            0 => now_ms,
            at => at,
        };
        let failing = Duration::from_millis(now_ms.saturating_sub(since).max(0).unsigned_abs());
        let delay = match counted {
            true => retry.next_delay(attempts.saturating_add(1), failing, hint),
            false => Some(retry.delay(attempts.saturating_add(1), hint)),
        };
        let Some(delay) = delay else {
            return self.bury(timer, format!("retries exhausted: {error}"));
        };
        self.timers
            .settled(&timer, TimerResult::Retry, Some(&error));
        let at = now_ms.saturating_add(crate::store::ms_of(delay));
        self.timers.side.push(Box::pin(async move {
            let done = timers::retry_later(&pool, &timer, (now_ms, at), &error, counted).await;
            Side::Recorded("retry", done.map(u64::from))
        }));
    }

    /// A firing that will not succeed: the timer ends `dead` with `error`.
    fn bury(&mut self, timer: Timer, error: String) {
        let Some((_, pool)) = self.timers.policy.clone() else {
            return;
        };
        self.timers.settled(&timer, TimerResult::Dead, Some(&error));
        self.timers.side.push(Box::pin(async move {
            let done = timers::bury(&pool, &timer, &error).await;
            Side::Recorded("bury", done.map(u64::from))
        }));
    }

    /// Gives claimed, unstarted timers back (revoked, stopping).
    fn release(&mut self, gone: Vec<Timer>) {
        let Some((_, pool)) = self.timers.policy.clone().filter(|_| !gone.is_empty()) else {
            return;
        };
        for timer in &gone {
            self.timers.settled(timer, TimerResult::Released, None);
        }
        self.timers.side.push(Box::pin(async move {
            Side::Recorded("release", timers::release(&pool, &gone).await)
        }));
    }

    /// Work taken out of lanes or the ready queue (revoke, stop): the
    /// firings among it are released; returns how much there was.
    pub(super) fn dropped(&mut self, work: Vec<Work>) -> usize {
        let n = work.len();
        let firings: Vec<Timer> = work
            .into_iter()
            .filter_map(|w| match w {
                Work::Fire(job) => Some(job.timer),
                Work::Event(_) => None,
            })
            .collect();
        self.timers.claimed = self.timers.claimed.saturating_sub(firings.len());
        self.release(firings);
        n
    }
}
