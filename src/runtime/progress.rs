//! Live counters of a run, readable while it goes (replay progress, health).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the dispatcher updates as events reach final outcomes.
#[derive(Debug, Default)]
pub struct Progress {
    completed: AtomicU64,
    dead_lettered: AtomicU64,
}

impl Progress {
    pub(crate) fn completed_one(&self, dead_lettered: bool) {
        self.completed.fetch_add(1, Ordering::Relaxed);
        if dead_lettered {
            self.dead_lettered.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events that reached a final outcome so far.
    pub fn completed(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
    }

    /// Of those, how many were dead-lettered.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered.load(Ordering::Relaxed)
    }
}
