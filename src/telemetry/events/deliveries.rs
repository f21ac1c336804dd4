//! Events of the delivery worker (`runtime/deliveries`). The metric handles
//! are resolved once per run ([`DeliveryTally::new`]), not per attempt.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use crate::telemetry::metrics::{metrics, DeliveryLabels, FlavorLabels};

/// What came of an attempt: the `result` label of `ceh_delivery_attempts_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryResult {
    /// The destination took it.
    Delivered,
    /// It failed; due again after the backoff (or the destination's hint).
    Retry,
    /// Refused for good, or past the retry horizon: a dead letter.
    Dead,
    /// Its destination was disabled (410, or failing too long).
    Disabled,
    /// Its lease ran out and another worker took it over: nothing recorded.
    Stale,
}

impl DeliveryResult {
    const ALL: [DeliveryResult; 5] = [
        Self::Delivered,
        Self::Retry,
        Self::Dead,
        Self::Disabled,
        Self::Stale,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retry => "retry",
            Self::Dead => "dead",
            Self::Disabled => "disabled",
            Self::Stale => "stale",
        }
    }
}

/// One run's delivery metrics, resolved once.
pub struct DeliveryTally {
    flavor: &'static str,
    latency: Histogram,
    results: [Counter; 5],
    waiting: Gauge,
    over_depth: Gauge,
    disabled: Gauge,
}

impl DeliveryTally {
    /// The handles of `flavor`'s series.
    pub fn new(flavor: &'static str) -> Self {
        let m = metrics();
        let labels = FlavorLabels { flavor };
        let results = DeliveryResult::ALL.map(|r| {
            let labels = DeliveryLabels {
                flavor,
                result: r.as_str(),
            };
            m.delivery_attempts.get_or_create(&labels).clone()
        });
        Self {
            flavor,
            latency: m.delivery_latency.get_or_create(&labels).clone(),
            results,
            waiting: m.delivery_waiting.get_or_create(&labels).clone(),
            over_depth: m.delivery_over_depth.get_or_create(&labels).clone(),
            disabled: m.delivery_disabled.get_or_create(&labels).clone(),
        }
    }

    /// Deliveries that reached their destination `latency_ms` after their
    /// events (each observed in `ceh_delivery_latency_seconds`).
    pub fn delivered(&self, latencies_ms: impl IntoIterator<Item = i64>) {
        let mut n = 0;
        for ms in latencies_ms {
            self.latency.observe(ms.max(0) as f64 / 1_000.0);
            n += 1;
        }
        self.results[0].inc_by(n);
    }

    /// What came of an attempt other than a delivery, counted and logged at
    /// a level fitting it.
    pub fn settled(
        &self,
        destination: &str,
        delivery_id: &str,
        result: DeliveryResult,
        error: &str,
    ) {
        let flavor = self.flavor;
        match result {
            DeliveryResult::Dead => tracing::error!(
                flavor,
                destination,
                delivery_id,
                error,
                "delivery dead: it will not be retried (resend re-queues it)"
            ),
            DeliveryResult::Disabled => tracing::error!(
                flavor,
                destination,
                delivery_id,
                error,
                alert = true,
                "destination disabled: its rows wait until it is enabled"
            ),
            DeliveryResult::Retry => {
                tracing::warn!(
                    flavor,
                    destination,
                    delivery_id,
                    error,
                    "delivery failed; retrying"
                )
            }
            _ => tracing::debug!(
                flavor,
                destination,
                delivery_id,
                result = result.as_str(),
                "delivery settled"
            ),
        }
        let i = (DeliveryResult::ALL.iter())
            .position(|r| *r == result)
            .unwrap_or(0);
        self.results[i].inc();
    }

    /// The queue at the last depth check: rows waiting, destinations over
    /// depth, destinations disabled.
    pub fn depth(&self, waiting: i64, over_depth: i64, disabled: i64) {
        self.waiting.set(waiting);
        self.over_depth.set(over_depth);
        self.disabled.set(disabled);
    }

    /// A store operation on deliveries failed (a lease, an outcome, a depth
    /// check); leases make it good later.
    pub fn store_failed(&self, what: &'static str, error: &str) {
        let flavor = self.flavor;
        tracing::warn!(flavor, what, error, "delivery store operation failed");
    }
}
