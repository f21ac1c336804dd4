//! Per-tick metrics of the hot path. Counting every record and outcome in the
//! registry costs a label hash and a lock each; the dispatcher counts in a
//! [`Tally`] instead and flushes it once per tick. Histogram handles are
//! resolved once per run.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::histogram::Histogram;

use crate::event::CaseEvent;
use crate::telemetry::metrics::{metrics, FlavorLabels, ModeLabels, OutcomeLabels, TopicLabels};

/// Counts of one tick, and the run's histogram handles.
pub struct Tally {
    flavor: &'static str,
    records: HashMap<Arc<str>, u64>,
    successes: u64,
    /// Skips per reason label.
    skips: HashMap<String, u64>,
    in_flight: Option<usize>,
    end_to_end: Histogram,
    handler: HandlerTimer,
}

/// A resolved handler-latency histogram, cheap to clone into attempts.
#[derive(Clone)]
pub struct HandlerTimer(Histogram);

impl HandlerTimer {
    /// Observes one handler call (ledger check and write included).
    pub fn observe(&self, elapsed: Duration) {
        self.0.observe(elapsed.as_secs_f64());
    }
}

impl Tally {
    /// A tally for `flavor` whose handler is called in `mode`.
    pub fn new(flavor: &'static str, mode: super::Mode) -> Self {
        let m = metrics();
        let labels = FlavorLabels { flavor };
        let mode = ModeLabels {
            flavor,
            mode: mode.as_str(),
        };
        Self {
            flavor,
            records: HashMap::default(),
            successes: 0,
            skips: HashMap::default(),
            in_flight: None,
            end_to_end: m.end_to_end_seconds.get_or_create(&labels).clone(),
            handler: HandlerTimer(m.handler_seconds.get_or_create(&mode).clone()),
        }
    }

    /// The handler-latency histogram.
    pub fn handler_timer(&self) -> HandlerTimer {
        self.handler.clone()
    }

    /// `n` records of `topic` were taken in.
    pub fn received(&mut self, topic: &Arc<str>, n: usize) {
        match self.records.get_mut(topic) {
            Some(count) => *count += n as u64,
            None => {
                self.records.insert(topic.clone(), n as u64);
            }
        }
    }

    /// An event completed: success (`None`) or a skip (its reason label).
    pub fn completed(&mut self, skip: Option<&str>) {
        let Some(reason) = skip else {
            self.successes += 1;
            return;
        };
        match self.skips.get_mut(reason) {
            Some(count) => *count += 1,
            None => {
                self.skips.insert(reason.to_string(), 1);
            }
        }
    }

    /// An event was handled: observes now − `occurred_at`.
    pub fn end_to_end(&self, event: &CaseEvent) {
        let Some(at) = event.occurred_at.as_ref() else {
            return;
        };
        let occurred = at.seconds as f64 + f64::from(at.nanos) / 1e9;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.end_to_end.observe((now - occurred).max(0.0));
    }

    /// The events taken in and not complete.
    pub fn in_flight(&mut self, events: usize) {
        self.in_flight = Some(events);
    }

    /// Writes the tick's counts to the registry.
    pub fn flush(&mut self) {
        let m = metrics();
        for (topic, n) in self.records.drain() {
            let labels = TopicLabels {
                flavor: self.flavor,
                topic: topic.to_string(),
            };
            m.records.get_or_create(&labels).inc_by(n);
        }
        let successes = std::mem::take(&mut self.successes);
        let skips = self.skips.drain().map(|(reason, n)| ("skip", reason, n));
        let counts = (successes > 0).then(|| ("success", String::new(), successes));
        for (outcome, reason, n) in counts.into_iter().chain(skips) {
            let labels = OutcomeLabels {
                flavor: self.flavor,
                outcome,
                reason,
            };
            m.events.get_or_create(&labels).inc_by(n);
        }
        if let Some(events) = self.in_flight.take() {
            super::InFlight::new(self.flavor, events).emit();
        }
    }
}
