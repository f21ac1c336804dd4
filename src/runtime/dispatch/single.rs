//! Single-event processing: per-key lanes, the running limit, attempts,
//! outcomes, retries and dead letters. The retry and dead-letter decisions
//! are shared with batch processing (`settle`).

use std::time::Duration;

use tokio::time::Instant as TokioInstant;
use tracing::{Instrument, Span};

use super::{Dispatcher, Done};
use crate::handler::{ErrorClass, HandleResp, Processor, SkipReason};
use crate::runtime::attempt::{self, Attempt, Job, Work};
use crate::runtime::dlq::{DlqEntry, DlqReason};
use crate::runtime::policy::OnExhausted;
use crate::runtime::scheduler::Lane;
use crate::runtime::summary::RunError;
use crate::source::record::Record;
use crate::telemetry::events;

/// A record on its way to the DLQ.
pub(super) struct DeadJob {
    pub(super) record: Record,
    pub(super) lane: Option<Lane>,
    pub(super) event_id: String,
    pub(super) span: Span,
}

/// What to do with a job after an attempt.
pub(super) enum Next {
    /// Settled (completed, dead-lettered, or the run failed).
    Settled,
    /// Try again after this delay.
    Again(Box<Job>, Duration),
}

impl Dispatcher {
    /// Starts ready jobs while running slots are free.
    pub(super) fn fill_slots(&mut self) {
        if self.stop.is_some() {
            return;
        }
        while self.running < self.rt.config.max_in_flight.max(1) {
            match self.ready.pop_front() {
                Some(Work::Event(job)) => self.start(job),
                Some(Work::Fire(job)) => self.start_fire(job),
                None => return,
            }
        }
    }

    /// Starts an attempt. It runs as a future of the dispatcher's own set:
    /// no task per event.
    fn start(&mut self, mut job: Job) {
        let Processor::Single(handler) = self.rt.processor.clone() else {
            return;
        };
        job.first_try.get_or_insert_with(TokioInstant::now);
        self.running += 1;
        let (generation, _) = self.enter(&job.record.tp);
        let (env, tp) = (self.env.clone(), job.record.tp.clone());
        let span = job.span.clone();
        let task = async move {
            let result = attempt::single(env, handler, &job).await;
            (generation, tp, Done::Single(job, result))
        };
        if span.is_none() {
            self.tasks.push(Box::pin(task));
        } else {
            self.tasks.push(Box::pin(task.instrument(span)));
        }
    }

    /// Holds a job for `delay` (a backoff or a deferral) without a running
    /// slot: `max_in_flight` bounds handler calls, not waits. Its lane stays
    /// its own, and its partition paused until the wait ends.
    fn wait(&mut self, job: Job, delay: Duration) {
        let (generation, cancel) = self.enter(&job.record.tp);
        let tp = job.record.tp.clone();
        self.tasks.push(Box::pin(async move {
            let cancelled = tokio::select! {
                biased;
                _ = cancel.cancelled() => true,
                _ = tokio::time::sleep(delay) => false,
            };
            (generation, tp, Done::Waited(job, cancelled))
        }));
    }

    /// A wait ended: the partition fetches again and the job is first in
    /// line for a running slot; a cancelled one (revoked, stopping) is dropped.
    pub(super) fn on_waited(&mut self, mut job: Job, cancelled: bool) {
        let revoked = self
            .per_tp
            .get(&job.record.tp)
            .is_none_or(|s| s.cancel.is_cancelled());
        if cancelled || revoked || self.stop.is_some() {
            let _ = self.settle(job, Attempt::Cancelled);
            return;
        }
        if std::mem::take(&mut job.waiting) {
            self.flow.backoff_ended(&job.record.tp, &*self.control);
        }
        self.ready.push_front(Work::Event(job));
    }

    pub(super) fn on_attempt(&mut self, job: Job, result: Attempt) {
        if let Next::Again(mut job, delay) = self.settle(job, result) {
            self.flow.backoff_started(&job.record.tp, &*self.control);
            job.waiting = true;
            self.wait(*job, delay);
        }
    }

