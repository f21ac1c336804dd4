//! The dispatcher: one task that owns all scheduling state.
//!
//! It takes prepared chunks from the intake stage, runs attempts as futures
//! it polls itself (no task per event; batch attempts, which do CPU work, get
//! a task each), and reacts to their completions. Nothing here blocks:
//! backoffs are sleeping futures, and the partitions they belong to are
//! paused at the source meanwhile. Offsets are stored, credit given back and
//! metrics flushed once per turn of the loop, not per event.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use tokio::time::{sleep_until, Instant as TokioInstant};
use tokio_util::sync::CancellationToken;

use super::attempt::{Attempt, Env, FireJob, Job, Work};
use super::dlq::{DlqCircuit, DlqReason};
use super::intake::{self, Input, Prepared, Taken};
use super::offsets::OffsetTracker;
use super::scheduler::KeyQueues;
use super::summary::{RunError, RunSummary};
use super::Runtime;
use crate::handler::{Processor, SkipReason};
use crate::source::record::Tp;
use crate::source::{Credit, SourceControl, SourceRx};
use crate::telemetry::events::{self, Mode, Tally};
use crate::telemetry::trace;

mod batching;

pub(super) use batching::MAX_RUNNING_BATCHES;
mod flow;
mod single;
mod timers;

use single::DeadJob;

/// A finished future.
enum Done {
    /// One attempt of one event.
    Single(Job, Attempt),
    /// A single event's backoff (or deferral) ended; `true` if cancelled.
    Waited(Job, bool),
    /// One attempt of a batch.
    Batch(Vec<Job>, Vec<Attempt>),
    /// One attempt of a timer's firing (and whether the flavor committed it).
    Fired(Box<FireJob>, Attempt, bool),
    /// A dead-letter write.
    DeadLetter(DeadJob, DlqReason, Result<(), String>),
    /// A batch task died outside the handler's panic guard.
    Lost(String),
}

/// A running attempt or dead-letter write: its partition's generation, the
/// partition, and what came of it.
type Task = BoxFuture<'static, (u64, Tp, Done)>;

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
    credit: Arc<Credit>,
    tracker: OffsetTracker,
    lanes: KeyQueues<Work>,
    /// Work free to start (its lane is its own) waiting for a running slot.
    ready: VecDeque<Work>,
    /// Single-event attempts running (bounded by `max_in_flight`).
    running: usize,
    tasks: FuturesUnordered<Task>,
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
    tick: TickState,
    tally: Tally,
    spans: bool,
    timers: timers::Timers,
}

/// What one turn of the loop owes the source and the registry.
#[derive(Default)]
struct TickState {
    marks: HashMap<Tp, i64>,
    records: usize,
    bytes: usize,
}

/// What the dispatcher knows of one partition.
struct PartitionState {
    generation: u64,
    running: usize,
    cancel: CancellationToken,
}

impl Dispatcher {
    pub(super) fn new(rt: Runtime, control: Arc<dyn SourceControl>, credit: Arc<Credit>) -> Self {
        let mode = match rt.processor {
            Processor::Single(_) => Mode::Single,
            Processor::Batch(_) => Mode::Batch,
        };
        let tally = Tally::new(rt.flavor, mode);
        let env = Env {
            flavor: rt.flavor,
            store: rt.store.clone(),
            timeout: rt.config.handler_timeout,
            live: rt.config.live.clone(),
            timer: tally.handler_timer(),
        };
        let dlq = &rt.config.dlq;
        let circuit = DlqCircuit::new(dlq.window, dlq.min_events, dlq.max_ratio);
        let mut batch = batching::OpenBatch::default();
        if let Processor::Batch(handler) = &rt.processor {
            batch.set_slots(handler.max_running());
        }
        Self {
            env,
            control,
            credit,
            tracker: OffsetTracker::default(),
            lanes: KeyQueues::default(),
            ready: VecDeque::new(),
            running: 0,
            tasks: FuturesUnordered::new(),
            per_tp: HashMap::default(),
            generation: 0,
            flow: flow::Flow::new(rt.flavor),
            batch,
            circuit,
            summary: RunSummary::default(),
            revoke: None,
            stop: None,
            input_ended: false,
            fatal: None,
            tick: TickState::default(),
            tally,
            spans: crate::telemetry::exporting(),
            timers: timers::Timers::new(
                rt.flavor,
                rt.config.timers.clone(),
                rt.store.as_ref().map(|s| s.pool().clone()),
            ),
            rt,
        }
    }

