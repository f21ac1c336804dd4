//! One attempt at one event (or one batch): dedup, handler under a timeout,
//! panic capture, ledger. Runs inside a task; decides nothing about retries.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::FutureExt;

use super::live::Live;
use super::policy::Ordering;
use crate::event::{CaseEvent, Event};
use crate::flavors::kit::timers::{Firing, Timer};
use crate::handler::{BatchHandler, Ctx, HandleResp, Handler, HandlerError, SkipReason};
use crate::resilience::breaker::{self, Permit};
use crate::resilience::maintenance::Decision;
use crate::source::record::{Record, Tp};
use crate::store::Store;
use crate::telemetry::events::HandlerTimer;

/// An event on its way through the runtime.
#[derive(Debug)]
pub struct Job {
    /// The raw record, kept for the DLQ until the offset commits.
    pub record: Record,
    /// The decoded event.
    pub event: Arc<Event>,
    /// The ordering key.
    pub key: Bytes,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the first attempt started (tokio time, so that a paused clock
    /// drives the retry budget's elapsed time too).
    pub first_try: Option<tokio::time::Instant>,
    /// Whether it waits out a delay (retry backoff, breaker, maintenance);
    /// its partition stays paused meanwhile.
    pub waiting: bool,
    /// The event's span, from read to final outcome.
    pub span: tracing::Span,
}

impl Job {
    /// A job for a decoded event; its ordering key is the record key (the
    /// case id when the record has none), or nothing under partition ordering.
    pub fn new(record: Record, event: Arc<Event>, ordering: Ordering, span: tracing::Span) -> Self {
        let key = match ordering {
            Ordering::Partition => Bytes::new(),
            Ordering::Key => record
                .key
                .clone()
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| Bytes::from(event.case_id.clone())),
        };
        Self {
            record,
            event,
            key,
            attempts: 0,
            first_try: None,
            waiting: false,
            span,
        }
    }
}

/// A durable timer's firing on its way through the runtime: it runs on the
/// lane of its case (the stored partition, and the case key as ordering key).
#[derive(Debug)]
pub struct FireJob {
    /// The timer as claimed.
    pub timer: Timer,
    /// Its partition (stored when it was scheduled).
    pub tp: Tp,
    /// Its ordering key: the case key, or nothing under partition ordering.
    pub key: Bytes,
}

impl FireJob {
    /// The firing of a claimed timer, on its case's lane under `ordering`.
    pub fn new(timer: Timer, ordering: Ordering) -> Self {
        let tp = Tp::new(&timer.topic, timer.partition);
        let key = match ordering {
            Ordering::Partition => Bytes::new(),
            Ordering::Key => Bytes::from(timer.case_key.clone()),
        };
        Self { timer, tp, key }
    }
}

/// What a lane runs: an event, or a timer's firing. (The event is not
/// boxed: it is the hot path; a firing is.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Work {
    /// An event.
    Event(Job),
    /// A timer's firing.
    Fire(Box<FireJob>),
}

impl Work {
    /// The partition it belongs to.
    pub fn tp(&self) -> &Tp {
        match self {
            Work::Event(job) => &job.record.tp,
            Work::Fire(job) => &job.tp,
        }
    }
}

/// What one attempt came to.
#[derive(Debug)]
pub enum Attempt {
    /// A handler answer (retries are decided by the runtime).
    Resp(HandleResp),
    /// The handler panicked: a crash, never a hang.
    Panicked(String),
    /// The attempt was cancelled before it ran (partition revoked or stopping).
    Cancelled,
    /// Not attempted: a maintenance window holds it or a dependency's breaker
    /// is open. Ask again after this long; no attempt is counted.
    Deferred(Duration),
}

/// Shared by every attempt of one run.
#[derive(Clone)]
pub struct Env {
    /// The flavor name.
    pub flavor: &'static str,
    /// The processed-events ledger, when a store is configured.
    pub store: Option<Store>,
    /// Longest one handler call may take.
    pub timeout: Duration,
    /// Flags, maintenance windows and dependencies in force.
    pub live: Option<Arc<Live>>,
    /// The handler-latency histogram, resolved once per run.
    pub timer: HandlerTimer,
}

impl Env {
    /// A context for one attempt, with the flags in force.
    fn ctx(&self, attempt: u32) -> Ctx {
        let ctx = Ctx::new(self.flavor, self.store.clone(), attempt);
        match &self.live {
            Some(live) => ctx.with_flags(live.flags()),
            None => ctx,
        }
    }

