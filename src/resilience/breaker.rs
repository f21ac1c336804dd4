//! Circuit breakers, one per downstream dependency.
//!
//! Closed → open when the failure share of the last `window` calls exceeds
//! `failure_ratio` (after at least `min_volume` calls); open → half-open after
//! `cool_down`, where one probe at a time is let through; a successful probe
//! closes the breaker, a failed one opens it again. While a breaker is open the
//! runtime does not attempt events that need the dependency: it defers them
//! and pauses their partitions (see `runtime::attempt`).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Breaker limits.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakerConfig {
    /// Calls the failure share is computed over.
    pub window: usize,
    /// Fewest calls in the window before the breaker may open.
    pub min_volume: usize,
    /// Failure share above which the breaker opens.
    pub failure_ratio: f64,
    /// Time open before a probe is let through, in milliseconds.
    pub cool_down_ms: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            window: 50,
            min_volume: 10,
            failure_ratio: 0.5,
            cool_down_ms: 5_000,
        }
    }
}

/// Where a breaker is (telemetry gets its name and gauge value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Calls flow.
    Closed,
    /// A trial call is allowed.
    HalfOpen,
    /// Calls are refused.
    Open,
}

impl State {
    /// The log spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::HalfOpen => "half-open",
            State::Open => "open",
        }
    }

    /// The gauge value: 0 closed, 1 half-open, 2 open.
    pub fn gauge(self) -> i64 {
        match self {
            State::Closed => 0,
            State::HalfOpen => 1,
            State::Open => 2,
        }
    }
}

/// May a call go now?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Yes.
    Allowed,
    /// No; ask again after this long.
    Rejected(Duration),
}

/// One dependency's breaker.
#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    recent: VecDeque<bool>,
    failures: usize,
    state: State,
    opened_at: Option<Instant>,
    probing: bool,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            recent: VecDeque::new(),
            failures: 0,
            state: State::Closed,
            opened_at: None,
            probing: false,
        }
    }

    /// The current state (an open breaker past its cool-down reads half-open).
    pub fn state(&self, now: Instant) -> State {
        match (self.state, self.opened_at) {
            (State::Open, Some(at)) if now >= at + self.cool_down() => State::HalfOpen,
            (s, _) => s,
        }
    }

    fn cool_down(&self) -> Duration {
        Duration::from_millis(self.config.cool_down_ms)
    }

    /// Whether a call may go now. In half-open, one probe at a time.
    pub fn permit(&mut self, now: Instant) -> Permit {
        match self.state(now) {
            State::Closed => Permit::Allowed,
            State::Open => Permit::Rejected(
                (self.opened_at.unwrap_or(now) + self.cool_down()).saturating_duration_since(now),
            ),
            State::HalfOpen if self.probing => {
                Permit::Rejected(self.cool_down().min(Duration::from_secs(1)))
            }
            State::HalfOpen => {
                self.state = State::HalfOpen;
                self.probing = true;
                Permit::Allowed
            }
        }
    }

    /// Records a call's result; returns the new state when it changed.
    pub fn record(&mut self, ok: bool, now: Instant) -> Option<State> {
        let before = self.state(now);
        match before {
            State::HalfOpen => {
                self.probing = false;
                if ok {
                    self.close()
                } else {
                    self.open(now)
                }
            }
            State::Open => {}
            State::Closed => {
                self.push(ok);
                let n = self.recent.len();
                if n >= self.config.min_volume
                    && self.failures as f64 / n as f64 > self.config.failure_ratio
                {
                    self.open(now);
                }
            }
        }
        let after = self.state(now);
        (after != before).then_some(after)
    }

    fn push(&mut self, ok: bool) {
        if self.recent.len() >= self.config.window.max(1) && self.recent.pop_front() == Some(false)
        {
            self.failures -= 1;
        }
        self.recent.push_back(ok);
        self.failures += usize::from(!ok);
    }

    fn open(&mut self, now: Instant) {
        self.state = State::Open;
        self.opened_at = Some(now);
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.opened_at = None;
        self.recent.clear();
        self.failures = 0;
    }
}

