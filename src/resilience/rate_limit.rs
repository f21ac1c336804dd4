//! Outbound rate limits per dependency: a token bucket each, process-wide,
//! configured under `rate_limits.<dependency>` and changed live. The HTTP base
//! waits for a token before each call, so a burst of retries or a busy
//! partition cannot exceed what the vendor allows (e.g. Jira's per-second
//! burst limits). When the vendor answers 429 (or 503) with a wait, the whole
//! dependency is held for that long: every caller, of every flavor in the
//! process, waits, not only the event that got the answer.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

/// A dependency's limit.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained calls per second.
    pub per_second: f64,
    /// Calls allowed at once after a quiet spell.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

fn default_burst() -> u32 {
    1
}

impl RateLimitConfig {
    /// A problem with the values, if any.
    pub fn problem(&self) -> Option<String> {
        (!(self.per_second > 0.0 && self.per_second.is_finite()))
            .then(|| format!("per_second must be > 0, got {}", self.per_second))
    }
}

/// A token bucket.
#[derive(Debug)]
struct Bucket {
    config: RateLimitConfig,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(config: RateLimitConfig, now: Instant) -> Self {
        let tokens = f64::from(config.burst.max(1));
        Self {
            config,
            tokens,
            at: now,
        }
    }

    /// Takes a token; returns how long the caller must wait before using it.
    fn take(&mut self, now: Instant) -> Duration {
        let rate = self.config.per_second;
        let cap = f64::from(self.config.burst.max(1));
        self.tokens =
            (self.tokens + now.saturating_duration_since(self.at).as_secs_f64() * rate).min(cap);
        self.at = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / rate)
        }
    }
}

/// Every dependency's bucket, and the holds the vendors asked for.
#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<String, Bucket>>,
    holds: Mutex<HashMap<String, Instant>>,
}

/// The process-wide limits.
pub fn registry() -> &'static RateLimits {
    static REGISTRY: OnceLock<RateLimits> = OnceLock::new();
    REGISTRY.get_or_init(RateLimits::default)
}

/// Microseconds from the process's first stamp to `at`: the clock of the
/// limiter's log lines, so that a hold and the calls admitted around it can
/// be compared exactly, whenever the lines are written.
fn stamp(at: Instant) -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(|| at);
    at.saturating_duration_since(epoch).as_micros() as u64
}

impl RateLimits {
    /// Replaces every limit (dependencies not named become unlimited).
    pub fn configure(&self, limits: &std::collections::BTreeMap<String, RateLimitConfig>) {
        let now = Instant::now();
        if let Ok(mut b) = self.buckets.lock() {
            b.retain(|name, _| limits.contains_key(name));
            for (name, config) in limits {
                match b.get_mut(name) {
                    Some(bucket) => bucket.config = config.clone(),
                    None => {
                        b.insert(name.clone(), Bucket::new(config.clone(), now));
                    }
                }
            }
        }
    }

    /// Holds every call to `dependency` for `wait` (a 429's Retry-After):
    /// calls already waiting and new ones start only after it. A longer
    /// hold already in force stays.
    pub fn hold(&self, dependency: &str, wait: Duration) {
        let Ok(mut holds) = self.holds.lock() else {
            return;
        };
        // Read under the lock that admissions read under: a call admitted
        // after this instant sees the hold.
        let now = Instant::now();
        let held = holds.entry(dependency.to_string()).or_insert(now);
        *held = (*held).max(now + wait);
        let until = *held;
        drop(holds);
        tracing::warn!(
            dependency,
            wait_ms = wait.as_millis() as u64,
            from_us = stamp(now),
            until_us = stamp(until),
            "dependency held as the vendor asked"
        );
    }

    /// How long `dependency` is still held, and the instant that was read at.
    fn held(&self, dependency: &str) -> (Instant, Duration) {
        let holds = self.holds.lock();
        let now = Instant::now();
        let left = (holds.ok())
            .and_then(|holds| holds.get(dependency).copied())
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        (now, left)
    }

