//! Processing behaviour: ordering, concurrency, retries, dead-lettering,
//! batching. Flavors may override any of it under `flavors.<name>.runtime`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use super::collect::deserialize_collecting;
use super::error::Problem;
use super::tree::{self, KeyPath, Provenance};

/// Processing behaviour shared by all flavors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeSettings {
    /// Which events must be processed one after another.
    pub ordering: OrderingMode,
    /// Maximum number of handler calls running at once (1..=10000).
    pub max_in_flight: u32,
    /// Events taken in (read, waiting behind a busy key, running) at most.
    pub buffer: BufferSettings,
    /// Time limit for one handler invocation.
    pub handler_timeout_ms: u64,
    /// Total time allowed for a graceful shutdown.
    pub shutdown_grace_ms: u64,
    /// Part of the grace period spent waiting for in-flight events.
    pub drain_timeout_ms: u64,
    /// Retries of failed handler invocations.
    pub retry: RetrySettings,
    /// Dead-letter queue for events that exhausted their retries.
    pub dlq: DlqSettings,
    /// Batching for flavors that handle events in batches.
    pub batch: BatchSettings,
    /// Firing durable timers (flavors that schedule them).
    pub timers: TimerSettings,
    /// Delivering the delivery queue (flavors that enqueue deliveries).
    pub deliveries: super::DeliverySettings,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            ordering: OrderingMode::Key,
            max_in_flight: 256,
            buffer: BufferSettings::default(),
            handler_timeout_ms: 30_000,
            shutdown_grace_ms: 20_000,
            drain_timeout_ms: 5_000,
            retry: RetrySettings::default(),
            dlq: DlqSettings::default(),
            batch: BatchSettings::default(),
            timers: TimerSettings::default(),
            deliveries: Default::default(),
        }
    }
}

impl RuntimeSettings {
    /// [`Self::handler_timeout_ms`] as a duration.
    pub fn handler_timeout(&self) -> Duration {
        Duration::from_millis(self.handler_timeout_ms)
    }

    /// [`Self::shutdown_grace_ms`] as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    /// [`Self::drain_timeout_ms`] as a duration.
    pub fn drain_timeout(&self) -> Duration {
        Duration::from_millis(self.drain_timeout_ms)
    }

    /// These settings with a partial `overrides` map merged on top, checked
    /// for unknown keys and type errors (reported under `prefix`).
    pub(crate) fn with_overrides(
        &self,
        overrides: &Value,
        prefix: &KeyPath,
    ) -> (Option<Self>, Vec<Problem>) {
        let mut merged = match serde_yaml::to_value(self) {
            Ok(value) => value,
            Err(e) => return (None, vec![Problem::new(prefix.to_string(), e.to_string())]),
        };
        let mut provenance = Provenance::default();
        tree::merge(
            &mut merged,
            overrides.clone(),
            &KeyPath::default(),
            "",
            &mut provenance,
        );
        deserialize_collecting(merged, prefix)
    }
}

/// What the runtime takes in before it stops reading (the source reads only
/// while there is room; nothing is paused for it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BufferSettings {
    /// Records taken in and not yet complete (1..=1000000).
    pub max_records: u32,
    /// Their bytes (key + value), at least 64 KiB.
    pub max_bytes: u64,
}

impl Default for BufferSettings {
    fn default() -> Self {
        Self {
            max_records: 1_024,
            max_bytes: 4 << 20,
        }
    }
}

/// Which events must be processed in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderingMode {
    /// Events with the same key (case id) run sequentially; others in parallel.
    Key,
    /// Events of the same partition run sequentially.
    Partition,
}

/// Retries of failed handler invocations (exponential backoff with jitter).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrySettings {
    /// Delay before the first retry.
    pub initial_backoff_ms: u64,
    /// Upper bound of the delay between retries.
    pub max_backoff_ms: u64,
    /// Total attempts including the first one (at least 1).
    pub max_attempts: u32,
    /// Give up once this much time has passed since the first attempt.
    pub max_elapsed_ms: u64,
    /// What happens to an event whose retries are exhausted.
    pub on_exhausted: OnExhausted,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            initial_backoff_ms: 200,
            max_backoff_ms: 30_000,
            max_attempts: 10,
            max_elapsed_ms: 600_000,
            on_exhausted: OnExhausted::DeadLetter,
        }
    }
}

impl RetrySettings {
    /// [`Self::initial_backoff_ms`] as a duration.
    pub fn initial_backoff(&self) -> Duration {
        Duration::from_millis(self.initial_backoff_ms)
    }

    /// [`Self::max_backoff_ms`] as a duration.
    pub fn max_backoff(&self) -> Duration {
        Duration::from_millis(self.max_backoff_ms)
    }

    /// [`Self::max_elapsed_ms`] as a duration.
    pub fn max_elapsed(&self) -> Duration {
        Duration::from_millis(self.max_elapsed_ms)
    }
}

/// What happens to an event whose retries are exhausted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnExhausted {
    /// Stop the process without committing, so the event is redelivered.
    Crash,
    /// Publish the event to the dead-letter topic and move on.
    DeadLetter,
}

/// Dead-letter queue for events that exhausted their retries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DlqSettings {
    /// Dead-letter topic; `{topic}` and `{flavor}` are substituted.
    pub topic: String,
    /// Whether dead-lettering is allowed at all.
    pub enabled: bool,
    /// Crash instead of dead-lettering once this fraction (0 < r <= 1) of the
    /// last `window` events went to the DLQ: a systemic failure, not a
    /// poison message.
    pub max_ratio: f64,
    /// Number of recent events the ratio is computed over.
    pub window: u32,
    /// The ratio is only enforced once this many events were seen.
    pub min_events: u32,
}

impl Default for DlqSettings {
    fn default() -> Self {
        Self {
            topic: "{topic}.dlq.{flavor}".to_owned(),
            enabled: true,
            max_ratio: 0.5,
            window: 200,
            min_events: 50,
        }
    }
}

impl DlqSettings {
    /// The dead-letter topic for events from `topic` handled by `flavor`.
    pub fn topic_for(&self, topic: &str, flavor: &str) -> String {
        crate::runtime::policy::dlq_topic(&self.topic, topic, flavor)
    }
}

/// Batching for flavors that handle events in batches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BatchSettings {
    /// Flush once this many events are buffered.
    pub max_events: u32,
    /// Flush once the buffered payloads reach this many bytes.
    pub max_bytes: u64,
    /// Flush at the latest this long after the first buffered event.
    pub max_wait_ms: u64,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            max_events: 500,
            max_bytes: 4_000_000,
            max_wait_ms: 500,
        }
    }
}

impl BatchSettings {
    /// [`Self::max_wait_ms`] as a duration.
    pub fn max_wait(&self) -> Duration {
        Duration::from_millis(self.max_wait_ms)
    }
}

/// Firing durable timers (`kit::timers`), for flavors that schedule them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimerSettings {
    /// Between polls for due timers when the last one found less than a batch.
    pub poll_ms: u64,
    /// Most due timers claimed by one poll (one statement).
    pub batch: u32,
    /// How long a claim holds; longer than `handler_timeout_ms` (a flavor
    /// that fires timers refuses to start otherwise): a firing must end
    /// inside its claim, or another owner may take it over.
    pub lease_ms: u64,
}

impl Default for TimerSettings {
    fn default() -> Self {
        Self {
            poll_ms: 250,
            batch: 500,
            lease_ms: 60_000,
        }
    }
}
