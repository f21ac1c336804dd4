//! The handler contract every flavor implements.
//!
//! A [`Handler`] takes one validated [`Event`] (its payload is set and named
//! by `event_type`) and answers one [`HandleResp`]; a
//! [`BatchHandler`] takes a batch and answers one `HandleResp` per event, in the
//! same order. Handlers never sleep, loop on retries, or commit offsets: they
//! describe what happened and the runtime decides what to do next.
//!
//! Inside a flavor, errors are typed ([`HandlerError`] carries an [`ErrorClass`]);
//! [`HandleResp::classify`] is the one place that maps a result to an outcome.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::event::{CaseEvent, Event};
use crate::flavors::kit::timers::Firing;
use crate::resilience::flags::Flags;
use crate::store::rows::RowOp;
use crate::store::{LedgerTx, Store, StoreError};

/// What a handler decided about one event.
#[derive(Debug)]
pub enum HandleResp {
    /// The effects happened; the event is complete.
    Success,
    /// Nothing to do for a stated reason; the event is complete.
    Skip(SkipReason),
    /// A transient failure: the runtime retries with backoff.
    Retry(HandlerError),
    /// A permanent failure: the runtime dead-letters the event.
    Discard(HandlerError),
}

impl HandleResp {
    /// The single classifier from a flavor's typed result to an outcome.
    pub fn classify(result: Result<(), HandlerError>) -> Self {
        match result {
            Ok(()) => HandleResp::Success,
            Err(err) => match err.class {
                ErrorClass::Transient | ErrorClass::Deferred => HandleResp::Retry(err),
                ErrorClass::Permanent | ErrorClass::Invalid => HandleResp::Discard(err),
                ErrorClass::Duplicate => HandleResp::Skip(SkipReason::Duplicate),
            },
        }
    }

    /// A short label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            HandleResp::Success => "success",
            HandleResp::Skip(_) => "skip",
            HandleResp::Retry(_) => "retry",
            HandleResp::Discard(_) => "discard",
        }
    }
}

/// Why an event was skipped. Every skip names its reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The flavor does not consume this event type.
    NotInterested,
    /// The event id is already in the flavor's processed-events ledger.
    Duplicate,
    /// The event is older than state already applied (by aggregate version).
    Stale,
    /// The event came from a channel the flavor writes to (its own echo).
    Echo(&'static str),
    /// The flavor needs `case_after` and the event has none.
    NoSnapshot,
    /// A feature flag turned the effect off.
    Disabled(String),
    /// A maintenance window in `skip` mode was open.
    Maintenance(String),
    /// Any other reason the flavor states.
    Other(String),
}

/// Label values are bounded: a free-text skip reason is cut to this length.
const MAX_REASON: usize = 64;

impl SkipReason {
    /// The `reason` label of metrics and spans: the display form, bounded.
    pub fn label(&self) -> std::borrow::Cow<'static, str> {
        match self {
            SkipReason::NotInterested => "not-interested".into(),
            SkipReason::Duplicate => "duplicate".into(),
            SkipReason::Stale => "stale".into(),
            SkipReason::NoSnapshot => "no-snapshot".into(),
            other => {
                let mut label = other.to_string();
                if let Some((cut, _)) = label.char_indices().nth(MAX_REASON) {
                    label.truncate(cut);
                }
                label.into()
            }
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotInterested => f.write_str("not-interested"),
            SkipReason::Duplicate => f.write_str("duplicate"),
            SkipReason::Stale => f.write_str("stale"),
            SkipReason::Echo(channel) => write!(f, "echo:{channel}"),
            SkipReason::NoSnapshot => f.write_str("no-snapshot"),
            SkipReason::Disabled(flag) => write!(f, "disabled:{flag}"),
            SkipReason::Maintenance(window) => write!(f, "maintenance:{window}"),
            SkipReason::Other(why) => write!(f, "other:{why}"),
        }
    }
}

/// How the runtime treats a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Worth retrying: timeouts, 5xx, a database that went away.
    Transient,
    /// Worth retrying, and not the event's fault: the dependency never
    /// judged it (a 429 or 503, or a batch stopped before it was sent). The
    /// runtime retries after the hint or the backoff without counting an
    /// attempt, so such a wait never exhausts an event's retry budget.
    Deferred,
    /// Retrying cannot help: a 4xx the vendor rejects, a broken mapping.
    Permanent,
    /// The event itself is unusable.
    Invalid,
    /// The effect already happened (idempotency ledger hit).
    Duplicate,
}

