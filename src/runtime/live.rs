//! What a config reload changes while events are handled: feature flags,
//! maintenance windows, breaker limits and the retry budget. The reloader
//! (`app::live`) writes here; attempts and the dispatcher read per event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::policy::RetryPolicy;
use crate::resilience::flags::{Flags, LiveFlags};
use crate::resilience::maintenance::{Clock, Gate, SystemClock, Window};

/// The live part of one flavor's configuration.
#[derive(Debug)]
pub struct Live {
    flavor: &'static str,
    dependencies: Vec<&'static str>,
    clock: Arc<dyn Clock>,
    flags: LiveFlags,
    gate: RwLock<Arc<Gate>>,
    retry: RwLock<RetryPolicy>,
    applied: AtomicU64,
    rejected: AtomicU64,
}

impl Live {
    /// Live settings for `flavor`, which uses `dependencies`, judged by `clock`.
    pub fn new(
        flavor: &'static str,
        dependencies: Vec<&'static str>,
        clock: Arc<dyn Clock>,
        retry: RetryPolicy,
    ) -> Self {
        let gate = Gate::new(&[], flavor, &dependencies, clock.clone());
        Self {
            flavor,
            dependencies,
            clock,
            flags: LiveFlags::default(),
            gate: RwLock::new(Arc::new(gate)),
            retry: RwLock::new(retry),
            applied: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// Nothing live: no flags, no windows, default retries, system clock.
    pub fn fixed(flavor: &'static str, retry: RetryPolicy) -> Self {
        Self::new(flavor, Vec::new(), Arc::new(SystemClock), retry)
    }

    /// The dependencies the flavor uses (breakers apply to these).
    pub fn dependencies(&self) -> &[&'static str] {
        &self.dependencies
    }

    /// The flags in force now.
    pub fn flags(&self) -> Arc<Flags> {
        self.flags.load()
    }

    /// The maintenance gate in force now.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|_| Arc::new(Gate::open()))
    }

    /// The retry budget in force now.
    pub fn retry(&self) -> RetryPolicy {
        self.retry.read().map(|r| r.clone()).unwrap_or_default()
    }

    /// Installs a new live configuration.
    pub fn apply(&self, flags: Flags, windows: &[Window], retry: RetryPolicy) {
        self.flags.store(flags);
        let gate = Gate::new(windows, self.flavor, &self.dependencies, self.clock.clone());
        if let Ok(mut g) = self.gate.write() {
            *g = Arc::new(gate);
        }
        if let Ok(mut r) = self.retry.write() {
            *r = retry;
        }
        self.applied.fetch_add(1, Ordering::Relaxed);
    }

    /// Notes a reload that failed validation (the old configuration stays).
    pub fn rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Reloads applied and rejected so far.
    pub fn reloads(&self) -> (u64, u64) {
        (
            self.applied.load(Ordering::Relaxed),
            self.rejected.load(Ordering::Relaxed),
        )
    }
}
