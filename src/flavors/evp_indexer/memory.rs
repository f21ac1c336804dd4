//! What shipping learns and keeps across a batch's attempts: the documents
//! a 400 was about (so bisection goes on where it stopped, and a set the
//! intake refused is never sent whole again), and the request size a 413
//! showed to be too large.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::client::Limits;

/// Suspects kept at most; past this the memory starts over (it only saves
/// requests, correctness does not depend on it).
const MAX_SUSPECTS: usize = 100_000;
/// The smallest request size a 413 teaches.
const MIN_LEARNED_BYTES: usize = 1024;

/// Shared by every call of one indexer.
#[derive(Debug)]
pub struct Memory {
    /// Event id → the largest request it may go in: half of the smallest
    /// set the intake answered 400 while it was in it.
    suspects: Mutex<HashMap<String, usize>>,
    /// The largest request body to send (the configured one, or less after a 413).
    max_body_bytes: AtomicUsize,
}

impl Memory {
    /// Nothing learned yet, under the configured `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            suspects: Mutex::default(),
            max_body_bytes: AtomicUsize::new(limits.max_body_bytes),
        }
    }

    /// `configured` with the body size a 413 taught.
    pub fn limits(&self, configured: Limits) -> Limits {
        let learned = self.max_body_bytes.load(Ordering::Relaxed);
        Limits {
            max_body_bytes: configured.max_body_bytes.min(learned),
            ..configured
        }
    }

    /// A body of `bytes` was answered 413: later requests stay at half of it.
    pub fn too_large(&self, bytes: usize) {
        let half = (bytes / 2).max(MIN_LEARNED_BYTES);
        let before = self.max_body_bytes.fetch_min(half, Ordering::Relaxed);
        if half < before {
            tracing::warn!(
                bytes,
                learned = half,
                "intake answered 413: requests kept smaller"
            );
        }
    }

    /// The largest request `id` may go in, if a 400 was about a set holding it.
    pub fn suspect(&self, id: &str) -> Option<usize> {
        self.lock().get(id).copied()
    }

    /// The intake answered 400 to a set of these ids.
    pub fn refused(&self, ids: &[&str]) {
        let limit = ids.len().div_ceil(2);
        let mut suspects = self.lock();
        if suspects.len() + ids.len() > MAX_SUSPECTS {
            suspects.clear();
        }
        for id in ids {
            let entry = suspects.entry((*id).to_string()).or_insert(limit);
            *entry = (*entry).min(limit);
        }
    }

    /// These ids are settled (taken, or discarded alone).
    pub fn settled(&self, ids: &[&str]) {
        let mut suspects = self.lock();
        if suspects.is_empty() {
            return;
        }
        for id in ids {
            suspects.remove(*id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.suspects.lock().unwrap_or_else(|e| e.into_inner())
    }
}
