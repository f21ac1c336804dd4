//! The knobs of the runtime, independent of how configuration is loaded.

use std::time::Duration;

use rand::Rng;

/// How events of one partition may run concurrently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// Strict order per record key; different keys run concurrently.
    Key,
    /// Strict order per partition.
    Partition,
}

/// What happens when an event's retry budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExhausted {
    /// Stop the process non-zero with the offset uncommitted.
    Crash,
    /// Dead-letter the event and go on.
    DeadLetter,
}

/// Exponential backoff with full jitter, bounded by attempts and elapsed time.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Base delay of the first retry.
    pub initial: Duration,
    /// Cap of any single delay.
    pub max: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Time from the first attempt after which no retry starts.
    pub max_elapsed: Duration,
    /// What to do when the budget is spent.
    pub on_exhausted: OnExhausted,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
            max_attempts: 10,
            max_elapsed: Duration::from_secs(600),
            on_exhausted: OnExhausted::DeadLetter,
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempt + 1`, or `None` when the budget is spent.
    ///
    /// `hint` (e.g. a `Retry-After`) is a floor: the delay is never shorter.
    pub fn next_delay(
        &self,
        attempt: u32,
        elapsed: Duration,
        hint: Option<Duration>,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts || elapsed >= self.max_elapsed {
            return None;
        }
        Some(self.delay(attempt, hint))
    }

    /// The backoff after attempt `attempt` (full jitter, capped), never
    /// shorter than `hint`, whatever the budget.
    pub fn delay(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let exp = self
            .initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let ceiling = exp.min(self.max);
        let jittered = rand::rng().random_range(Duration::ZERO..=ceiling);
        hint.map_or(jittered, |floor| jittered.max(floor))
    }
}

/// When the dead-letter share of recent events is too high, stop.
#[derive(Debug, Clone)]
pub struct DlqPolicy {
    /// Whether dead-lettering is on; off means a discard is fatal.
    pub enabled: bool,
    /// Topic template; `{topic}` and `{flavor}` are substituted.
    pub topic_template: String,
    /// Highest tolerated share of dead-lettered events in the window.
    pub max_ratio: f64,
    /// How many recent final outcomes the ratio looks at.
    pub window: usize,
    /// Fewest outcomes in the window before the ratio is judged.
    pub min_events: usize,
}

impl Default for DlqPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            topic_template: "{topic}.dlq.{flavor}".into(),
            max_ratio: 0.5,
            window: 200,
            min_events: 50,
        }
    }
}

impl DlqPolicy {
    /// The dead-letter topic for a source topic.
    pub fn topic_for(&self, topic: &str, flavor: &str) -> String {
        dlq_topic(&self.topic_template, topic, flavor)
    }
}

/// Fills a dead-letter topic template: `{topic}` and `{flavor}` are
/// substituted. The one place the template is read (settings validation and
/// `dlq` tools use it too).
pub fn dlq_topic(template: &str, topic: &str, flavor: &str) -> String {
    template
        .replace("{topic}", topic)
        .replace("{flavor}", flavor)
}

/// When a batch closes.
#[derive(Debug, Clone)]
pub struct BatchLimits {
    /// Most events in one batch.
    pub max_events: usize,
    /// Most payload bytes in one batch.
    pub max_bytes: usize,
    /// Longest a batch stays open after its first event.
    pub max_wait: Duration,
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self {
            max_events: 500,
            max_bytes: 4_000_000,
            max_wait: Duration::from_millis(500),
        }
    }
}

/// Everything the runtime needs besides the source, the handler and the store.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Ordering guarantee inside a partition.
    pub ordering: Ordering,
    /// Most handler calls running at once (single-event flavors).
    pub max_in_flight: usize,
    /// Most records taken in and not yet complete (read, waiting, running).
    pub buffer_records: usize,
    /// Most bytes of those records.
    pub buffer_bytes: usize,
    /// Longest one handler call may take; past it the attempt is a transient failure.
    pub handler_timeout: Duration,
    /// Longest an orderly stop may take.
    pub shutdown_grace: Duration,
    /// Longest a revoke waits for in-flight work of the revoked partitions.
    pub drain_timeout: Duration,
    /// Retry budget.
    pub retry: RetryPolicy,
    /// Dead-letter behaviour.
    pub dlq: DlqPolicy,
    /// Batch limits (batch flavors only).
    pub batch: BatchLimits,
    /// The live-reloadable part (flags, maintenance windows, breakers' dependencies,
    /// retry budget); `None` runs with `retry` as is and no flags or windows.
    pub live: Option<std::sync::Arc<super::live::Live>>,
    /// Durable timers: the runtime polls and fires the flavor's due timers
    /// on the partitions it owns (single-event flavors with a store only).
    pub timers: Option<TimerPolicy>,
}

/// How the runtime fires a flavor's durable timers (`kit::timers`).
#[derive(Debug, Clone)]
pub struct TimerPolicy {
    /// The wall clock that decides what is due (a `ManualClock` in tests).
    pub clock: std::sync::Arc<dyn crate::resilience::maintenance::Clock>,
    /// Between polls when the last one found less than a full batch.
    pub poll_every: Duration,
    /// Most timers claimed by one poll (one statement).
    pub batch: usize,
    /// How long a claim holds: longer than a firing takes (the handler
    /// timeout), or another owner may take it over and the first firing's
    /// commit is refused by the fence.
    pub lease: Duration,
}

impl TimerPolicy {
    /// The policy for a flavor whose handler may take `handler_timeout`.
    pub fn new(handler_timeout: Duration) -> Self {
        Self {
            clock: std::sync::Arc::new(crate::resilience::maintenance::SystemClock),
            poll_every: Duration::from_millis(250),
            batch: 500,
            lease: handler_timeout + Duration::from_secs(30),
        }
    }
}

impl RuntimeConfig {
    /// A source channel whose credit is this config's buffer.
    pub fn channels(&self) -> (crate::source::SourceTx, crate::source::SourceRx) {
        crate::source::channels_with(self.buffer_records, self.buffer_bytes)
    }

    /// The retry budget in force now (live when reloadable).
    pub fn retry_now(&self) -> RetryPolicy {
        self.live
            .as_ref()
            .map_or_else(|| self.retry.clone(), |l| l.retry())
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            ordering: Ordering::Key,
            max_in_flight: 256,
            buffer_records: 1_024,
            buffer_bytes: 4 << 20,
            handler_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(20),
            drain_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            dlq: DlqPolicy::default(),
            batch: BatchLimits::default(),
            live: None,
            timers: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_the_exponential_ceiling_and_the_cap() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for attempt in 1..8 {
            let ceiling = Duration::from_millis(100 * (1 << (attempt - 1))).min(p.max);
            let d = p.next_delay(attempt, Duration::ZERO, None).unwrap();
            assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
        }
    }

    #[test]
    fn budget_ends_on_attempts_or_elapsed_time() {
        let p = RetryPolicy {
            max_attempts: 3,
            max_elapsed: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        assert!(p.next_delay(2, Duration::ZERO, None).is_some());
        assert!(p.next_delay(3, Duration::ZERO, None).is_none());
        assert!(p.next_delay(1, Duration::from_secs(5), None).is_none());
    }

    #[test]
    fn retry_after_is_a_floor() {
        let p = RetryPolicy::default();
        let d = p
            .next_delay(1, Duration::ZERO, Some(Duration::from_secs(7)))
            .unwrap();
        assert!(d >= Duration::from_secs(7));
    }

    #[test]
    fn dlq_topic_template() {
        assert_eq!(
            DlqPolicy::default().topic_for("case-events", "jira"),
            "case-events.dlq.jira"
        );
    }
}
