//! Batch processing: batches close on count, bytes or time — and go at once
//! when no batch is running, so an idle flavor adds no wait while a busy one
//! sends full batches; the handler answers per event; only the failed events
//! are retried, as a smaller batch.
//!
//! How many batches run at once is the handler's to say
//! (`BatchHandler::max_running`): a read model applies one at a time, so a
//! case's events are applied in order across batches; an order-insensitive
//! indexer may run two. Even then a key (a case) is never in two running
//! batches, and an event id never twice in running batches: a job whose key
//! or id is busy waits, in order, at the front of the next batch.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use tokio::time::Instant as TokioInstant;
use tracing::Instrument;

use super::single::Next;
use super::{Dispatcher, Done};
use crate::handler::Processor;
use crate::runtime::attempt::{self, Attempt, Job};
use crate::runtime::policy::BatchLimits;
use crate::source::record::Tp;
use crate::telemetry::events;
use crate::telemetry::trace;

/// The most batches that run at once, whatever the handler asks.
pub(crate) const MAX_RUNNING_BATCHES: usize = 2;

/// The batch being filled, and full batches waiting for a free slot.
#[derive(Debug, Default)]
pub(super) struct OpenBatch {
    jobs: Vec<Job>,
    bytes: usize,
    deadline: Option<TokioInstant>,
    /// Full batches, oldest first (reading goes on while both slots are busy;
    /// the credit bounds how much waits here).
    full: VecDeque<Vec<Job>>,
    running: usize,
    /// Batches that may run at once (the handler's `max_running`).
    slots: usize,
    /// Keys and event ids in running batches, with how many jobs hold each.
    busy_keys: HashMap<(Tp, Bytes), usize>,
    /// Event ids by hash: no allocation per job; a collision only makes a
    /// job wait for one batch.
    busy_ids: HashMap<u64, usize>,
}

impl OpenBatch {
    /// Adds a job; returns true when a full batch waits to go.
    pub(super) fn push(&mut self, job: Job, limits: &BatchLimits) -> bool {
        if self.jobs.is_empty() {
            self.deadline = Some(TokioInstant::now() + limits.max_wait);
        }
        self.bytes += job.record.size();
        self.jobs.push(job);
        if self.jobs.len() >= limits.max_events || self.bytes >= limits.max_bytes {
            let batch = self.take_open();
            self.full.push_back(batch);
        }
        !self.full.is_empty()
    }

    /// When the open batch must go, if one is open and a slot is free: at
    /// once when no batch is running (an idle flavor adds no wait; under load
    /// batches grow while the running one works), else at `max_wait`.
    pub(super) fn deadline(&self) -> Option<TokioInstant> {
        let deadline = self.deadline?;
        match self.running {
            0 if !self.jobs.is_empty() => Some(TokioInstant::now()),
            _ if self.has_slot() => Some(deadline),
            _ => None,
        }
    }

    /// A running batch task ended; its keys and ids are free again (`jobs`
    /// is `None` when the task was lost, which stops the run anyway).
    pub(super) fn finished_one(&mut self, jobs: Option<&[Job]>) {
        self.running -= 1;
        for job in jobs.unwrap_or_default() {
            release(&mut self.busy_keys, &lane(job));
            release(&mut self.busy_ids, &id_hash(job));
        }
    }

    /// Marks the keys and ids of a starting batch busy.
    fn started(&mut self, jobs: &[Job]) {
        self.running += 1;
        for job in jobs {
            *self.busy_keys.entry(lane(job)).or_default() += 1;
            *self.busy_ids.entry(id_hash(job)).or_default() += 1;
        }
    }

    /// Splits `jobs` into those free to go now and those that wait: a job
    /// whose key or event id is in a running batch, whose id is already
    /// going in this batch, or whose key has an earlier job waiting. The
    /// waiting ones go, in order, to the front of the next batch.
    fn admit(&mut self, jobs: Vec<Job>, limits: &BatchLimits) -> Vec<Job> {
        let (mut go, mut wait) = (Vec::with_capacity(jobs.len()), Vec::new());
        let mut waiting_keys: HashSet<(Tp, Bytes)> = HashSet::default();
        let mut going_ids: HashSet<u64> = HashSet::default();
        for job in jobs {
            let id = id_hash(&job);
            let lane = lane(&job);
            let blocked = self.busy_keys.contains_key(&lane)
                || waiting_keys.contains(&lane)
                || self.busy_ids.contains_key(&id)
                || going_ids.contains(&id);
            if blocked {
                waiting_keys.insert(lane);
                wait.push(job);
            } else {
                going_ids.insert(id);
                go.push(job);
            }
        }
        if !wait.is_empty() {
            self.wait_in_front(wait, limits);
        }
        go
    }

