//! Outbound rate limits per dependency: a token bucket each, process-wide,
//! configured under `rate_limits.<dependency>` and changed live. The HTTP base
//! waits for a token before each call, so a burst of retries or a busy
//! partition cannot exceed what the vendor allows (e.g. Jira's per-second
//! burst limits). When the vendor answers 429 (or 503) with a wait, the whole
//! dependency is held for that long: every caller, of every flavor in the
//! process, waits, not only the event that got the answer.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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
        let until = Instant::now() + wait;
        if let Ok(mut holds) = self.holds.lock() {
            let held = holds.entry(dependency.to_string()).or_insert(until);
            *held = (*held).max(until);
        }
    }

    /// How long `dependency` is still held.
    pub fn held_for(&self, dependency: &str) -> Duration {
        let now = Instant::now();
        self.holds
            .lock()
            .ok()
            .and_then(|holds| holds.get(dependency).copied())
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now))
    }

    /// Waits until a call to `dependency` is allowed: past any hold, then
    /// a token of its bucket.
    pub async fn acquire(&self, dependency: &str) {
        loop {
            let held = self.held_for(dependency);
            if held.is_zero() {
                break;
            }
            // A hold may be extended while waiting: check again after.
            tokio::time::sleep(held).await;
        }
        let wait = self
            .buckets
            .lock()
            .ok()
            .and_then(|mut b| {
                b.get_mut(dependency)
                    .map(|bucket| bucket.take(Instant::now()))
            })
            .unwrap_or_default();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
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

    #[tokio::test]
    async fn acquire_spaces_calls_to_the_rate() {
        let limits = RateLimits::default();
        limits.configure(
            &[(
                "dep".to_string(),
                RateLimitConfig {
                    per_second: 50.0,
                    burst: 1,
                },
            )]
            .into(),
        );
        let start = tokio::time::Instant::now();
        for _ in 0..6 {
            limits.acquire("dep").await;
        }
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(99),
            "6 calls at 50/s take ≥ 100 ms: {took:?}"
        );
        limits.acquire("other").await;
    }

    #[tokio::test]
    async fn a_hold_delays_every_caller_of_the_dependency_and_only_it() {
        let limits = std::sync::Arc::new(RateLimits::default());
        limits.hold("vendor", Duration::from_millis(300));
        limits.hold("vendor", Duration::from_millis(100)); // a shorter one does not cut it
        let start = Instant::now();
        let callers = (0..3).map(|_| {
            let limits = limits.clone();
            tokio::spawn(async move {
                limits.acquire("vendor").await;
                start.elapsed()
            })
        });
        let other = {
            let limits = limits.clone();
            tokio::spawn(async move {
                limits.acquire("other").await;
                start.elapsed()
            })
        };
        for waited in futures::future::join_all(callers).await {
            let waited = waited.unwrap();
            assert!(waited >= Duration::from_millis(290), "{waited:?}");
        }
        let other = other.await.unwrap();
        assert!(other < Duration::from_millis(100), "{other:?}");
        assert_eq!(limits.held_for("vendor"), Duration::ZERO);
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
