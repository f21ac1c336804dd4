//! The dispatcher: one task that owns all scheduling state.
//!
//! It takes records from the source, starts attempts as tasks, and reacts to
//! their completions. Nothing here blocks: backoffs are sleeping tasks, and the
//! partitions they belong to are paused at the source meanwhile.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant as TokioInstant};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

use super::attempt::{self, Attempt, Env, Job};
use super::dlq::{DlqCircuit, DlqEntry, DlqReason};
use super::offsets::OffsetTracker;
use super::policy::{OnExhausted, Ordering};
use super::record::{Record, Tp};
use super::scheduler::{KeyQueues, Lane};
use super::summary::{RunError, RunSummary};
use super::{decode_record, Runtime};
use crate::handler::{HandleResp, Processor, SkipReason};
use crate::source::{SourceControl, SourceMsg, SourceRx};
use crate::telemetry::events::{self, Mode};
use crate::telemetry::trace;

mod batching;
mod flow;

/// A finished task.
enum Done {
    /// One attempt of one event.
    Single(Job, Attempt),
    /// One attempt of a batch.
    Batch(Vec<Job>, Vec<Attempt>),
    /// A dead-letter write.
    DeadLetter(DeadJob, DlqReason, Result<(), String>),
}

/// A record on its way to the DLQ.
struct DeadJob {
    record: Record,
    lane: Option<Lane>,
    event_id: String,
    span: Span,
}

/// A revoke waiting for its partitions' running tasks.
struct PendingRevoke {
    tps: Vec<Tp>,
    reply: std::sync::mpsc::SyncSender<Vec<(Tp, i64)>>,
    deadline: TokioInstant,
}

pub(super) struct Dispatcher {
    rt: Runtime,
    env: Env,
    control: Arc<dyn SourceControl>,
    tracker: OffsetTracker,
    lanes: KeyQueues<Job>,
    tasks: JoinSet<(u64, Tp, Done)>,
    per_tp: HashMap<Tp, PartitionState>,
    generation: u64,
    flow: flow::Flow,
    batch: batching::OpenBatch,
    circuit: DlqCircuit,
    summary: RunSummary,
    revoke: Option<PendingRevoke>,
    stop: Option<TokioInstant>,
    input_ended: bool,
    fatal: Option<RunError>,
}

/// What the dispatcher knows of one partition.
struct PartitionState {
    generation: u64,
    running: usize,
    cancel: CancellationToken,
}

impl Dispatcher {
    pub(super) fn new(rt: Runtime, control: Arc<dyn SourceControl>) -> Self {
        let env = Env {
            flavor: rt.flavor,
            store: rt.store.clone(),
            timeout: rt.config.handler_timeout,
            live: rt.config.live.clone(),
        };
        let dlq = &rt.config.dlq;
        let circuit = DlqCircuit::new(dlq.window, dlq.min_events, dlq.max_ratio);
        let flow = flow::Flow::new(rt.config.max_in_flight, rt.flavor);
        Self {
            env,
            control,
            tracker: OffsetTracker::default(),
            lanes: KeyQueues::default(),
            tasks: JoinSet::new(),
            per_tp: HashMap::new(),
            generation: 0,
            flow,
            batch: batching::OpenBatch::default(),
            circuit,
            summary: RunSummary::default(),
            revoke: None,
            stop: None,
            input_ended: false,
            fatal: None,
            rt,
        }
    }

