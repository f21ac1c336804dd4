//! Scripted handlers: the test says what each attempt at each event answers
//! and how long it works; the handler notes when each attempt started and
//! ended (tokio time), so a paused clock makes every timing exact.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::event::{CaseEvent, Event};
use crate::handler::{BatchHandler, Ctx, HandleResp, Handler, HandlerError, SkipReason};

/// What one attempt answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Answer {
    Success,
    Skip,
    /// A transient failure, with an optional `Retry-After`.
    Retry(Option<Duration>),
    /// Not judged (a 429 or 503), with an optional `Retry-After`.
    Defer(Option<Duration>),
    Discard,
}

/// One attempt: how long the handler works, then what it answers.
#[derive(Debug, Clone, Copy)]
pub(super) struct Step {
    pub work: Duration,
    pub answer: Answer,
}

/// An immediate answer.
pub(super) fn now(answer: Answer) -> Step {
    Step {
        work: Duration::ZERO,
        answer,
    }
}

/// A success after `work`.
pub(super) fn slow(work: Duration) -> Step {
    Step {
        work,
        answer: Answer::Success,
    }
}

/// The steps of each event id, one per attempt (the last one repeats);
/// events not named succeed at once.
#[derive(Debug, Clone)]
pub(super) struct Script {
    steps: HashMap<String, Vec<Step>>,
    default: Step,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            steps: HashMap::new(),
            default: now(Answer::Success),
        }
    }
}

impl Script {
    /// Event `id` takes these steps, attempt by attempt.
    pub(super) fn on(mut self, id: &str, steps: &[Step]) -> Self {
        self.steps.insert(id.to_string(), steps.to_vec());
        self
    }

    /// Events not named take this step.
    pub(super) fn otherwise(mut self, step: Step) -> Self {
        self.default = step;
        self
    }

    fn step(&self, id: &str, attempt: u32) -> Step {
        match self.steps.get(id) {
            Some(steps) if !steps.is_empty() => {
                let i = (attempt.max(1) as usize - 1).min(steps.len() - 1);
                steps[i]
            }
            _ => self.default,
        }
    }
}

/// One attempt at one event, as the handler saw it.
#[derive(Debug, Clone)]
pub(super) struct Call {
    pub event_id: String,
    pub case_id: String,
    pub attempt: u32,
    pub started: Instant,
    /// When it answered (`None` while running).
    pub ended: Option<Instant>,
    /// The batch call it was part of (batch handlers only).
    pub batch: Option<usize>,
}

/// Every attempt of a run, shared with the test.
#[derive(Debug, Clone, Default)]
pub(super) struct Calls(Arc<Mutex<Vec<Call>>>);

impl Calls {
    pub(super) fn all(&self) -> Vec<Call> {
        self.0.lock().unwrap().clone()
    }

    /// The attempts at one event, in order.
    pub(super) fn of(&self, id: &str) -> Vec<Call> {
        self.all()
            .into_iter()
            .filter(|c| c.event_id == id)
            .collect()
    }

    /// Attempts that had started and not ended at `at`.
    pub(super) fn running_at(&self, at: Instant) -> usize {
        let all = self.all();
        let overlaps = |c: &&Call| c.started <= at && c.ended.is_none_or(|e| e > at);
        all.iter().filter(overlaps).count()
    }

    fn begin(&self, event: &CaseEvent, attempt: u32, batch: Option<usize>) -> usize {
        let mut calls = self.0.lock().unwrap();
        calls.push(Call {
            event_id: event.event_id.clone(),
            case_id: event.case_id.clone(),
            attempt,
            started: Instant::now(),
            ended: None,
            batch,
        });
        calls.len() - 1
    }

    fn end(&self, index: usize) {
        self.0.lock().unwrap()[index].ended = Some(Instant::now());
    }
}

fn respond(answer: Answer, id: &str, attempt: u32) -> HandleResp {
    let why = format!("scripted failure of {id} at attempt {attempt}");
    match answer {
        Answer::Success => HandleResp::Success,
        Answer::Skip => HandleResp::Skip(SkipReason::Other("scripted".into())),
        Answer::Retry(None) => HandleResp::Retry(HandlerError::transient(why)),
        Answer::Retry(Some(after)) => {
            HandleResp::Retry(HandlerError::transient(why).with_retry_after(after))
        }
        Answer::Defer(None) => HandleResp::Retry(HandlerError::deferred(why)),
        Answer::Defer(Some(after)) => {
            HandleResp::Retry(HandlerError::deferred(why).with_retry_after(after))
        }
        Answer::Discard => HandleResp::Discard(HandlerError::permanent(why)),
    }
}

/// A single-event handler following a [`Script`]; attempts are the
/// runtime's (`Ctx::attempt`).
pub(super) struct Single {
    pub script: Script,
    pub calls: Calls,
}

#[async_trait]
impl Handler for Single {
    async fn handle(&self, ctx: &Ctx, event: &Event) -> HandleResp {
        // Steps go by call: a deferred answer counts no attempt.
        let call = self.calls.of(&event.event_id).len() as u32 + 1;
        let step = self.script.step(&event.event_id, call);
        let index = self.calls.begin(event, ctx.attempt(), None);
        tokio::time::sleep(step.work).await;
        self.calls.end(index);
        respond(step.answer, &event.event_id, ctx.attempt())
    }
}

/// A batch handler following a [`Script`] per item; an item's attempt is
/// the number of batches it was in so far. The batch works as long as its
/// slowest item.
pub(super) struct Batch {
    pub script: Script,
    pub calls: Calls,
    pub max_running: usize,
    batches: Mutex<(usize, HashMap<String, u32>)>,
}

impl Batch {
    pub(super) fn new(script: Script, calls: Calls, max_running: usize) -> Self {
        Self {
            script,
            calls,
            max_running,
            batches: Mutex::default(),
        }
    }
}

#[async_trait]
impl BatchHandler for Batch {
    async fn handle_batch(&self, _: &Ctx, events: &[&Event]) -> Vec<HandleResp> {
        let planned: Vec<(usize, u32, Step)> = {
            let mut guard = self.batches.lock().unwrap();
            let (count, seen) = &mut *guard;
            *count += 1;
            let batch = *count - 1;
            events
                .iter()
                .map(|e| {
                    let attempt = seen.entry(e.event_id.clone()).or_default();
                    *attempt += 1;
                    let step = self.script.step(&e.event_id, *attempt);
                    (self.calls.begin(e, *attempt, Some(batch)), *attempt, step)
                })
                .collect()
        };
        let work = planned.iter().map(|(_, _, s)| s.work).max();
        tokio::time::sleep(work.unwrap_or_default()).await;
        events
            .iter()
            .zip(planned)
            .map(|(e, (index, attempt, step))| {
                self.calls.end(index);
                respond(step.answer, &e.event_id, attempt)
            })
            .collect()
    }

    fn max_running(&self) -> usize {
        self.max_running
    }
}
