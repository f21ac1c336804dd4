//! The runtime: everything between a source and a flavor's handler.
//!
//! Per chunk of records: intake (route on the `event-type` header, decode) →
//! per-key scheduling under the running limit → dedup (ledger) → handler
//! under a timeout → outcome → retry with backoff (partition paused, polling
//! goes on) or dead-letter → ledger → contiguous watermark → offset store
//! once per turn, credit back to the source.
//! Flavors never see offsets, never sleep and never loop on retries: all of
//! that happens here, once.

pub mod attempt;
mod decode;
pub mod deliveries;
mod dispatch;
pub mod dlq;
pub mod intake;
pub mod live;
pub mod offsets;
pub mod policy;
pub mod progress;
pub mod scheduler;
mod summary;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use decode::decode_record;
pub use summary::{RunError, RunSummary};

use crate::flavors::kit::Consumes;
use crate::handler::Processor;
use crate::source::{SourceControl, SourceRx};
use crate::store::Store;
use dlq::DeadLetterSink;
use policy::RuntimeConfig;

/// One flavor's pipeline, ready to run over a source.
pub struct Runtime {
    /// The flavor name (metrics, ledger, DLQ headers).
    pub flavor: &'static str,
    /// The flavor's handler.
    pub processor: Processor,
    /// What the handler gets: the intake skips the rest by name.
    pub consumes: Consumes,
    /// The idempotency ledger (and the flavor's database).
    pub store: Option<Store>,
    /// Where dead letters go; without one, a discard stops the run.
    pub dlq: Option<Arc<dyn DeadLetterSink>>,
    /// Limits and policies.
    pub config: RuntimeConfig,
    /// Live counters (shared with whoever watches the run).
    pub progress: Arc<progress::Progress>,
}

impl Runtime {
    /// Runs until the source ends, `shutdown` fires, or a fatal error.
    ///
    /// On return every completed event's offset has been stored and committed
    /// through `control`; nothing past an unfinished event is.
    pub async fn run(
        self,
        rx: SourceRx,
        control: Arc<dyn SourceControl>,
        shutdown: CancellationToken,
    ) -> Result<RunSummary, RunError> {
        let credit = rx.credit.clone();
        if let (Processor::Batch(_), Some(_)) = (&self.processor, &self.config.timers) {
            return Err(RunError::Internal(format!(
                "flavor {}: timers fire on the per-key lanes of single-event flavors only",
                self.flavor
            )));
        }
        if let Processor::Batch(handler) = &self.processor {
            // Room for the running batches and a full one filling: a batch
            // flavor is never starved of events by the buffer.
            let n = handler.max_running().min(dispatch::MAX_RUNNING_BATCHES) + 1;
            let limits = &self.config.batch;
            credit.at_least(limits.max_events * n, limits.max_bytes.saturating_mul(n));
        }
        dispatch::Dispatcher::new(self, control, credit)
            .run(rx, shutdown)
            .await
    }
}