    /// Whether the event may be attempted now: maintenance windows first,
    /// then the breakers of the flavor's dependencies.
    fn gate(&self, event: &CaseEvent) -> Option<Attempt> {
        let live = self.live.as_ref()?;
        match live.gate().check(event) {
            Decision::Proceed => {}
            Decision::Skip(window) => {
                return Some(Attempt::Resp(HandleResp::Skip(SkipReason::Maintenance(
                    window,
                ))))
            }
            Decision::Hold(after) => return Some(Attempt::Deferred(after)),
        }
        self.breakers_hold()
    }

    /// Whether an open breaker of one of the flavor's dependencies holds
    /// every attempt now.
    fn breakers_hold(&self) -> Option<Attempt> {
        let live = self.live.as_ref()?;
        live.dependencies()
            .iter()
            .find_map(|dep| match breaker::registry().permit(dep) {
                Permit::Allowed => None,
                Permit::Rejected(after) => {
                    Some(Attempt::Deferred(after.max(Duration::from_millis(50))))
                }
            })
    }
}

/// Runs one attempt of a timer's firing: the flavor's `fire` under the
/// handler timeout. Also says whether the flavor committed the firing
/// itself (`Ctx::begin_firing` / `apply_firing`); the runtime marks the
/// others fired in bulk.
pub async fn fire(env: Env, handler: Arc<dyn Handler>, firing: &Firing) -> (Attempt, bool) {
    // A flavor-wide pause window holds firings too (re-checked after a second).
    let paused = env
        .live
        .as_ref()
        .is_some_and(|l| l.gate().paused().is_some());
    let held = paused.then(|| Attempt::Deferred(Duration::from_secs(1)));
    if let Some(held) = held.or_else(|| env.breakers_hold()) {
        return (held, false);
    }
    let attempts = u32::try_from(firing.timer.attempts).unwrap_or(u32::MAX);
    let ctx = env.ctx(attempts.saturating_add(1));
    let started = Instant::now();
    let call = AssertUnwindSafe(handler.fire(&ctx, firing)).catch_unwind();
    let resp = match tokio::time::timeout(env.timeout, call).await {
        Err(_) => HandleResp::Retry(timed_out(env.timeout)),
        Ok(Err(panic)) => return (Attempt::Panicked(panic_message(panic)), false),
        Ok(Ok(resp)) => resp,
    };
    env.timer.observe(started.elapsed());
    (Attempt::Resp(resp), ctx.ledger_written())
}

/// Runs one attempt of a single-event handler.
pub async fn single(env: Env, handler: Arc<dyn Handler>, job: &Job) -> Attempt {
    if let Some(held) = env.gate(&job.event) {
        return held;
    }
    let started = Instant::now();
    let attempt = single_call(&env, handler, job).await;
    env.timer.observe(started.elapsed());
    attempt
}

async fn single_call(env: &Env, handler: Arc<dyn Handler>, job: &Job) -> Attempt {
    let ctx = env.ctx(job.attempts + 1);
    if let Some(store) = env.store.as_ref().filter(|_| !handler.claims_ledger()) {
        match store.seen(env.flavor, &job.event.event_id).await {
            Ok(true) => return Attempt::Resp(HandleResp::Skip(SkipReason::Duplicate)),
            Ok(false) => {}
            Err(err) => return Attempt::Resp(HandleResp::Retry(err.into())),
        }
    }
    let call = AssertUnwindSafe(handler.handle(&ctx, &job.event)).catch_unwind();
    let resp = match tokio::time::timeout(env.timeout, call).await {
        Err(_) => HandleResp::Retry(timed_out(env.timeout)),
        Ok(Err(panic)) => return Attempt::Panicked(panic_message(panic)),
        Ok(Ok(resp)) => resp,
    };
    Attempt::Resp(finish(env, &ctx, &job.event.event_id, resp).await)
}

/// Runs one attempt of a batch handler; one answer per job, in order.
pub async fn batch(env: Env, handler: Arc<dyn BatchHandler>, jobs: &[Job]) -> Vec<Attempt> {
    let attempt = jobs.iter().map(|j| j.attempts).max().unwrap_or(0) + 1;
    let ctx = env.ctx(attempt);
    let mut out: Vec<Option<Attempt>> = jobs.iter().map(|_| None).collect();
    let mut open = Vec::with_capacity(jobs.len());
    for (i, job) in jobs.iter().enumerate() {
        match env.gate(&job.event) {
            Some(held) => out[i] = Some(held),
            None => open.push(i),
        }
    }
    let todo = match unseen(&env, jobs, &open, handler.claims_ledger()).await {
        Ok(todo) => todo,
        Err(err) => {
            let msg = err.message;
            open.iter().for_each(|&i| {
                out[i] = Some(Attempt::Resp(HandleResp::Retry(HandlerError::transient(
                    &msg,
                ))))
            });
            Vec::new()
        }
    };
    for &i in open.iter().filter(|i| !todo.contains(i)) {
        out[i] = out[i]
            .take()
            .or(Some(Attempt::Resp(HandleResp::Skip(SkipReason::Duplicate))));
    }
    if !todo.is_empty() {
        let started = Instant::now();
        let answers = call_batch(&env, &ctx, handler, jobs, &todo).await;
        env.timer.observe(started.elapsed());
        for (&i, answer) in todo.iter().zip(answers) {
            out[i] = Some(answer);
        }
    }
    out.into_iter()
        .map(|a| a.unwrap_or(Attempt::Cancelled))
        .collect()
}

