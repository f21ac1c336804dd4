//! Hourly expiry of what the store keeps only for a while: ledger rows,
//! dead-letter claims, delivered and dead deliveries, inbound delivery
//! claims and (for a flavor that reads rules) rule edge state.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::flavors::kit::{delivery, inbound};
use crate::store::{now_ms, Store};

/// What a flavor that reads rules expires of its edge state.
pub(super) struct EdgeExpiry {
    pub(super) edges: crate::flavors::kit::edge::Edges,
    pub(super) rules: crate::rules::RulesView,
    pub(super) closed_ttl: Duration,
}

impl EdgeExpiry {
    /// Deletes the edge rows of rules not in the snapshot in force and of
    /// cases closed longer than the TTL.
    async fn run(&self, store: &Store) {
        let snapshot = self.rules.snapshot();
        let ids: Vec<&str> = snapshot.entries().map(|e| e.id.as_str()).collect();
        let ttl_ms = crate::store::ms_of(self.closed_ttl);
        let before = now_ms().saturating_sub(ttl_ms);
        match self.edges.expire(store.pool(), &ids, before).await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "expired rule edge state"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "rule edge expiry failed"),
        }
    }
}

/// Deletes expired ledger rows, dead-letter claims, delivered and dead
/// deliveries, inbound delivery claims and (for a flavor that reads rules) rule edge state hourly.
pub(super) fn spawn(
    store: Store,
    ttl: Duration,
    edges: Option<EdgeExpiry>,
    shutdown: CancellationToken,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Some(edges) = &edges {
                        edges.run(&store).await;
                    }
                    match store.expire_dedup_rows(ttl).await {
                        Ok(n) if n > 0 => tracing::info!(rows = n, "expired ledger rows and dead-letter claims"),
                        Ok(_) => {}
                        Err(err) => tracing::warn!(error = %err, "ledger expiry failed"),
                    }
                    let before = now_ms().saturating_sub(crate::store::ms_of(ttl));
                    match delivery::expire(store.pool(), before).await {
                        Ok(n) if n > 0 => tracing::info!(rows = n, "expired delivered and dead deliveries"),
                        Ok(_) => {}
                        Err(err) => tracing::warn!(error = %err, "delivery expiry failed"),
                    }
                    match inbound::sweep(store.pool(), now_ms()).await {
                        Ok(n) if n > 0 => tracing::info!(rows = n, "expired inbound delivery claims"),
                        Ok(_) => {}
                        Err(err) => tracing::warn!(error = %err, "inbound delivery expiry failed"),
                    }
                }
                _ = shutdown.cancelled() => return,
            }
        }
    });
}
