//! A firing: a claimed timer handed to its flavor, and the two ways a
//! flavor commits its effects with the claim's fence and the firing's ledger
//! row in one transaction (so a firing happens once, or not at all).

use std::time::Duration;

use super::outcome::{fired, firing_id};
use super::store::{Timer, TimerStoreError};
use crate::store::rows::{apply_in, Planned, RowOp};
use crate::store::{LedgerTx, Store, StoreError};

/// A due timer, claimed, on its way to its flavor's `Handler::fire`.
#[derive(Debug, Clone)]
pub struct Firing {
    /// The timer as claimed (its claim is the fence of every write).
    pub timer: Timer,
    /// The firing's deterministic id ([`firing_id`]): its ledger key and the
    /// base of the ids of what it publishes.
    pub id: String,
    /// When this attempt started (ms, the runtime's wall clock).
    pub now_ms: i64,
}

impl Firing {
    /// The firing of a claimed `timer`, attempted at `now_ms`.
    pub fn new(timer: Timer, now_ms: i64) -> Self {
        let id = firing_id(&timer);
        Self { timer, id, now_ms }
    }

    /// How late it is: due → this attempt (zero when early).
    pub fn lateness(&self) -> Duration {
        let late = self.now_ms.saturating_sub(self.timer.due_at).max(0);
        Duration::from_millis(late.unsigned_abs())
    }

    /// Opens a transaction holding the firing's ledger row with the timer
    /// marked fired; write the effects through it and commit it (`Ctx`
    /// does both). [`StoreError::AlreadyProcessed`] when the claim no longer
    /// holds (moved, cancelled, re-scheduled or taken over since): nothing
    /// to do, the firing classifies as a duplicate skip.
    pub async fn begin(&self, store: &Store, flavor: &str) -> Result<LedgerTx, StoreError> {
        let mut tx = store.begin_claim(flavor, &self.id).await?;
        match fired(tx.conn(), &self.timer, self.now_ms).await {
            Ok(true) => Ok(tx),
            Ok(false) => Err(StoreError::AlreadyProcessed),
            Err(err) => Err(err.into()),
        }
    }

    /// Applies `ops` (the batch writer's row operations) with the timer
    /// marked fired and the firing's ledger row, in one transaction; false
    /// when the claim no longer holds (nothing applied).
    pub async fn apply(
        &self,
        store: &Store,
        flavor: &str,
        ops: Vec<RowOp>,
    ) -> Result<bool, StoreError> {
        let mut tx = store.pool().begin().await?;
        if !fired(&mut tx, &self.timer, self.now_ms).await? {
            return Ok(false);
        }
        let plan = Planned {
            event_id: self.id.clone(),
            ops,
        };
        let claimed = apply_in(&mut tx, flavor, &[plan]).await?;
        tx.commit().await?;
        Ok(!claimed.is_empty())
    }
}

impl From<TimerStoreError> for StoreError {
    fn from(err: TimerStoreError) -> Self {
        match err {
            TimerStoreError::Sql(e) => StoreError::Sqlx(e),
            other => StoreError::Sqlx(sqlx::Error::Protocol(other.to_string())),
        }
    }
}