    /// Puts `wait` (older than anything waiting) in front of the next batch,
    /// which is cut at `max_events` again.
    fn wait_in_front(&mut self, mut wait: Vec<Job>, limits: &BatchLimits) {
        let max = limits.max_events.max(1);
        match self.full.pop_front() {
            Some(next) => {
                wait.extend(next);
                let mut rest = wait.split_off(max.min(wait.len()));
                let mut batches = vec![wait];
                while !rest.is_empty() {
                    let tail = rest.split_off(max.min(rest.len()));
                    batches.push(std::mem::replace(&mut rest, tail));
                }
                for batch in batches.into_iter().rev() {
                    self.full.push_front(batch);
                }
            }
            None => {
                wait.append(&mut self.jobs);
                while wait.len() > max {
                    let rest = wait.split_off(max);
                    self.full.push_back(std::mem::replace(&mut wait, rest));
                }
                self.jobs = wait;
                self.bytes = self.jobs.iter().map(|j| j.record.size()).sum();
                // Tried again when a running batch ends, or at max_wait.
                if !self.jobs.is_empty() {
                    (self.deadline).get_or_insert_with(|| TokioInstant::now() + limits.max_wait);
                }
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.jobs.is_empty() && self.full.is_empty()
    }

    /// Sets how many batches may run at once.
    pub(super) fn set_slots(&mut self, slots: usize) {
        self.slots = slots.clamp(1, MAX_RUNNING_BATCHES);
    }

    fn has_slot(&self) -> bool {
        self.running < self.slots.max(1)
    }

    /// The next batch to send: a full one first, else the open one.
    fn take(&mut self) -> Vec<Job> {
        match self.full.pop_front() {
            Some(batch) => batch,
            None => self.take_open(),
        }
    }

    fn take_open(&mut self) -> Vec<Job> {
        self.bytes = 0;
        self.deadline = None;
        std::mem::take(&mut self.jobs)
    }

    /// Drops the waiting jobs of revoked partitions.
    pub(super) fn drop_partitions(&mut self, tps: &[Tp]) -> usize {
        let before = self.waiting();
        self.jobs.retain(|j| !tps.contains(&j.record.tp));
        for batch in &mut self.full {
            batch.retain(|j| !tps.contains(&j.record.tp));
        }
        self.full.retain(|b| !b.is_empty());
        before - self.waiting()
    }

    fn waiting(&self) -> usize {
        self.jobs.len() + self.full.iter().map(Vec::len).sum::<usize>()
    }

    /// Drops every waiting job (orderly stop).
    pub(super) fn clear(&mut self) -> usize {
        let n = self.waiting();
        self.full.clear();
        self.take_open();
        n
    }
}

/// A job's ordering lane: its partition and key (the key is empty under
/// partition ordering, so the lane is the partition).
fn lane(job: &Job) -> (Tp, Bytes) {
    (job.record.tp.clone(), job.key.clone())
}

/// The event id's hash (FxHash).
fn id_hash(job: &Job) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    job.event.event_id.hash(&mut h);
    h.finish()
}

fn release<K: std::hash::Hash + Eq>(busy: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = busy.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            busy.remove(key);
        }
    }
}

impl Dispatcher {
    /// Sends full batches while slots are free.
    pub(super) fn flush_full(&mut self) {
        while self.batch.has_slot() && self.stop.is_none() {
            let Some(jobs) = self.batch.full.pop_front() else {
                return;
            };
            let jobs = self.batch.admit(jobs, &self.rt.config.batch);
            if jobs.is_empty() {
                return; // every job waits for a running batch
            }
            self.start_batch(jobs, None);
        }
    }

    /// Sends waiting batches (full ones first, then the open one) while slots are free.
    pub(super) fn flush_batch(&mut self) {
        while !self.batch.is_empty() && self.batch.has_slot() && self.stop.is_none() {
            let jobs = self.batch.take();
            let jobs = self.batch.admit(jobs, &self.rt.config.batch);
            if jobs.is_empty() {
                return; // every job waits for a running batch
            }
            self.start_batch(jobs, None);
        }
    }

    /// Starts a batch attempt, after `delay` when it is a retry. The attempt
    /// (encoding, compression, the handler's own work) runs as a task of its
    /// own, off the dispatcher.
    pub(super) fn start_batch(&mut self, mut jobs: Vec<Job>, delay: Option<Duration>) {
        let Processor::Batch(handler) = self.rt.processor.clone() else {
            return;
        };
        let Some(tp) = jobs.first().map(|j| j.record.tp.clone()) else {
            return;
        };
        for job in &mut jobs {
            job.first_try.get_or_insert_with(TokioInstant::now);
        }
        // A batch counts as a running task of its first event's partition; the
        // others are tracked through their pending offsets.
        let (generation, cancel) = self.enter(&tp);
        let env = self.env.clone();
        self.batch.started(&jobs);
        events::BatchStarted::new(self.rt.flavor, jobs.len()).emit();
        let span = if self.spans {
            trace::batch_span(self.rt.flavor, jobs.iter().map(|j| &j.span))
        } else {
            tracing::Span::none()
        };
        let work = async move {
            if let Some(delay) = delay {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = cancel.cancelled() => {
                        let cancelled = jobs.iter().map(|_| Attempt::Cancelled).collect();
                        return Done::Batch(jobs, cancelled);
                    }
                }
            }
            let results = attempt::batch(env, handler, &jobs).await;
            Done::Batch(jobs, results)
        };
        let handle = tokio::spawn(work.instrument(span));
        self.tasks.push(Box::pin(async move {
            let done = handle
                .await
                .unwrap_or_else(|err| Done::Lost(format!("batch task failed: {err}")));
            (generation, tp, done)
        }));
    }

    /// Settles each event of a finished batch; the ones to try again go
    /// together, after the longest delay any of them asked for.
    pub(super) fn on_batch(&mut self, jobs: Vec<Job>, results: Vec<Attempt>) {
        let mut again = Vec::new();
        let mut delay = Duration::ZERO;
        for (job, result) in jobs.into_iter().zip(results) {
            if let Next::Again(mut job, after) = self.settle(job, result) {
                delay = delay.max(after);
                self.flow.backoff_started(&job.record.tp, &*self.control);
                job.waiting = true;
                again.push(*job);
            }
        }
        if !again.is_empty() && self.fatal.is_none() {
            tracing::info!(
                events = again.len(),
                delay_ms = delay.as_millis() as u64,
                "retrying failed batch items"
            );
            self.start_batch(again, Some(delay));
        }
        self.flush_batch();
    }
}