    /// Waits until a call to `dependency` is allowed: past any hold, then a
    /// token of its bucket. The hold is checked again after pacing, with no
    /// wait between that check and the call, so no call starts inside a
    /// hold, even one set while it was pacing.
    pub async fn acquire(&self, dependency: &str) {
        let mut paced = false;
        loop {
            let (now, held) = self.held(dependency);
            if !held.is_zero() {
                // A hold may be extended while waiting: check again after.
                tokio::time::sleep(held).await;
                continue;
            }
            let wait = match paced {
                true => Duration::ZERO,
                false => self.token(dependency),
            };
            if wait.is_zero() {
                tracing::trace!(dependency, at_us = stamp(now), "call admitted");
                return;
            }
            paced = true;
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes a token of `dependency`'s bucket; how long to wait before using it.
    fn token(&self, dependency: &str) -> Duration {
        (self.buckets.lock().ok())
            .and_then(|mut b| {
                b.get_mut(dependency)
                    .map(|bucket| bucket.take(Instant::now()))
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_paces_at_the_rate() {
        let t = Instant::now();
        let mut b = Bucket::new(
            RateLimitConfig {
                per_second: 10.0,
                burst: 3,
            },
            t,
        );
        assert_eq!(b.take(t), Duration::ZERO);
        assert_eq!(b.take(t), Duration::ZERO);
        assert_eq!(b.take(t), Duration::ZERO);
        let wait = b.take(t);
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        let wait = b.take(t);
        assert!(
            (wait.as_secs_f64() - 0.2).abs() < 1e-6,
            "queued callers wait in turn: {wait:?}"
        );
        let later = t + Duration::from_secs(10);
        assert_eq!(b.take(later), Duration::ZERO, "refilled up to the burst");
    }

    fn limited(per_second: f64) -> RateLimits {
        let limits = RateLimits::default();
        let config = RateLimitConfig {
            per_second,
            burst: 1,
        };
        limits.configure(&[("dep".to_string(), config)].into());
        limits
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_spaces_calls_to_the_rate() {
        let limits = limited(50.0);
        let start = Instant::now();
        for _ in 0..6 {
            limits.acquire("dep").await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(100),
            "6 calls at 50/s"
        );
        limits.acquire("other").await;
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(100),
            "others unlimited"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_delays_every_caller_of_the_dependency_and_only_it() {
        let limits = std::sync::Arc::new(RateLimits::default());
        limits.hold("vendor", Duration::from_millis(300));
        limits.hold("vendor", Duration::from_millis(100)); // a shorter one does not cut it
        let start = Instant::now();
        let call = |dependency: &'static str| {
            let limits = limits.clone();
            tokio::spawn(async move {
                limits.acquire(dependency).await;
                start.elapsed()
            })
        };
        let callers: Vec<_> = (0..3).map(|_| call("vendor")).collect();
        let other = call("other");
        for waited in futures::future::join_all(callers).await {
            assert_eq!(waited.unwrap(), Duration::from_millis(300));
        }
        assert_eq!(other.await.unwrap(), Duration::ZERO);
        assert_eq!(limits.held("vendor").1, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_set_while_a_call_is_pacing_holds_that_call_too() {
        let limits = std::sync::Arc::new(limited(10.0));
        let start = Instant::now();
        limits.acquire("dep").await; // the burst
        let pacing = {
            let limits = limits.clone();
            tokio::spawn(async move {
                limits.acquire("dep").await; // waits 100 ms for a token
                start.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        limits.hold("dep", Duration::from_millis(500));
        assert_eq!(pacing.await.unwrap(), Duration::from_millis(550));
    }

    #[test]
    fn non_positive_rates_are_problems() {
        assert!(RateLimitConfig {
            per_second: 0.0,
            burst: 1
        }
        .problem()
        .is_some());
        assert!(RateLimitConfig {
            per_second: 2.5,
            burst: 1
        }
        .problem()
        .is_none());
    }
}