/// A typed handler failure with its class, an optional retry hint and a message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    /// How the runtime treats this failure.
    pub class: ErrorClass,
    /// The least time to wait before retrying (e.g. from `Retry-After`).
    pub retry_after: Option<Duration>,
    /// What went wrong, for logs and dead-letter headers.
    pub message: String,
}

impl HandlerError {
    /// A transient failure.
    pub fn transient(message: impl fmt::Display) -> Self {
        Self::new(ErrorClass::Transient, message)
    }

    /// A failure the dependency never judged the event by (see [`ErrorClass::Deferred`]).
    pub fn deferred(message: impl fmt::Display) -> Self {
        Self::new(ErrorClass::Deferred, message)
    }

    /// A permanent failure.
    pub fn permanent(message: impl fmt::Display) -> Self {
        Self::new(ErrorClass::Permanent, message)
    }

    /// An unusable event.
    pub fn invalid(message: impl fmt::Display) -> Self {
        Self::new(ErrorClass::Invalid, message)
    }

    fn new(class: ErrorClass, message: impl fmt::Display) -> Self {
        Self {
            class,
            retry_after: None,
            message: message.to_string(),
        }
    }

    /// Sets the least delay before the next attempt.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }
}

impl From<StoreError> for HandlerError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::AlreadyProcessed => Self::new(ErrorClass::Duplicate, err),
            StoreError::Sqlx(ref e) if is_permanent_sql(e) => Self::permanent(err),
            _ => Self::transient(err),
        }
    }
}

/// Constraint violations and bad SQL do not heal by retrying; everything else
/// (connection loss, pool timeouts, serialization failures) may.
fn is_permanent_sql(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => !matches!(
            db.code().as_deref(),
            Some("40001") | Some("40P01") | Some("55P03") | Some("57P01") | Some("5") | Some("6")
        ),
        sqlx::Error::ColumnNotFound(_) | sqlx::Error::TypeNotFound { .. } => true,
        _ => false,
    }
}

/// What a handler may use while handling one event.
#[derive(Clone)]
pub struct Ctx {
    flavor: &'static str,
    store: Option<Store>,
    attempt: u32,
    ledger_written: Arc<AtomicBool>,
    flags: Arc<Flags>,
}

impl Ctx {
    /// A context for one attempt at one event.
    pub fn new(flavor: &'static str, store: Option<Store>, attempt: u32) -> Self {
        Self {
            flavor,
            store,
            attempt,
            ledger_written: Arc::new(AtomicBool::new(false)),
            flags: Arc::default(),
        }
    }

    /// The same context with the feature flags in force for this attempt.
    pub fn with_flags(mut self, flags: Arc<Flags>) -> Self {
        self.flags = flags;
        self
    }

    /// Whether feature flag `name` is on for this event (global, per flavor,
    /// per project or by percentage of cases; see `resilience::flags`).
    pub fn flag(&self, name: &str, event: &CaseEvent) -> bool {
        self.flags.enabled(name, self.flavor, event)
    }

    /// Like [`Ctx::flag`] for a kill switch: `default` when the flag is not
    /// configured, so an effect stays on until operators turn it off.
    pub fn flag_or(&self, name: &str, event: &CaseEvent, default: bool) -> bool {
        match self.flags.defined(name) {
            true => self.flags.enabled(name, self.flavor, event),
            false => default,
        }
    }

