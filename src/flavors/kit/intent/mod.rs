//! Intents: exactly-once (or at-most-one-duplicate) effects at vendors whose
//! create calls carry no idempotency key (a Jira issue or comment, a
//! ServiceNow incident, a Slack message, a workflow run).
//!
//! One row per (flavor, kind, entity key, target) in `intents` is written
//! *before* the vendor call and moves through
//!
//! ```text
//!            claim (lease)          vendor said yes
//!   (none) ───────────────▶ claimed ───────────────▶ linked   (created)
//!     ▲                      │  │ lookup found it
//!     │ vendor certainly     │  └────────────────▶ linked   (adopted)
//!     └──── applied nothing ─┘  │ crash hid the outcome, no lookup
//!                               └────────────────▶ unknown  (terminal, or resent once)
//! ```
//!
//! The state machine and its crash cases are here; the vendor call and the
//! lookup are the flavor's ([`Effect`]). A worker holds the lease while its
//! call is in flight; a second worker meanwhile answers [`IntentError::InFlight`]
//! (transient). A claimed row whose lease ended (the call failed with an
//! unknown outcome, or the process died) is resolved by the row's [`Mode`]:
//! looked up at the vendor (adopted if found; inside the lookup window a
//! miss is transient, after it the effect is sent again), sent again with
//! the same idempotency key, or marked `unknown` and either resent (at most
//! one duplicate per crash, with the same hint) or left.

mod store;
mod types;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::AnyPool;

use crate::store::now_ms;

pub use types::{ExtRef, IntentKey, Mode, Policy, Record, State, Subject};

/// A vendor effect, as the flavor performs and looks it up.
#[async_trait]
pub trait Effect: Send + Sync {
    /// The vendor client's error.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Performs the effect once.
    async fn perform(&self) -> Result<ExtRef, Self::Error>;
    /// Finds an earlier attempt's result at the vendor ([`Mode::Lookup`]);
    /// `None`: not found (yet).
    async fn lookup(&self) -> Result<Option<ExtRef>, Self::Error> {
        Ok(None)
    }
    /// Whether `err` proves the vendor applied nothing (it answered, and not
    /// with a 5xx or 408): the intent is dropped and may be sent afresh.
    fn not_applied(&self, err: &Self::Error) -> bool;
}

/// How [`Intents::run`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done {
    /// The vendor made it now.
    Created(ExtRef),
    /// An earlier attempt had made it: found by lookup.
    Adopted(ExtRef),
    /// Linked before this run: nothing sent.
    Already(Record),
    /// A crash hid an earlier outcome and the mode says not to resend.
    Unknown(Record),
}

/// Why [`Intents::run`] did not finish.
#[derive(Debug, thiserror::Error)]
pub enum IntentError<E: std::error::Error + 'static> {
    /// The vendor call failed (the row stays claimed unless the vendor
    /// certainly applied nothing).
    #[error(transparent)]
    Vendor(E),
    /// The intent table failed.
    #[error("intent table: {0}")]
    Db(#[from] sqlx::Error),
    /// The lookup found nothing yet, inside its window.
    #[error("{kind} {entity_key}: an earlier attempt is not visible at the vendor yet; sending again in {left_ms} ms at the latest")]
    Pending {
        kind: String,
        entity_key: String,
        left_ms: u64,
        retry_after: Duration,
    },
    /// Another worker's call is in flight.
    #[error("{kind} {entity_key}: another worker's call is in flight")]
    InFlight {
        kind: String,
        entity_key: String,
        retry_after: Duration,
    },
}