    pub(super) async fn run(
        mut self,
        mut rx: SourceRx,
        shutdown: CancellationToken,
    ) -> Result<RunSummary, RunError> {
        let mut maintenance = tokio::time::interval(MAINTENANCE_CHECK);
        maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if self.finished() {
                break;
            }
            let accepting = self.stop.is_none()
                && !self.input_ended
                && !self.flow.stopped()
                && !self.batch.blocked();
            let stop_at = self.stop;
            let revoke_at = self.revoke.as_ref().map(|r| r.deadline);
            let batch_at = self.batch.deadline();
            tokio::select! {
                biased;
                Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => match done {
                    Ok((generation, tp, done)) => self.on_done(generation, tp, done),
                    Err(err) => self.fail(RunError::Internal(format!("task failed: {err}"))),
                },
                Some(msg) = rx.ctrl.recv() => {
                    if let SourceMsg::Revoke { tps, .. } = &msg {
                        self.drop_stale(&mut rx.data, tps);
                    }
                    self.on_source(msg)
                }
                _ = shutdown.cancelled(), if self.stop.is_none() => self.begin_stop(),
                _ = sleep_until(stop_at.unwrap_or_else(far)), if stop_at.is_some() => {
                    events::GraceExpired::new(self.rt.flavor, self.tasks.len()).emit();
                    self.tasks.abort_all();
                    break;
                }
                _ = sleep_until(revoke_at.unwrap_or_else(far)), if revoke_at.is_some() => self.answer_revoke(true),
                _ = sleep_until(batch_at.unwrap_or_else(far)), if batch_at.is_some() => self.flush_batch(),
                _ = maintenance.tick(), if self.rt.config.live.is_some() => self.check_maintenance(),
                msg = rx.data.recv(), if accepting => match msg {
                    Some(msg) => self.on_source(msg),
                    None => self.on_source(SourceMsg::End),
                },
            }
        }
        rx.data.close();
        let control = self.control.clone();
        let _ = tokio::task::spawn_blocking(move || control.close()).await;
        match self.fatal {
            Some(err) => Err(err),
            None => Ok(self.summary),
        }
    }

    /// Before a revoke: the poll thread is blocked in the rebalance callback,
    /// so the data channel holds exactly the records fetched before it. Those
    /// of the revoked partitions are dropped (their new owner reads them from
    /// the committed offset); the others are taken in as usual.
    fn drop_stale(&mut self, data: &mut tokio::sync::mpsc::Receiver<SourceMsg>, revoked: &[Tp]) {
        let mut dropped = 0usize;
        while let Ok(msg) = data.try_recv() {
            match msg {
                SourceMsg::Record(r) if revoked.contains(&r.tp) => dropped += 1,
                other => self.on_source(other),
            }
        }
        if dropped > 0 {
            tracing::debug!(
                flavor = self.rt.flavor,
                dropped,
                "dropped fetched records of revoked partitions"
            );
        }
    }

    /// Pauses everything while a flavor-wide pause window is open.
    fn check_maintenance(&mut self) {
        let Some(live) = &self.rt.config.live else {
            return;
        };
        let on = live.gate().paused().is_some();
        if on != self.flow.stopped_for_maintenance() {
            // One named telemetry event: its log line and its gauge together.
            crate::telemetry::maintenance_window(self.rt.flavor, on);
        }
        self.flow.set_maintenance(on, &*self.control);
    }

    /// Stopping and nothing runs, or the input ended and everything completed.
    fn finished(&self) -> bool {
        let idle = self.tasks.is_empty();
        (self.stop.is_some() && idle)
            || (self.input_ended
                && idle
                && self.batch.is_empty()
                && self.tracker.total_pending() == 0)
    }

    fn on_source(&mut self, msg: SourceMsg) {
        match msg {
            SourceMsg::Record(record) => self.on_record(record),
            SourceMsg::Revoke { tps, reply } => self.on_revoke(tps, reply),
            SourceMsg::End => {
                self.input_ended = true;
                self.flush_batch();
            }
            SourceMsg::Failed(why) => self.fail(RunError::Source(why)),
        }
    }

    fn on_record(&mut self, record: Record) {
        let tp = record.tp.clone();
        events::RecordReceived::new(self.rt.flavor, &tp).emit();
        if !self.per_tp.contains_key(&tp) {
            self.generation += 1;
            let state = PartitionState {
                generation: self.generation,
                running: 0,
                cancel: CancellationToken::new(),
            };
            self.per_tp.insert(tp.clone(), state);
        }
        self.tracker.begin(&tp, record.offset);
        self.flow
            .taken(self.tracker.total_pending(), &*self.control);
        let decoded = decode_record(&record);
        let span = trace::event_span(self.rt.flavor, &record, decoded.as_ref().ok());
        let event = match decoded {
            Ok(event) => event,
            Err(err) => {
                events::RecordInvalid::new(self.rt.flavor, &record, &err).emit();
                let dead = DeadJob {
                    record,
                    lane: None,
                    event_id: String::new(),
                    span,
                };
                return self.dead_letter(dead, DlqReason::Invalid, err, 0);
            }
        };
        if !self.rt.processor.wants(&event.event_type) {
            return self.complete(&tp, record.offset, Some(SkipReason::NotInterested), &span);
        }
        let key = match self.rt.config.ordering {
            Ordering::Partition => Bytes::new(),
            Ordering::Key => record
                .key
                .clone()
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| Bytes::from(event.case_id.clone())),
        };
        let job = Job {
            record,
            event: Arc::new(event),
            key,
            attempts: 0,
            first_try: None,
            waiting: false,
            span,
        };
        match &self.rt.processor {
            Processor::Single(_) => {
                let lane = (tp, job.key.clone());
                if let Some(job) = self.lanes.offer(lane, job) {
                    self.start(job, None);
                }
            }
            Processor::Batch(_) => {
                if self.batch.push(job, &self.rt.config.batch) {
                    self.flush_batch();
                }
            }
        }
    }

    /// Starts an attempt, after `delay` when it is a retry.
    fn start(&mut self, mut job: Job, delay: Option<Duration>) {
        let Processor::Single(handler) = self.rt.processor.clone() else {
            return;
        };
        job.first_try.get_or_insert_with(Instant::now);
        let (generation, cancel) = self.enter(&job.record.tp);
        let (env, tp) = (self.env.clone(), job.record.tp.clone());
        let span = job.span.clone();
        let task = async move {
            if let Some(delay) = delay {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = cancel.cancelled() => return (generation, tp, Done::Single(job, Attempt::Cancelled)),
                }
            }
            let flavor = env.flavor;
            let call = attempt::single(env, handler, &job);
            let result = events::timed(flavor, Mode::Single, call).await;
            (generation, tp, Done::Single(job, result))
        };
        self.tasks.spawn(task.instrument(span));
    }

    /// Counts a task of `tp` as running; returns its generation and cancel token.
    fn enter(&mut self, tp: &Tp) -> (u64, CancellationToken) {
        match self.per_tp.get_mut(tp) {
            Some(state) => {
                state.running += 1;
                (state.generation, state.cancel.clone())
            }
            None => (0, CancellationToken::new()),
        }
    }

    fn on_done(&mut self, generation: u64, tp: Tp, done: Done) {
        if matches!(done, Done::Batch(..)) {
            self.batch.finished_one();
        }
        let current = match self.per_tp.get_mut(&tp) {
            Some(state) if state.generation == generation => {
                state.running -= 1;
                true
            }
            _ => false,
        };
        if !current {
            // The partition was revoked while this ran; its new owner redoes it.
            return;
        }
        match done {
            Done::Single(job, result) => self.on_attempt(job, result),
            Done::Batch(jobs, results) => self.on_batch(jobs, results),
            Done::DeadLetter(dead, reason, result) => self.on_dead_lettered(dead, reason, result),
        }
        self.answer_revoke(false);
    }

    fn on_attempt(&mut self, mut job: Job, result: Attempt) {
        if std::mem::take(&mut job.waiting) {
            self.flow.backoff_ended(&job.record.tp, &*self.control);
        }
        if let Attempt::Deferred(after) = result {
            return self.wait_then_start(job, after);
        }
        job.attempts += 1;
        let resp = match result {
            Attempt::Cancelled | Attempt::Deferred(_) => return,
            Attempt::Panicked(message) => {
                return self.fail(RunError::HandlerPanicked {
                    tp: job.record.tp.clone(),
                    offset: job.record.offset,
                    event_id: job.event.event_id.clone(),
                    message,
                })
            }
            Attempt::Resp(resp) => resp,
        };
        match resp {
            HandleResp::Success => self.finish_job(job, None),
            HandleResp::Skip(reason) => self.finish_job(job, Some(reason)),
            HandleResp::Discard(err) => self.give_up(job, DlqReason::Discarded, err.message),
            HandleResp::Retry(err) => {
                let elapsed = job.first_try.map_or(Duration::ZERO, |t| t.elapsed());
                match self
                    .rt
                    .config
                    .retry_now()
                    .next_delay(job.attempts, elapsed, err.retry_after)
                {
                    Some(delay) => self.schedule_retry(job, delay, &err.message),
                    None => self.exhausted(job, err.message),
                }
            }
        }
    }

    fn schedule_retry(&mut self, job: Job, delay: Duration, error: &str) {
        events::RetryScheduled::new(self.rt.flavor, &job, delay, error).emit();
        self.summary.retries += 1;
        self.wait_then_start(job, delay);
    }

    /// Pauses the job's partition and starts the job again after `delay`.
    fn wait_then_start(&mut self, mut job: Job, delay: Duration) {
        self.flow.backoff_started(&job.record.tp, &*self.control);
        job.waiting = true;
        self.start(job, Some(delay));
    }

    fn exhausted(&mut self, job: Job, error: String) {
        match self.rt.config.retry_now().on_exhausted {
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
        let lane = (job.record.tp.clone(), job.key.clone());
        events::EndToEndLatency::new(self.rt.flavor, &job.event).emit();
        self.complete(&job.record.tp, job.record.offset, skip, &job.span);
        self.next_in_lane(&lane);
    }

    fn next_in_lane(&mut self, lane: &Lane) {
        if matches!(self.rt.processor, Processor::Single(_)) && self.stop.is_none() {
            if let Some(next) = self.lanes.finish(lane) {
                self.start(next, None);
            }
        }
    }

    fn give_up(&mut self, job: Job, reason: DlqReason, error: String) {
        let lane = matches!(self.rt.processor, Processor::Single(_))
            .then(|| (job.record.tp.clone(), job.key.clone()));
        let event_id = job.event.event_id.clone();
        let attempts = job.attempts;
        let dead = DeadJob {
            record: job.record,
            lane,
            event_id,
            span: job.span,
        };
        self.dead_letter(dead, reason, error, attempts);
    }

    fn dead_letter(&mut self, dead: DeadJob, reason: DlqReason, error: String, attempts: u32) {
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
        events::DeadLettering::new(&dead.record, &dead.event_id, &entry).emit();
        let (generation, _) = self.enter(&dead.record.tp);
        let tp = dead.record.tp.clone();
        let span = dead.span.clone();
        let task = async move {
            let result = sink.send(&dead.record, &entry).await;
            (generation, tp, Done::DeadLetter(dead, reason, result))
        };
        self.tasks.spawn(task.instrument(span));
    }

    fn on_dead_lettered(&mut self, dead: DeadJob, reason: DlqReason, result: Result<(), String>) {
        if let Err(error) = result {
            events::DeadLetterFailed::new(self.rt.flavor, &dead.record, reason, &error).emit();
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
        events::DeadLettered::new(self.rt.flavor, &dead.record, reason, &dead.span).emit();
        self.complete_offset(&dead.record.tp, dead.record.offset);
        if let Some(ratio) = self.circuit.note(true) {
            return self.fail(RunError::DlqCircuitOpen { ratio });
        }
        if let Some(lane) = dead.lane {
            self.next_in_lane(&lane);
        }
    }

    /// Counts a success (`None`) or a skip, and completes the offset.
    fn complete(&mut self, tp: &Tp, offset: i64, skip: Option<SkipReason>, span: &Span) {
        events::EventCompleted::new(self.rt.flavor, tp, offset, skip.as_ref(), span).emit();
        match skip {
            Some(reason) => *self.summary.skipped.entry(reason.to_string()).or_default() += 1,
            None => self.summary.succeeded += 1,
        }
        self.circuit.note(false);
        self.rt.progress.completed_one(false);
        self.complete_offset(tp, offset);
    }

    fn complete_offset(&mut self, tp: &Tp, offset: i64) {
        if let Some(mark) = self.tracker.complete(tp, offset) {
            self.control.store(tp, mark);
        }
        self.flow
            .released(self.tracker.total_pending(), &*self.control);
    }

    fn on_revoke(&mut self, tps: Vec<Tp>, reply: std::sync::mpsc::SyncSender<Vec<(Tp, i64)>>) {
        let dropped = self.lanes.drop_partitions(&tps) + self.batch.drop_partitions(&tps);
        for tp in &tps {
            if let Some(state) = self.per_tp.get(tp) {
                state.cancel.cancel();
            }
        }
        events::RevokeDraining::new(self.rt.flavor, &tps, dropped).emit();
        let deadline = TokioInstant::now() + self.rt.config.drain_timeout;
        self.revoke = Some(PendingRevoke {
            tps,
            reply,
            deadline,
        });
        self.answer_revoke(false);
    }

    /// Answers a pending revoke once its partitions are idle, or at the deadline.
    fn answer_revoke(&mut self, deadline_passed: bool) {
        let idle = |r: &PendingRevoke| {
            r.tps
                .iter()
                .all(|tp| self.per_tp.get(tp).is_none_or(|s| s.running == 0))
        };
        let Some(revoke) = self.revoke.take_if(|r| deadline_passed || idle(r)) else {
            return;
        };
        let marks = self.tracker.remove(&revoke.tps);
        for tp in &revoke.tps {
            self.per_tp.remove(tp);
            self.flow.forget(tp);
        }
        self.flow
            .released(self.tracker.total_pending(), &*self.control);
        let _ = revoke.reply.send(marks);
    }

    fn begin_stop(&mut self) {
        if self.stop.is_some() {
            return;
        }
        let dropped = self.lanes.clear_waiting() + self.batch.clear();
        for state in self.per_tp.values() {
            state.cancel.cancel();
        }
        events::Stopping::new(self.rt.flavor, self.tasks.len(), dropped).emit();
        self.stop = Some(TokioInstant::now() + self.rt.config.shutdown_grace);
    }

    fn fail(&mut self, err: RunError) {
        events::RunFailed::new(self.rt.flavor, &err).emit();
        if self.fatal.is_none() {
            self.fatal = Some(err);
        }
        self.begin_stop();
    }
}

/// How often open maintenance windows are looked at.
const MAINTENANCE_CHECK: Duration = Duration::from_millis(250);

fn far() -> TokioInstant {
    TokioInstant::now() + Duration::from_secs(86_400 * 365)
}