    /// The flavor handling the event.
    pub fn flavor(&self) -> &'static str {
        self.flavor
    }

    /// 1 for the first attempt, 2 for the first retry, and so on.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The key external systems get so that a retried call has one effect.
    pub fn idempotency_key(&self, event: &CaseEvent) -> String {
        format!("{}:{}", self.flavor, event.event_id)
    }

    /// The store, for flavors that read or write the database.
    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// Opens a transaction that already holds this event's ledger row.
    ///
    /// Write the effects through it and call [`Ctx::commit`]: effects and the
    /// ledger row commit together, so the effects happen exactly once. If the
    /// event was processed before, this fails with [`StoreError::AlreadyProcessed`],
    /// which classifies as a duplicate skip.
    pub async fn begin(&self, event: &CaseEvent) -> Result<LedgerTx, StoreError> {
        let store = self.store.as_ref().ok_or(StoreError::NotConfigured)?;
        store.begin_claim(self.flavor, &event.event_id).await
    }

    /// Commits a transaction opened by [`Ctx::begin`].
    pub async fn commit(&self, tx: LedgerTx) -> Result<(), StoreError> {
        tx.commit().await?;
        self.ledger_written.store(true, Ordering::Release);
        Ok(())
    }

    /// Opens a timer firing's transaction: the firing's ledger row and the
    /// timer marked fired under its claim (see [`Firing::begin`]). Write the
    /// effects through it and call [`Ctx::commit`]. A claim that no longer
    /// holds (the timer moved, was cancelled or taken over) fails with
    /// [`StoreError::AlreadyProcessed`], a duplicate skip.
    pub async fn begin_firing(&self, firing: &Firing) -> Result<LedgerTx, StoreError> {
        let store = self.store.as_ref().ok_or(StoreError::NotConfigured)?;
        firing.begin(store, self.flavor).await
    }

    /// Applies a firing's row operations (the batch writer's) in one
    /// transaction with its ledger row and the timer marked fired under its
    /// claim (see [`Firing::apply`]); false when the claim no longer holds.
    pub async fn apply_firing(&self, firing: &Firing, ops: Vec<RowOp>) -> Result<bool, StoreError> {
        let store = self.store.as_ref().ok_or(StoreError::NotConfigured)?;
        let applied = firing.apply(store, self.flavor, ops).await?;
        self.ledger_written.store(true, Ordering::Release);
        Ok(applied)
    }

    /// Whether the handler already wrote the ledger row in its own transaction.
    pub(crate) fn ledger_written(&self) -> bool {
        self.ledger_written.load(Ordering::Acquire)
    }
}

/// One event in, one outcome out.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Handles one event.
    async fn handle(&self, ctx: &Ctx, event: &Event) -> HandleResp;

    /// Fires one of the flavor's durable timers (`kit::timers`), on the
    /// per-key lane of its case. Commit store effects through
    /// [`Ctx::begin_firing`] or [`Ctx::apply_firing`] (exactly once); a
    /// firing answered `Success` without either is marked fired by the
    /// runtime in bulk after it, so its effects (say, a published event
    /// with an id derived from the firing's) must be idempotent by firing id:
    /// a crash in between fires it again, and such effects run even if the
    /// timer was moved or cancelled since it was claimed (only the mark is
    /// fenced). A `Skip` is done too. A flavor that schedules no timers never
    /// gets one: the default buries it.
    async fn fire(&self, ctx: &Ctx, firing: &Firing) -> HandleResp {
        let _ = firing;
        HandleResp::Discard(HandlerError::permanent(format!(
            "flavor {} fires no timers",
            ctx.flavor()
        )))
    }

    /// Whether the handler claims the event's ledger row in its own
    /// transaction (`Ctx::begin`), which already rejects duplicates; the
    /// runtime then skips its own look-up, saving a round trip per event.
    fn claims_ledger(&self) -> bool {
        false
    }
}

/// A batch in, one outcome per event out (same length, same order).
#[async_trait]
pub trait BatchHandler: Send + Sync + 'static {
    /// Handles a batch; the answer has exactly one entry per event.
    async fn handle_batch(&self, ctx: &Ctx, events: &[&Event]) -> Vec<HandleResp>;

    /// Whether the handler claims the events' ledger rows in its own
    /// transaction (the batch writer does); the runtime then neither looks
    /// the batch up in the ledger first nor writes the rows after.
    fn claims_ledger(&self) -> bool {
        false
    }

    /// How many batches may run at once (1 or 2). With 2, the next batch
    /// starts while one is under way, and events of one key may be in both:
    /// only for flavors whose effects do not depend on order (indexers
    /// keyed by event id). A read model applies its batches one at a time.
    fn max_running(&self) -> usize {
        2
    }
}

/// A flavor's processing style.
#[derive(Clone)]
pub enum Processor {
    /// One event at a time, per-key ordered, concurrent across keys.
    Single(Arc<dyn Handler>),
    /// Batches closed on count, bytes or time.
    Batch(Arc<dyn BatchHandler>),
}