    /// The one place that turns an attempt's result into what happens next:
    /// complete, retry (with the delay), dead-letter or fail the run. Used by
    /// single and batch processing alike.
    pub(super) fn settle(&mut self, mut job: Job, result: Attempt) -> Next {
        if std::mem::take(&mut job.waiting) {
            self.flow.backoff_ended(&job.record.tp, &*self.control);
        }
        let resp = match result {
            Attempt::Deferred(after) => return Next::Again(Box::new(job), after),
            Attempt::Cancelled => return Next::Settled,
            Attempt::Panicked(message) => {
                self.fail(RunError::HandlerPanicked {
                    tp: job.record.tp.clone(),
                    offset: job.record.offset,
                    event_id: job.event.event_id.clone(),
                    message,
                });
                return Next::Settled;
            }
            Attempt::Resp(resp) => resp,
        };
        let deferred = matches!(&resp, HandleResp::Retry(e) if e.class == ErrorClass::Deferred);
        if !deferred {
            job.attempts += 1;
        }
        match resp {
            HandleResp::Success => self.finish_job(job, None),
            HandleResp::Skip(reason) => self.finish_job(job, Some(reason)),
            HandleResp::Discard(err) => self.give_up(job, DlqReason::Discarded, err.message),
            HandleResp::Retry(err) => {
                let elapsed = job.first_try.map_or(Duration::ZERO, |t| t.elapsed());
                let policy = self.rt.config.retry_now();
                let next = match deferred {
                    // Not the event's fault: no attempt counted, never exhausted.
                    true => Some(policy.delay(job.attempts + 1, err.retry_after)),
                    false => policy.next_delay(job.attempts, elapsed, err.retry_after),
                };
                match next {
                    Some(delay) => {
                        events::RetryScheduled {
                            flavor: self.rt.flavor,
                            at: job.record.at(),
                            event_id: &job.event.event_id,
                            attempt: job.attempts,
                            span: &job.span,
                            delay,
                            error: &err.message,
                        }
                        .emit();
                        self.summary.retries += 1;
                        return Next::Again(Box::new(job), delay);
                    }
                    None => self.exhausted(job, err.message, policy.on_exhausted),
                }
            }
        }
        Next::Settled
    }

    fn exhausted(&mut self, job: Job, error: String, on_exhausted: OnExhausted) {
        match on_exhausted {
            OnExhausted::DeadLetter => self.give_up(job, DlqReason::RetriesExhausted, error),
            OnExhausted::Crash => self.fail(RunError::RetriesExhausted {
                tp: job.record.tp.clone(),
                offset: job.record.offset,
                event_id: job.event.event_id.clone(),
                error,
            }),
        }
    }

    /// A final outcome without a dead letter (`None` = success): complete the
    /// offset, free the lane.
    fn finish_job(&mut self, job: Job, skip: Option<SkipReason>) {
        self.tally.end_to_end(&job.event);
        self.complete(&job.record.tp, job.record.offset, skip, &job.span);
        if matches!(self.rt.processor, Processor::Single(_)) {
            let lane = (job.record.tp, job.key);
            self.next_in_lane(&lane);
        }
    }

    pub(super) fn next_in_lane(&mut self, lane: &Lane) {
        if self.stop.is_none() {
            if let Some(next) = self.lanes.finish(lane) {
                self.ready.push_back(next);
            }
        }
    }

    fn give_up(&mut self, job: Job, reason: DlqReason, error: String) {
        let lane = matches!(self.rt.processor, Processor::Single(_))
            .then(|| (job.record.tp.clone(), job.key.clone()));
        let dead = DeadJob {
            event_id: job.event.event_id.clone(),
            record: job.record,
            lane,
            span: job.span,
        };
        self.dead_letter(dead, reason, error, job.attempts);
    }

    pub(super) fn dead_letter(
        &mut self,
        dead: DeadJob,
        reason: DlqReason,
        error: String,
        attempts: u32,
    ) {
        let Some(sink) = self.rt.dlq.clone().filter(|_| self.rt.config.dlq.enabled) else {
            let err = format!("{reason}: {error} (no dead-letter topic configured)");
            return self.fail(RunError::DeadLetterFailed {
                tp: dead.record.tp.clone(),
                offset: dead.record.offset,
                error: err,
            });
        };
        let entry = DlqEntry {
            flavor: self.rt.flavor,
            reason,
            error,
            attempts,
        };
        events::DeadLettering {
            flavor: entry.flavor,
            at: dead.record.at(),
            event_id: &dead.event_id,
            reason: entry.reason.as_str(),
            attempts: entry.attempts,
            error: &entry.error,
        }
        .emit();
        let (generation, _) = self.enter(&dead.record.tp);
        let tp = dead.record.tp.clone();
        let span = dead.span.clone();
        let task = async move {
            let result = sink.send(&dead.record, &entry).await;
            (generation, tp, Done::DeadLetter(dead, reason, result))
        };
        self.tasks.push(Box::pin(task.instrument(span)));
        // Counted when decided, not when written: many writes may be under way
        // at once, and the circuit must stop the next ones, not the 1,000th.
        if let Some(ratio) = self.circuit.note(true) {
            self.fail(RunError::DlqCircuitOpen { ratio });
        }
    }

    pub(super) fn on_dead_lettered(
        &mut self,
        dead: DeadJob,
        reason: DlqReason,
        result: Result<(), String>,
    ) {
        if let Err(error) = result {
            let at = dead.record.at();
            events::DeadLetterFailed::new(self.rt.flavor, at, reason.as_str(), &error).emit();
            return self.fail(RunError::DeadLetterFailed {
                tp: dead.record.tp.clone(),
                offset: dead.record.offset,
                error,
            });
        }
        *self
            .summary
            .dead_lettered
            .entry(reason.as_str().to_string())
            .or_default() += 1;
        let at = dead.record.at();
        events::DeadLettered::new(self.rt.flavor, at, reason.as_str(), &dead.span).emit();
        self.rt.progress.completed_one(true);
        self.complete_offset(&dead.record.tp, dead.record.offset);
        if let Some(lane) = dead.lane {
            self.next_in_lane(&lane);
        }
    }
}
