//! Events of the runtime's load: handler calls, batches, in-flight events,
//! paused partitions.

use crate::telemetry::metrics::{metrics, FlavorLabels};

/// How a handler was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One event.
    Single,
    /// A batch.
    Batch,
}

impl Mode {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Batch => "batch",
        }
    }
}

/// A batch handler call starts.
pub struct BatchStarted {
    /// The flavor.
    pub flavor: &'static str,
    /// Events in the batch.
    pub size: usize,
}

impl BatchStarted {
    /// The event.
    pub fn new(flavor: &'static str, size: usize) -> Self {
        Self { flavor, size }
    }

    /// Logs and observes the batch size.
    pub fn emit(self) {
        tracing::debug!(flavor = self.flavor, events = self.size, "batch started");
        let labels = FlavorLabels {
            flavor: self.flavor,
        };
        let histogram = metrics().batch_size.get_or_create(&labels);
        histogram.observe(self.size as f64);
    }
}

/// Events read and not yet complete, after a change.
pub struct InFlight {
    /// The flavor.
    pub flavor: &'static str,
    /// How many.
    pub events: usize,
}

impl InFlight {
    /// The event.
    pub fn new(flavor: &'static str, events: usize) -> Self {
        Self { flavor, events }
    }

    /// Sets the gauge.
    pub fn emit(self) {
        let labels = FlavorLabels {
            flavor: self.flavor,
        };
        let value = i64::try_from(self.events).unwrap_or(i64::MAX);
        metrics().in_flight.get_or_create(&labels).set(value);
    }
}

/// Partitions paused at the source, after a change.
pub struct PausedPartitions {
    /// The flavor.
    pub flavor: &'static str,
    /// How many.
    pub partitions: usize,
}

impl PausedPartitions {
    /// The event.
    pub fn new(flavor: &'static str, partitions: usize) -> Self {
        Self { flavor, partitions }
    }

    /// Logs and sets the gauge.
    pub fn emit(self) {
        tracing::debug!(
            flavor = self.flavor,
            partitions = self.partitions,
            "paused partitions"
        );
        let labels = FlavorLabels {
            flavor: self.flavor,
        };
        let value = i64::try_from(self.partitions).unwrap_or(i64::MAX);
        metrics().paused.get_or_create(&labels).set(value);
    }
}
