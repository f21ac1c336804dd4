//! Liveness and readiness.
//!
//! Live: the Kafka poll loop made progress within `telemetry.liveness_timeout_secs`
//! (it beats a [`Heartbeat`] on every iteration, paused or not). Ready: the
//! live consumer has partitions, the store answers a ping, and no circuit breaker
//! of a required dependency is open. Breaker code reports its state through
//! [`super::breaker_state`]; flavors name the dependencies they cannot work
//! without with [`require_dependency`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

/// What readiness asks of the consumer: how many partitions it holds.
/// (Every `source::SourceControl` answers it.)
pub trait Assignment: Send + Sync {
    /// Partitions assigned now.
    fn assigned_count(&self) -> usize;
}

/// What readiness asks of the store: does it answer. (`store::Store`
/// answers it.)
#[async_trait::async_trait]
pub trait Ping: Send + Sync {
    /// `Err` names why not.
    async fn ping(&self) -> Result<(), String>;
}

/// The state name of an open breaker (readiness fails on it).
pub const OPEN: &str = "open";

/// Longest a readiness probe waits for the store.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Breaker states as reported, and the dependencies readiness requires.
#[derive(Default)]
struct Breakers {
    /// The state's name (`closed`, `half-open`, `open`) per dependency.
    states: BTreeMap<String, &'static str>,
    required: BTreeSet<String>,
}

fn breakers() -> &'static Mutex<Breakers> {
    static BREAKERS: OnceLock<Mutex<Breakers>> = OnceLock::new();
    BREAKERS.get_or_init(Default::default)
}

/// Records a breaker's state; returns the state it had before.
pub(super) fn set_breaker(dependency: &str, state: &'static str) -> Option<&'static str> {
    let mut b = breakers().lock().unwrap_or_else(|e| e.into_inner());
    b.states.insert(dependency.to_string(), state)
}

/// Makes readiness fail while `dependency`'s breaker is open.
pub fn require_dependency(dependency: &str) {
    let mut b = breakers().lock().unwrap_or_else(|e| e.into_inner());
    b.required.insert(dependency.to_string());
}

/// Required dependencies whose breaker is open.
pub fn open_required() -> Vec<String> {
    let b = breakers().lock().unwrap_or_else(|e| e.into_inner());
    b.required
        .iter()
        .filter(|d| b.states.get(*d) == Some(&OPEN))
        .cloned()
        .collect()
}

/// Beaten by a poll loop on every iteration; liveness reads its age.
#[derive(Debug, Clone)]
pub struct Heartbeat(Arc<AtomicU64>);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self(Arc::new(AtomicU64::new(now_ms())))
    }
}

impl Heartbeat {
    /// The loop made progress.
    pub fn beat(&self) {
        self.0.store(now_ms(), Ordering::Relaxed);
    }

    /// Time since the last beat.
    pub fn age(&self) -> Duration {
        Duration::from_millis(now_ms().saturating_sub(self.0.load(Ordering::Relaxed)))
    }
}

/// A probe's answer: overall, and per check.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether the probe passes.
    pub ok: bool,
    /// Each check's finding.
    pub checks: BTreeMap<&'static str, String>,
}

impl Report {
    fn check(&mut self, name: &'static str, result: Result<String, String>) {
        let finding = result.unwrap_or_else(|why| {
            self.ok = false;
            why
        });
        self.checks.insert(name, finding);
    }
}

/// What the probes look at in one running flavor.
pub struct Health {
    liveness_timeout: Duration,
    store: Option<Arc<dyn Ping>>,
    source: OnceLock<(Heartbeat, Arc<dyn Assignment>)>,
}

impl Health {
    /// Probes for a flavor with this store (checked by readiness).
    pub fn new(liveness_timeout: Duration, store: Option<Arc<dyn Ping>>) -> Self {
        Self {
            liveness_timeout,
            store,
            source: OnceLock::new(),
        }
    }

    /// Watches a source whose poll loop beats `heartbeat`.
    pub fn watch_source(&self, heartbeat: Heartbeat, control: Arc<dyn Assignment>) {
        let _ = self.source.set((heartbeat, control));
    }

    /// Liveness: the poll loop beat recently (always, before a source runs).
    pub fn liveness(&self) -> Report {
        let mut report = Report {
            ok: true,
            checks: BTreeMap::new(),
        };
        let poll = match self.source.get() {
            None => Ok("no poll loop yet".to_string()),
            Some((beat, _)) => {
                let age = beat.age();
                let found = format!("last iteration {} ms ago", age.as_millis());
                if age <= self.liveness_timeout {
                    Ok(found)
                } else {
                    Err(format!("stalled: {found}"))
                }
            }
        };
        report.check("poll_loop", poll);
        report
    }

    /// Readiness: a live poll loop with partitions assigned, the store
    /// reachable, no required dependency's breaker open.
    pub async fn readiness(&self) -> Report {
        let mut report = Report {
            ok: true,
            checks: BTreeMap::new(),
        };
        let partitions = match self.source.get() {
            None => Err("source not started".to_string()),
            Some((beat, _)) if beat.age() > self.liveness_timeout => {
                Err("the poll loop is stalled".to_string())
            }
            Some((_, control)) => match control.assigned_count() {
                0 => Err("no partitions assigned".to_string()),
                n => Ok(format!("{n} assigned")),
            },
        };
        report.check("partitions", partitions);
        if let Some(store) = &self.store {
            let ping = match tokio::time::timeout(PING_TIMEOUT, store.ping()).await {
                Ok(Ok(())) => Ok("reachable".to_string()),
                Ok(Err(why)) => Err(format!("unreachable: {why}")),
                Err(_) => Err("ping timed out".to_string()),
            };
            report.check("store", ping);
        }
        let open = open_required();
        let breakers = if open.is_empty() {
            Ok("none open".to_string())
        } else {
            Err(format!("open: {}", open.join(", ")))
        };
        report.check("breakers", breakers);
        report
    }
}
