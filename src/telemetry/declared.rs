//! Metrics a flavor declares in its registry row, registered through this
//! one path beside the runtime's families (`ceh_<name>`), and rendered with
//! them. Label values are `&'static str`: a flavor cannot label a series
//! with unbounded data (ids, messages) by construction.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a declared metric's series: the flavor, then the declared
/// label names with their values.
pub type Labels = Vec<(&'static str, &'static str)>;

/// What a metric is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A count that only goes up (rendered `<name>_total`).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// A distribution, with these bucket bounds.
    Histogram(&'static [f64]),
}

/// A metric in a flavor's registry row.
#[derive(Debug)]
pub struct MetricSpec {
    /// The name after `ceh_`; it starts with the flavor's name in
    /// snake_case (checked by the registry tests).
    pub name: &'static str,
    /// The help text.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// The label names (beside `flavor`); each sample gives one value per name.
    pub labels: &'static [&'static str],
}

/// A registered family.
#[derive(Clone)]
pub enum Registered {
    /// A counter family.
    Counter(Family<Labels, Counter>),
    /// A gauge family.
    Gauge(Family<Labels, Gauge>),
    /// A histogram family.
    Histogram(Family<Labels, Histogram, HistogramMaker>),
}

/// Builds a histogram with the declared buckets.
#[derive(Clone)]
pub struct HistogramMaker(&'static [f64]);

impl prometheus_client::metrics::family::MetricConstructor<Histogram> for HistogramMaker {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

struct Declared {
    registry: Registry,
    families: HashMap<&'static str, Registered>,
}

fn declared() -> &'static Mutex<Declared> {
    static DECLARED: OnceLock<Mutex<Declared>> = OnceLock::new();
    DECLARED.get_or_init(|| {
        Mutex::new(Declared {
            registry: Registry::with_prefix("ceh"),
            families: HashMap::new(),
        })
    })
}

/// The family of `spec`, registered on first use (a flavor built twice in
/// one process, as tests do, shares it).
pub fn family(spec: &'static MetricSpec) -> Registered {
    let mut d = declared().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(family) = d.families.get(spec.name) {
        return family.clone();
    }
    let family = match spec.kind {
        Kind::Counter => Registered::Counter(Family::default()),
        Kind::Gauge => Registered::Gauge(Family::default()),
        Kind::Histogram(buckets) => {
            Registered::Histogram(Family::new_with_constructor(HistogramMaker(buckets)))
        }
    };
    match &family {
        Registered::Counter(f) => d.registry.register(spec.name, spec.help, f.clone()),
        Registered::Gauge(f) => d.registry.register(spec.name, spec.help, f.clone()),
        Registered::Histogram(f) => d.registry.register(spec.name, spec.help, f.clone()),
    }
    d.families.insert(spec.name, family.clone());
    family
}

/// Renders the declared families (no `# EOF`; [`super::metrics::render`] ends the text).
pub(crate) fn render_into(out: &mut String) {
    let d = declared().lock().unwrap_or_else(|e| e.into_inner());
    let _ = prometheus_client::encoding::text::encode_registry(out, &d.registry);
}

fn labels(flavor: &'static str, spec: &MetricSpec, values: &[&'static str]) -> Labels {
    debug_assert_eq!(
        values.len(),
        spec.labels.len(),
        "{}: label values",
        spec.name
    );
    let mut labels = Vec::with_capacity(spec.labels.len() + 1);
    labels.push(("flavor", flavor));
    for (i, name) in spec.labels.iter().enumerate() {
        labels.push((*name, values.get(i).copied().unwrap_or("unknown")));
    }
    labels
}

/// A declared counter, as one flavor writes it.
#[derive(Clone)]
pub struct FlavorCounter {
    flavor: &'static str,
    spec: &'static MetricSpec,
    family: Family<Labels, Counter>,
}

impl FlavorCounter {
    /// Adds one to the series of `values` (one per declared label, in order).
    pub fn inc(&self, values: &[&'static str]) {
        let labels = labels(self.flavor, self.spec, values);
        self.family.get_or_create(&labels).inc();
    }
}

/// A declared gauge, as one flavor writes it.
#[derive(Clone)]
pub struct FlavorGauge {
    flavor: &'static str,
    spec: &'static MetricSpec,
    family: Family<Labels, Gauge>,
}

impl FlavorGauge {
    /// Sets the series of `values`.
    pub fn set(&self, values: &[&'static str], value: i64) {
        let labels = labels(self.flavor, self.spec, values);
        self.family.get_or_create(&labels).set(value);
    }
}

/// A declared histogram, as one flavor writes it.
#[derive(Clone)]
pub struct FlavorHistogram {
    flavor: &'static str,
    spec: &'static MetricSpec,
    family: Family<Labels, Histogram, HistogramMaker>,
}

impl FlavorHistogram {
    /// Records one observation in the series of `values`.
    pub fn observe(&self, values: &[&'static str], value: f64) {
        let labels = labels(self.flavor, self.spec, values);
        self.family.get_or_create(&labels).observe(value);
    }
}

/// The handle of a declared metric of `flavor`, if it is of `kind`'s kind.
pub(crate) fn counter(flavor: &'static str, spec: &'static MetricSpec) -> Option<FlavorCounter> {
    match family(spec) {
        Registered::Counter(family) => Some(FlavorCounter {
            flavor,
            spec,
            family,
        }),
        _ => None,
    }
}

/// See [`counter`].
pub(crate) fn gauge(flavor: &'static str, spec: &'static MetricSpec) -> Option<FlavorGauge> {
    match family(spec) {
        Registered::Gauge(family) => Some(FlavorGauge {
            flavor,
            spec,
            family,
        }),
        _ => None,
    }
}

/// See [`counter`].
pub(crate) fn histogram(
    flavor: &'static str,
    spec: &'static MetricSpec,
) -> Option<FlavorHistogram> {
    match family(spec) {
        Registered::Histogram(family) => Some(FlavorHistogram {
            flavor,
            spec,
            family,
        }),
        _ => None,
    }
}
