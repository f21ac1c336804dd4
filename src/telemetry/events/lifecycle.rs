//! Events of a run's lifecycle: revokes, stopping, fatal errors.

use std::fmt::{Debug, Display};

/// Partitions were revoked; their in-flight events drain.
pub struct RevokeDraining<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// The revoked partitions.
    pub partitions: &'a dyn Debug,
    /// Waiting events dropped (their new owner reads them again).
    pub dropped: usize,
}

impl<'a> RevokeDraining<'a> {
    /// The event.
    pub fn new(flavor: &'static str, partitions: &'a dyn Debug, dropped: usize) -> Self {
        Self {
            flavor,
            partitions,
            dropped,
        }
    }

    /// Logs the revoke.
    pub fn emit(self) {
        tracing::info!(flavor = self.flavor, partitions = ?self.partitions, dropped_waiting = self.dropped, "draining revoked partitions");
    }
}

/// An orderly stop began.
pub struct Stopping {
    /// The flavor.
    pub flavor: &'static str,
    /// Tasks still running.
    pub running: usize,
    /// Waiting events dropped (their offsets stay uncommitted).
    pub dropped: usize,
}

impl Stopping {
    /// The event.
    pub fn new(flavor: &'static str, running: usize, dropped: usize) -> Self {
        Self {
            flavor,
            running,
            dropped,
        }
    }

    /// Logs the stop.
    pub fn emit(self) {
        tracing::info!(
            flavor = self.flavor,
            running = self.running,
            dropped_waiting = self.dropped,
            "stopping: draining in-flight events"
        );
    }
}

/// The shutdown grace period ended with tasks still running.
pub struct GraceExpired {
    /// The flavor.
    pub flavor: &'static str,
    /// Tasks abandoned.
    pub running: usize,
}

impl GraceExpired {
    /// The event.
    pub fn new(flavor: &'static str, running: usize) -> Self {
        Self { flavor, running }
    }

    /// Logs the abandonment.
    pub fn emit(self) {
        tracing::warn!(
            flavor = self.flavor,
            running = self.running,
            "grace period over; abandoning in-flight events (their offsets stay uncommitted)"
        );
    }
}

/// A fatal error stops the run.
pub struct RunFailed<'a> {
    /// The flavor.
    pub flavor: &'static str,
    /// What happened.
    pub error: &'a dyn Display,
}

impl<'a> RunFailed<'a> {
    /// The event.
    pub fn new(flavor: &'static str, error: &'a dyn Display) -> Self {
        Self { flavor, error }
    }

    /// Logs the error.
    pub fn emit(self) {
        tracing::error!(flavor = self.flavor, error = %self.error, "fatal: stopping with the offset uncommitted");
    }
}