    pub(super) async fn run(
        mut self,
        rx: SourceRx,
        shutdown: CancellationToken,
    ) -> Result<RunSummary, RunError> {
        let mut input = intake::spawn(rx.data, self.rt.consumes);
        let mut maintenance = tokio::time::interval(MAINTENANCE_CHECK);
        maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if self.finished() {
                break;
            }
            let reading = self.stop.is_none() && !self.input_ended;
            let stop_at = self.stop;
            let revoke_at = self.revoke.as_ref().map(|r| r.deadline);
            let batch_at = self.batch.deadline();
            let poll_at = self.timer_poll_at();
            tokio::select! {
                biased;
                Some((generation, tp, done)) = self.tasks.next(), if !self.tasks.is_empty() => {
                    self.on_done(generation, tp, done)
                }
                _ = shutdown.cancelled(), if self.stop.is_none() => self.begin_stop(),
                _ = sleep_until(stop_at.unwrap_or_else(far)), if stop_at.is_some() => {
                    events::GraceExpired::new(self.rt.flavor, self.tasks.len()).emit();
                    break;
                }
                _ = sleep_until(revoke_at.unwrap_or_else(far)), if revoke_at.is_some() => self.answer_revoke(true),
                _ = sleep_until(batch_at.unwrap_or_else(far)), if batch_at.is_some() => self.flush_batch(),
                Some(side) = self.timers.side.next(), if !self.timers.side.is_empty() => self.on_side(side),
                _ = sleep_until(poll_at.unwrap_or_else(far)), if poll_at.is_some() => self.poll_timers(),
                _ = maintenance.tick(), if self.rt.config.live.is_some() => self.check_maintenance(),
                msg = input.recv(), if reading => match msg {
                    Some(Input::Records(chunk)) => self.on_records(chunk),
                    Some(Input::Revoke { tps, reply }) => self.on_revoke(tps, reply),
                    Some(Input::End) | None => self.on_end(),
                    Some(Input::Failed(why)) => self.fail(RunError::Source(why)),
                },
            }
            self.drain_done();
            self.end_turn();
        }
        input.close();
        self.end_turn();
        let control = self.control.clone();
        let _ = tokio::task::spawn_blocking(move || control.close()).await;
        match self.fatal {
            Some(err) => Err(err),
            None => Ok(self.summary),
        }
    }

    /// Handles every completion that is ready now, without waiting.
    fn drain_done(&mut self) {
        for _ in 0..MAX_DONE_PER_TURN {
            match self.tasks.next().now_or_never() {
                Some(Some((generation, tp, done))) => self.on_done(generation, tp, done),
                _ => return,
            }
        }
    }

    /// Once per turn: store the moved watermarks, give credit back, flush metrics.
    fn end_turn(&mut self) {
        self.mark_fired();
        if !self.tick.marks.is_empty() {
            let marks: Vec<(Tp, i64)> = self.tick.marks.drain().collect();
            self.control.store(&marks);
        }
        let (records, bytes) = (
            std::mem::take(&mut self.tick.records),
            std::mem::take(&mut self.tick.bytes),
        );
        if records > 0 || bytes > 0 {
            self.credit.give_back(records, bytes);
            self.tally.in_flight(self.tracker.total_pending());
            self.tally.flush();
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
        let idle = self.tasks.is_empty() && !self.timers.busy();
        (self.stop.is_some() && idle)
            || (self.input_ended
                && idle
                && self.batch.is_empty()
                && self.tracker.total_pending() == 0)
    }

    fn on_end(&mut self) {
        self.input_ended = true;
        self.flush_batch();
    }

    fn on_records(&mut self, chunk: Vec<Taken>) {
        if let Some(first) = chunk.first() {
            let topic = first.record.tp.topic.clone();
            self.tally.received(&topic, chunk.len());
        }
        for taken in chunk {
            self.on_record(taken);
        }
        self.fill_slots();
    }

    fn on_record(&mut self, Taken { record, event }: Taken) {
        if self.stop.is_some() {
            // Stopping: nothing new starts; the record stays uncommitted.
            return;
        }
        let tp = record.tp.clone();
        self.track_tp(&tp);
        if !self.tracker.begin(&tp, record.offset, record.size()) {
            // Taken in twice (a redelivery while the first is in flight):
            // the first copy settles the offset.
            self.tick.records += 1;
            self.tick.bytes += record.size();
            return;
        }
        let span = if self.spans {
            let decoded = match &event {
                Prepared::Event(ev) => Some(ev.envelope()),
                _ => None,
            };
            trace::event_span(self.rt.flavor, record.at(), &record.headers, decoded)
        } else {
            tracing::Span::none()
        };
        let event = match event {
            Prepared::Event(event) => event,
            Prepared::Skipped(skip) => {
                return self.complete(&tp, record.offset, Some(skip), &span);
            }
            Prepared::Invalid(err) => {
                events::RecordInvalid::new(self.rt.flavor, record.at(), &err).emit();
                let dead = DeadJob {
                    record,
                    lane: None,
                    event_id: String::new(),
                    span,
                };
                return self.dead_letter(dead, DlqReason::Invalid, err, 0);
            }
        };
        let job = Job::new(record, event, self.rt.config.ordering, span);
        match &self.rt.processor {
            Processor::Single(_) => {
                let lane = (tp, job.key.clone());
                if let Some(work) = self.lanes.offer(lane, Work::Event(job)) {
                    self.ready.push_back(work);
                }
            }
            Processor::Batch(_) => {
                if self.batch.push(job, &self.rt.config.batch) {
                    self.flush_full();
                }
            }
        }
    }

    /// Starts tracking a partition the first time work of it arrives.
    fn track_tp(&mut self, tp: &Tp) {
        if !self.per_tp.contains_key(tp) {
            self.generation += 1;
            let state = PartitionState {
                generation: self.generation,
                running: 0,
                cancel: CancellationToken::new(),
            };
            self.per_tp.insert(tp.clone(), state);
        }
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
        let batch_ended = matches!(done, Done::Batch(..));
        match &done {
            Done::Batch(jobs, _) => self.batch.finished_one(Some(jobs)),
            Done::Lost(_) => self.batch.finished_one(None),
            Done::Single(..) | Done::Fired(..) => self.running -= 1,
            Done::DeadLetter(..) | Done::Waited(..) => {}
        }
        let current = match self.per_tp.get_mut(&tp) {
            Some(state) if state.generation == generation => {
                state.running -= 1;
                true
            }
            _ => false,
        };
        if let Done::Lost(why) = done {
            return self.fail(RunError::Internal(why));
        }
        if current {
            match done {
                Done::Single(job, result) => self.on_attempt(job, result),
                Done::Waited(job, cancelled) => self.on_waited(job, cancelled),
                Done::Batch(jobs, results) => self.on_batch(jobs, results),
                Done::Fired(job, result, committed) => self.on_fired(job, result, committed),
                Done::DeadLetter(dead, reason, result) => {
                    self.on_dead_lettered(dead, reason, result)
                }
                Done::Lost(_) => {}
            }
            self.answer_revoke(false);
        } else if let Done::Fired(job, result, committed) = done {
            self.fired_after_revoke(job, result, committed);
        }
        if batch_ended {
            self.flush_batch(); // jobs waiting for its keys may go now
        }
        // Otherwise the partition was revoked while this ran; its new owner redoes it.
        self.fill_slots();
    }

    /// A final outcome without a dead letter: success (`None`) or a skip.
    fn complete(&mut self, tp: &Tp, offset: i64, skip: Option<SkipReason>, span: &tracing::Span) {
        let label = skip.as_ref().map(SkipReason::label);
        let at = crate::telemetry::At::new(&tp.topic, tp.partition, offset);
        events::EventCompleted::new(self.rt.flavor, at, label.as_deref(), span).emit();
        self.tally.completed(label.as_deref());
        match skip {
            Some(reason) => *self.summary.skipped.entry(reason.to_string()).or_default() += 1,
            None => self.summary.succeeded += 1,
        }
        self.circuit.note(false);
        self.rt.progress.completed_one(false);
        self.complete_offset(tp, offset);
    }

    fn complete_offset(&mut self, tp: &Tp, offset: i64) {
        let done = self.tracker.complete(tp, offset);
        if let Some(mark) = done.mark {
            self.tick.marks.insert(tp.clone(), mark);
        }
        self.tick.records += done.records;
        self.tick.bytes += done.bytes;
    }

    fn on_revoke(&mut self, tps: Vec<Tp>, reply: std::sync::mpsc::SyncSender<Vec<(Tp, i64)>>) {
        let lanes = self.lanes.drop_partitions(&tps);
        let ready = drop_ready(&mut self.ready, &tps);
        let dropped = self.dropped(lanes) + self.dropped(ready) + self.batch.drop_partitions(&tps);
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
        let (marks, records, bytes) = self.tracker.remove(&revoke.tps);
        self.tick.records += records;
        self.tick.bytes += bytes;
        for tp in &revoke.tps {
            self.per_tp.remove(tp);
            self.tick.marks.remove(tp);
            self.flow.forget(tp);
        }
        let _ = revoke.reply.send(marks);
    }

    fn begin_stop(&mut self) {
        if self.stop.is_some() {
            return;
        }
        let lanes = self.lanes.clear_waiting();
        let ready: Vec<Work> = self.ready.drain(..).collect();
        let dropped = self.dropped(lanes) + self.dropped(ready) + self.batch.clear();
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

/// Takes the ready work of revoked partitions out.
fn drop_ready(ready: &mut VecDeque<Work>, tps: &[Tp]) -> Vec<Work> {
    let mut gone = Vec::new();
    for work in std::mem::take(ready) {
        match tps.contains(work.tp()) {
            true => gone.push(work),
            false => ready.push_back(work),
        }
    }
    gone
}

/// How often open maintenance windows are looked at.
const MAINTENANCE_CHECK: Duration = Duration::from_millis(250);
/// Completions handled in one turn before offsets are stored.
const MAX_DONE_PER_TURN: usize = 4096;

fn far() -> TokioInstant {
    TokioInstant::now() + Duration::from_secs(86_400 * 365)
}