/// Every dependency's breaker, process-wide.
#[derive(Debug, Default)]
pub struct Breakers {
    inner: Mutex<HashMap<String, Breaker>>,
    configs: Mutex<HashMap<String, BreakerConfig>>,
}

/// The process-wide registry.
pub fn registry() -> &'static Breakers {
    static REGISTRY: OnceLock<Breakers> = OnceLock::new();
    REGISTRY.get_or_init(Breakers::default)
}

impl Breakers {
    /// Sets a dependency's limits (before or after its first use).
    pub fn configure(&self, dependency: &str, config: BreakerConfig) {
        if let Ok(mut c) = self.configs.lock() {
            c.insert(dependency.to_string(), config.clone());
        }
        if let Ok(mut b) = self.inner.lock() {
            if let Some(existing) = b.get_mut(dependency) {
                existing.config = config;
            }
        }
    }

    fn with<T>(&self, dependency: &str, f: impl FnOnce(&mut Breaker) -> T) -> Option<T> {
        let config = self
            .configs
            .lock()
            .ok()?
            .get(dependency)
            .cloned()
            .unwrap_or_default();
        let mut map = self.inner.lock().ok()?;
        let breaker = map
            .entry(dependency.to_string())
            .or_insert_with(|| Breaker::new(config));
        Some(f(breaker))
    }

    /// Whether a call to `dependency` may go now.
    pub fn permit(&self, dependency: &str) -> Permit {
        self.with(dependency, |b| b.permit(Instant::now()))
            .unwrap_or(Permit::Allowed)
    }

    /// Records a call to `dependency`; logs and reports transitions.
    pub fn record(&self, dependency: &str, ok: bool) {
        if let Some(Some(state)) = self.with(dependency, |b| b.record(ok, Instant::now())) {
            crate::telemetry::breaker_state(dependency, state.as_str(), state.gauge());
        }
    }

    /// The state of every known breaker.
    pub fn states(&self) -> Vec<(String, State)> {
        let now = Instant::now();
        self.inner
            .lock()
            .map(|m| m.iter().map(|(k, b)| (k.clone(), b.state(now))).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            window: 10,
            min_volume: 4,
            failure_ratio: 0.5,
            cool_down_ms: 1_000,
        }
    }

    #[test]
    fn opens_on_failure_share_after_min_volume() {
        let mut b = Breaker::new(cfg());
        let t = Instant::now();
        assert_eq!(b.record(false, t), None);
        assert_eq!(b.record(false, t), None);
        assert_eq!(b.record(false, t), None, "below min volume");
        assert_eq!(b.record(false, t), Some(State::Open));
        assert!(matches!(b.permit(t), Permit::Rejected(d) if d <= Duration::from_secs(1)));
    }

    #[test]
    fn successes_keep_it_closed() {
        let mut b = Breaker::new(cfg());
        let t = Instant::now();
        for ok in [true, false, true, false, true, true] {
            assert_eq!(b.record(ok, t), None);
        }
        assert_eq!(b.state(t), State::Closed);
    }

    #[test]
    fn half_open_lets_one_probe_through_and_closes_on_success() {
        let mut b = Breaker::new(cfg());
        let t = Instant::now();
        for _ in 0..4 {
            b.record(false, t);
        }
        let later = t + Duration::from_millis(1_001);
        assert_eq!(b.state(later), State::HalfOpen);
        assert_eq!(b.permit(later), Permit::Allowed);
        assert!(
            matches!(b.permit(later), Permit::Rejected(_)),
            "only one probe at a time"
        );
        assert_eq!(b.record(true, later), Some(State::Closed));
        assert_eq!(b.permit(later), Permit::Allowed);
    }

    #[test]
    fn a_failed_probe_opens_it_again() {
        let mut b = Breaker::new(cfg());
        let t = Instant::now();
        for _ in 0..4 {
            b.record(false, t);
        }
        let later = t + Duration::from_millis(1_001);
        assert_eq!(b.permit(later), Permit::Allowed);
        assert_eq!(b.record(false, later), Some(State::Open));
        assert!(matches!(b.permit(later), Permit::Rejected(_)));
    }
}
