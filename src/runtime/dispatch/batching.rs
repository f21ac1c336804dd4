//! Batch processing: batches close on count, bytes or time; the handler answers
//! per event; only the failed events are retried, as a smaller batch.

use std::time::Duration;

use tokio::time::Instant as TokioInstant;
use tracing::Instrument;

use super::{Dispatcher, Done};
use crate::handler::{HandleResp, Processor};
use crate::runtime::attempt::{self, Attempt, Job};
use crate::runtime::dlq::DlqReason;
use crate::runtime::policy::BatchLimits;
use crate::runtime::record::Tp;
use crate::runtime::summary::RunError;
use crate::telemetry::events::{self, Mode};
use crate::telemetry::trace;

/// Batches in flight at once; more would reorder events of one key further.
const MAX_RUNNING_BATCHES: usize = 2;

/// The batch being filled.
#[derive(Debug, Default)]
pub(super) struct OpenBatch {
    jobs: Vec<Job>,
    bytes: usize,
    deadline: Option<TokioInstant>,
    ready: bool,
    running: usize,
}

impl OpenBatch {
    /// Adds a job; returns true when the batch is full and should go.
    pub(super) fn push(&mut self, job: Job, limits: &BatchLimits) -> bool {
        if self.jobs.is_empty() {
            self.deadline = Some(TokioInstant::now() + limits.max_wait);
        }
        self.bytes += job.record.size();
        self.jobs.push(job);
        self.ready = self.jobs.len() >= limits.max_events || self.bytes >= limits.max_bytes;
        self.ready
    }

    /// When the open batch must go, if one is open.
    pub(super) fn deadline(&self) -> Option<TokioInstant> {
        self.deadline.filter(|_| self.running < MAX_RUNNING_BATCHES)
    }

    /// A full batch waits for a free slot: stop reading until then.
    pub(super) fn blocked(&self) -> bool {
        self.ready && self.running >= MAX_RUNNING_BATCHES
    }

    /// A running batch task ended.
    pub(super) fn finished_one(&mut self) {
        self.running -= 1;
    }

    pub(super) fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    fn take(&mut self) -> Vec<Job> {
        self.bytes = 0;
        self.deadline = None;
        self.ready = false;
        std::mem::take(&mut self.jobs)
    }

    /// Drops the waiting jobs of revoked partitions.
    pub(super) fn drop_partitions(&mut self, tps: &[Tp]) -> usize {
        let before = self.jobs.len();
        self.jobs.retain(|j| !tps.contains(&j.record.tp));
        before - self.jobs.len()
    }

    /// Drops every waiting job (orderly stop).
    pub(super) fn clear(&mut self) -> usize {
        self.take().len()
    }
}

impl Dispatcher {
    /// Sends the open batch if a slot is free.
    pub(super) fn flush_batch(&mut self) {
        if self.batch.is_empty() || self.batch.running >= MAX_RUNNING_BATCHES || self.stop.is_some()
        {
            return;
        }
        let jobs = self.batch.take();
        self.start_batch(jobs, None);
    }

    /// Starts a batch attempt, after `delay` when it is a retry.
    pub(super) fn start_batch(&mut self, mut jobs: Vec<Job>, delay: Option<Duration>) {
        let Processor::Batch(handler) = self.rt.processor.clone() else {
            return;
        };
        let Some(tp) = jobs.first().map(|j| j.record.tp.clone()) else {
            return;
        };
        for job in &mut jobs {
            job.first_try.get_or_insert_with(std::time::Instant::now);
        }
        // A batch counts as a running task of its first event's partition; the
        // others are tracked through their pending offsets.
        let (generation, cancel) = self.enter(&tp);
        let env = self.env.clone();
        self.batch.running += 1;
        events::BatchStarted::new(self.rt.flavor, jobs.len()).emit();
        let span = trace::batch_span(self.rt.flavor, jobs.iter().map(|j| &j.span));
        let task = async move {
            if let Some(delay) = delay {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = cancel.cancelled() => {
                        let cancelled = jobs.iter().map(|_| Attempt::Cancelled).collect();
                        return (generation, tp, Done::Batch(jobs, cancelled));
                    }
                }
            }
            let flavor = env.flavor;
            let call = attempt::batch(env, handler, &jobs);
            let results = events::timed(flavor, Mode::Batch, call).await;
            (generation, tp, Done::Batch(jobs, results))
        };
        self.tasks.spawn(task.instrument(span));
    }

    /// Settles each event of a finished batch; failed ones go again together.
    pub(super) fn on_batch(&mut self, jobs: Vec<Job>, results: Vec<Attempt>) {
        let mut again = Vec::new();
        let mut delay = Duration::ZERO;
        for (mut job, result) in jobs.into_iter().zip(results) {
            if std::mem::take(&mut job.waiting) {
                self.flow.backoff_ended(&job.record.tp, &*self.control);
            }
            if let Attempt::Deferred(after) = result {
                delay = delay.max(after);
                self.flow.backoff_started(&job.record.tp, &*self.control);
                job.waiting = true;
                again.push(job);
                continue;
            }
            job.attempts += 1;
            match result {
                Attempt::Cancelled | Attempt::Deferred(_) => {}
                Attempt::Panicked(message) => {
                    let err = RunError::HandlerPanicked {
                        tp: job.record.tp.clone(),
                        offset: job.record.offset,
                        event_id: job.event.event_id.clone(),
                        message,
                    };
                    return self.fail(err);
                }
                Attempt::Resp(HandleResp::Success) => self.finish_job(job, None),
                Attempt::Resp(HandleResp::Skip(reason)) => self.finish_job(job, Some(reason)),
                Attempt::Resp(HandleResp::Discard(err)) => {
                    self.give_up(job, DlqReason::Discarded, err.message)
                }
                Attempt::Resp(HandleResp::Retry(err)) => {
                    let elapsed = job.first_try.map_or(Duration::ZERO, |t| t.elapsed());
                    match self.rt.config.retry_now().next_delay(
                        job.attempts,
                        elapsed,
                        err.retry_after,
                    ) {
                        Some(d) => {
                            delay = delay.max(d);
                            let retry =
                                events::RetryScheduled::new(self.rt.flavor, &job, d, &err.message);
                            retry.emit();
                            self.summary.retries += 1;
                            self.flow.backoff_started(&job.record.tp, &*self.control);
                            job.waiting = true;
                            again.push(job);
                        }
                        None => self.exhausted(job, err.message),
                    }
                }
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