/// The indexes among `open` whose events the ledger has not seen (one
/// query; none when the handler claims its ledger rows itself).
async fn unseen(
    env: &Env,
    jobs: &[Job],
    open: &[usize],
    claims_ledger: bool,
) -> Result<Vec<usize>, HandlerError> {
    let Some(store) = env.store.as_ref().filter(|_| !claims_ledger) else {
        return Ok(open.to_vec());
    };
    let ids: Vec<&str> = open
        .iter()
        .map(|&i| jobs[i].event.event_id.as_str())
        .collect();
    let seen = store.seen_many(env.flavor, &ids).await?;
    Ok(open
        .iter()
        .copied()
        .filter(|&i| !seen.contains(&jobs[i].event.event_id))
        .collect())
}

/// Calls the batch handler on `todo` and records the completed events in
/// the ledger in one statement.
async fn call_batch(
    env: &Env,
    ctx: &Ctx,
    handler: Arc<dyn BatchHandler>,
    jobs: &[Job],
    todo: &[usize],
) -> Vec<Attempt> {
    let events: Vec<&Event> = todo.iter().map(|&i| jobs[i].event.as_ref()).collect();
    let call = AssertUnwindSafe(handler.handle_batch(ctx, &events)).catch_unwind();
    let resps = match tokio::time::timeout(env.timeout, call).await {
        Err(_) => {
            return todo
                .iter()
                .map(|_| Attempt::Resp(HandleResp::Retry(timed_out(env.timeout))))
                .collect()
        }
        Ok(Err(panic)) => {
            let msg = panic_message(panic);
            return todo
                .iter()
                .map(|_| Attempt::Panicked(msg.clone()))
                .collect();
        }
        Ok(Ok(resps)) if resps.len() != todo.len() => {
            let msg = format!(
                "batch handler answered {} outcomes for {} events",
                resps.len(),
                todo.len()
            );
            return todo
                .iter()
                .map(|_| Attempt::Panicked(msg.clone()))
                .collect();
        }
        Ok(Ok(resps)) => resps,
    };
    let done: Vec<&str> = todo
        .iter()
        .zip(&resps)
        .filter(|(_, r)| matches!(r, HandleResp::Success | HandleResp::Skip(_)))
        .map(|(&i, _)| jobs[i].event.event_id.as_str())
        .collect();
    let recorded = match (&env.store, done.is_empty() || handler.claims_ledger()) {
        (Some(store), false) => store
            .record_many(env.flavor, &done)
            .await
            .map_err(HandlerError::from),
        _ => Ok(()),
    };
    resps
        .into_iter()
        .map(|resp| match (&recorded, resp) {
            // The effects are idempotent by event id: retrying re-sends them
            // and writes the ledger rows this time.
            (Err(err), HandleResp::Success | HandleResp::Skip(_)) => {
                Attempt::Resp(HandleResp::Retry(HandlerError::transient(&err.message)))
            }
            (_, resp) => Attempt::Resp(resp),
        })
        .collect()
}

/// Writes the ledger row after a completed event, unless the handler did so in
/// its own transaction. A failure here is retried: the handler's effects are
/// idempotent by event id, so the retry is safe and the row gets written.
async fn finish(env: &Env, ctx: &Ctx, event_id: &str, resp: HandleResp) -> HandleResp {
    let completes = matches!(resp, HandleResp::Success | HandleResp::Skip(_));
    let duplicate = matches!(resp, HandleResp::Skip(SkipReason::Duplicate));
    match &env.store {
        Some(store) if completes && !duplicate && !ctx.ledger_written() => {
            match store.record(env.flavor, event_id).await {
                Ok(()) => resp,
                Err(err) => HandleResp::Retry(err.into()),
            }
        }
        _ => resp,
    }
}

fn timed_out(after: Duration) -> HandlerError {
    HandlerError::transient(format!("handler timed out after {} ms", after.as_millis()))
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "handler panicked".into())
}
