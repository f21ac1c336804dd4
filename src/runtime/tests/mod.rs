//! The dispatcher under tokio's paused clock: an in-memory source, a
//! recording source control, an in-memory dead-letter sink and scripted
//! handlers, no store. Every delay is tokio time, so a test that waits out
//! a 30 s backoff runs in microseconds and every time it asserts is exact.
//!
//! Each test starts a [`Run`], sends events, looks at the control, the dead
//! letters and the handler's calls at chosen moments, and ends the source.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::dlq::MemoryDlq;
use super::policy::{BatchLimits, DlqPolicy, RetryPolicy, RuntimeConfig};
use super::progress::Progress;
use super::{RunError, RunSummary, Runtime};
use crate::event::pb::{self, case_event::Payload};
use crate::event::CaseEvent;
use crate::handler::Processor;
use crate::source::memory::{MemorySource, RecordingControl};
use crate::source::record::Tp;

mod batch;
mod dead_letters;
mod lanes;
mod offsets;
mod retry;
mod script;

use script::{Calls, Script};

/// A running dispatcher and everything a test looks at.
struct Run {
    source: MemorySource,
    control: Arc<RecordingControl>,
    dlq: Arc<MemoryDlq>,
    progress: Arc<Progress>,
    calls: Calls,
    task: JoinHandle<Result<RunSummary, RunError>>,
    /// When the run started.
    t0: Instant,
}

impl Run {
    /// A single-event flavor following `script`.
    fn single(script: Script, config: RuntimeConfig) -> Self {
        let calls = Calls::default();
        let handler = script::Single {
            script,
            calls: calls.clone(),
        };
        Self::start(Processor::Single(Arc::new(handler)), calls, config)
    }

    /// A batch flavor following `script`, `max_running` batches at once.
    fn batch(script: Script, config: RuntimeConfig, max_running: usize) -> Self {
        let calls = Calls::default();
        let handler = script::Batch::new(script, calls.clone(), max_running);
        Self::start(Processor::Batch(Arc::new(handler)), calls, config)
    }

    fn start(processor: Processor, calls: Calls, config: RuntimeConfig) -> Self {
        let (source, rx) = MemorySource::channels(config.buffer_records);
        let control = Arc::new(RecordingControl::new(&[tp(0), tp(1)]));
        let dlq = Arc::new(MemoryDlq::default());
        let progress = Arc::new(Progress::default());
        let runtime = Runtime {
            flavor: "dispatch-test",
            processor,
            consumes: crate::flavors::kit::Consumes::all(),
            store: None,
            dlq: Some(dlq.clone()),
            config,
            progress: progress.clone(),
        };
        let task = tokio::spawn(runtime.run(rx, control.clone(), CancellationToken::new()));
        Self {
            source,
            control,
            dlq,
            progress,
            calls,
            task,
            t0: Instant::now(),
        }
    }

    /// Sends events to `tp` as one chunk.
    fn send(&mut self, tp: &Tp, events: &[CaseEvent]) {
        self.source.send_events(tp, events).expect("the run reads");
    }

    /// Ends the source and waits for the run to finish.
    async fn finish(self) -> Result<RunSummary, RunError> {
        let _ = self.source.end();
        self.task.await.expect("the run does not panic")
    }

    /// Sleeps until `t0 + at`.
    async fn at(&self, at: Duration) {
        tokio::time::sleep_until(self.t0 + at).await;
    }

    /// Time since the run started.
    fn since(&self, at: Instant) -> Duration {
        at - self.t0
    }
}

/// Partition `n` of the test topic.
fn tp(n: i32) -> Tp {
    Tp::new("case-events", n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A valid status change of `case`, whose event id is the UUID `n`.
fn event(case: &str, n: u128) -> CaseEvent {
    let payload = Payload::CaseStatusChanged(pb::CaseStatusChanged {
        to_status_name: "In progress".into(),
        ..Default::default()
    });
    CaseEvent {
        event_id: uuid::Uuid::from_u128(n).to_string(),
        event_type: Payload::event_type(&payload).as_str().to_string(),
        case_id: case.into(),
        project_id: "p1".into(),
        aggregate_version: n as u64,
        payload: Some(payload),
        ..CaseEvent::default()
    }
}

/// `n` events of `case`, ids from `first`.
fn events(case: &str, first: u128, n: u128) -> Vec<CaseEvent> {
    (first..first + n).map(|i| event(case, i)).collect()
}

/// Retries of 100, 200, 400, 400… ms at most (full jitter below), four
/// attempts; the DLQ circuit judges only past 50 outcomes.
fn config() -> RuntimeConfig {
    RuntimeConfig {
        max_in_flight: 16,
        retry: RetryPolicy {
            initial: ms(100),
            max: ms(400),
            max_attempts: 4,
            max_elapsed: Duration::from_secs(600),
            ..RetryPolicy::default()
        },
        dlq: DlqPolicy::default(),
        batch: BatchLimits {
            max_events: 10,
            max_bytes: 1 << 20,
            max_wait: ms(500),
        },
        ..RuntimeConfig::default()
    }
}
