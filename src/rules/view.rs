//! [`RulesView`]: the rules in force as a flavor sees them (handed out by
//! `BuildCtx::rules`): a cheap clonable handle on the [`Rules`](super::Rules)
//! watch channel, and the [`SecretResolver`] for the secrets the rules name.

use std::sync::Arc;

use tokio::sync::watch;

use super::{RulesSnapshot, SecretResolver};

/// A flavor's handle on the rules in force. Clone it freely; take one
/// [`snapshot`](RulesView::snapshot) per event and keep it for the event.
#[derive(Debug, Clone)]
pub struct RulesView {
    rx: watch::Receiver<Arc<RulesSnapshot>>,
    secrets: SecretResolver,
}

impl RulesView {
    /// A view of the snapshots `rx` receives (from [`Rules::subscribe`](super::Rules::subscribe)).
    pub fn new(rx: watch::Receiver<Arc<RulesSnapshot>>, secrets: SecretResolver) -> Self {
        Self { rx, secrets }
    }

    /// A view that never changes (tests, offline tools).
    pub fn fixed(snapshot: RulesSnapshot, secrets: SecretResolver) -> Self {
        // With the sender gone, the receiver keeps the last value.
        let (_tx, rx) = watch::channel(Arc::new(snapshot));
        Self { rx, secrets }
    }

    /// The snapshot in force. The channel's lock is held only to clone the
    /// `Arc`, never across an await.
    pub fn snapshot(&self) -> Arc<RulesSnapshot> {
        self.rx.borrow().clone()
    }

    /// Resolves the secrets the rules name.
    pub fn secrets(&self) -> &SecretResolver {
        &self.secrets
    }
}