impl<E: std::error::Error + 'static> IntentError<E> {
    /// How long to wait before the next try, when the kit knows.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            IntentError::Pending { retry_after, .. }
            | IntentError::InFlight { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// The intents of one flavor.
#[derive(Debug, Clone)]
pub struct Intents {
    pool: AnyPool,
    flavor: &'static str,
}

impl Intents {
    /// The intents `flavor` keeps in the store behind `pool`.
    pub fn new(pool: AnyPool, flavor: &'static str) -> Self {
        Self { pool, flavor }
    }

    /// The key of one intent of this flavor.
    pub fn key<'a>(&'a self, kind: &'a str, entity_key: &'a str, target: &'a str) -> IntentKey<'a> {
        IntentKey {
            flavor: self.flavor,
            kind,
            entity_key,
            target,
        }
    }

    /// The row of `key`.
    pub async fn get(&self, key: &IntentKey<'_>) -> Result<Option<Record>, sqlx::Error> {
        store::load(&self.pool, key).await
    }

    /// The row of `kind` whose external object is `ext_id`.
    pub async fn by_ext(&self, kind: &str, ext_id: &str) -> Result<Option<Record>, sqlx::Error> {
        store::by_ext(&self.pool, self.flavor, kind, ext_id).await
    }

    /// Marks the row stale: the external object is gone or no longer ours.
    pub async fn mark_stale(&self, key: &IntentKey<'_>) -> Result<(), sqlx::Error> {
        store::mark_stale(&self.pool, key, now_ms()).await
    }

    /// Runs the effect of `key` at most as often as its mode allows: claims
    /// the intent, resolves an earlier attempt, calls the vendor, records
    /// the result.
    pub async fn run<F: Effect>(
        &self,
        key: &IntentKey<'_>,
        subject: &Subject,
        policy: &Policy,
        effect: &F,
    ) -> Result<Done, IntentError<F::Error>> {
        let lease = policy.lease.as_millis() as i64;
        let now = now_ms();
        if store::insert_claim(&self.pool, key, subject, now, now + lease).await? {
            return self.perform(key, effect).await;
        }
        let Some(row) = store::load(&self.pool, key).await? else {
            // Dropped between the two statements: the next try claims afresh.
            return Err(in_flight(key, Duration::ZERO));
        };
        match row.state {
            State::Linked => Ok(Done::Already(row)),
            State::Unknown => self.unknown(key, policy, effect, row).await,
            State::Claimed if row.lease_until > now => {
                let left = Duration::from_millis((row.lease_until - now) as u64);
                Err(in_flight(key, left))
            }
            State::Claimed => self.resolve(key, policy, effect, row).await,
        }
    }

    /// A claimed row whose call ended without a known outcome.
    async fn resolve<F: Effect>(
        &self,
        key: &IntentKey<'_>,
        policy: &Policy,
        effect: &F,
        row: Record,
    ) -> Result<Done, IntentError<F::Error>> {
        match policy.mode {
            Mode::Lookup { window } => self.look_up(key, policy, effect, &row, window).await,
            Mode::IdempotencyKey => self.again(key, State::Claimed, policy, effect).await,
            Mode::NoLookup { .. } => {
                store::mark_unknown(&self.pool, key, now_ms()).await?;
                tracing::warn!(
                    kind = key.kind,
                    entity_key = key.entity_key,
                    "the outcome of an earlier attempt is unknown and cannot be looked up"
                );
                let row = Record {
                    state: State::Unknown,
                    ..row
                };
                self.unknown(key, policy, effect, row).await
            }
        }
    }

    /// Asks the vendor for an earlier attempt's result: adopted if found; a
    /// miss inside the window is transient, after it the effect goes again.
    async fn look_up<F: Effect>(
        &self,
        key: &IntentKey<'_>,
        policy: &Policy,
        effect: &F,
        row: &Record,
        window: Duration,
    ) -> Result<Done, IntentError<F::Error>> {
        if let Some(ext) = effect.lookup().await.map_err(IntentError::Vendor)? {
            store::link(&self.pool, key, &ext, now_ms()).await?;
            tracing::info!(kind = key.kind, entity_key = key.entity_key, ext_id = %ext.id, "adopted the result of an earlier attempt");
            return Ok(Done::Adopted(ext));
        }
        let age = u64::try_from(now_ms() - row.intent_at).unwrap_or(0);
        let window_ms = window.as_millis() as u64;
        if age < window_ms {
            let left_ms = window_ms - age;
            let step = (window_ms / 4).max(1000);
            return Err(IntentError::Pending {
                kind: key.kind.into(),
                entity_key: key.entity_key.into(),
                left_ms,
                retry_after: Duration::from_millis(left_ms.min(step)),
            });
        }
        tracing::warn!(
            kind = key.kind,
            entity_key = key.entity_key,
            age_ms = age,
            "earlier attempt not found at the vendor; sending again"
        );
        self.again(key, State::Claimed, policy, effect).await
    }

    /// An `unknown` row: resent once more or left, as the mode says.
    async fn unknown<F: Effect>(
        &self,
        key: &IntentKey<'_>,
        policy: &Policy,
        effect: &F,
        row: Record,
    ) -> Result<Done, IntentError<F::Error>> {
        match policy.mode {
            Mode::NoLookup {
                resend_unknown: false,
            } => Ok(Done::Unknown(row)),
            _ => self.again(key, State::Unknown, policy, effect).await,
        }
    }

    /// Takes the row over for a new attempt and performs it.
    async fn again<F: Effect>(
        &self,
        key: &IntentKey<'_>,
        from: State,
        policy: &Policy,
        effect: &F,
    ) -> Result<Done, IntentError<F::Error>> {
        let now = now_ms();
        let lease = policy.lease.as_millis() as i64;
        if !store::retake(&self.pool, key, from, now, now + lease).await? {
            return Err(in_flight(key, Duration::ZERO));
        }
        self.perform(key, effect).await
    }

    /// The vendor call, with the row claimed and the lease ours.
    async fn perform<F: Effect>(
        &self,
        key: &IntentKey<'_>,
        effect: &F,
    ) -> Result<Done, IntentError<F::Error>> {
        match effect.perform().await {
            Ok(ext) => {
                store::link(&self.pool, key, &ext, now_ms()).await?;
                Ok(Done::Created(ext))
            }
            Err(err) if effect.not_applied(&err) => {
                store::drop_claim(&self.pool, key).await?;
                Err(IntentError::Vendor(err))
            }
            Err(err) => {
                // Outcome unknown: the row stays claimed; the next try resolves it.
                store::release(&self.pool, key, now_ms()).await?;
                Err(IntentError::Vendor(err))
            }
        }
    }
}

fn in_flight<E: std::error::Error>(key: &IntentKey<'_>, left: Duration) -> IntentError<E> {
    IntentError::InFlight {
        kind: key.kind.into(),
        entity_key: key.entity_key.into(),
        retry_after: left.max(Duration::from_millis(100)),
    }
}

#[cfg(test)]
mod tests;
