//! The flavor kit: what every flavor is built from.
//!
//! A flavor is a registry row ([`FlavorSpec`]) whose `build` gets a
//! [`BuildCtx`]: its typed config ([`FlavorConfig`]), the store, HTTP clients
//! of its declared dependencies ([`DependencySpec`]), for flavors that
//! produce an [`EventPublisher`], and for rows with `reads_rules` the rules
//! in force ([`BuildCtx::rules`]). The context refuses what the row does not
//! declare, so the registry's metadata cannot drift from the build.

mod built;
mod config;
mod contract;
pub mod datadog;
pub mod delivery;
pub mod edge;
pub mod email;
mod error;
pub mod fieldsync;
pub mod ids;
pub mod inbound;
pub mod intent;
mod publish;
pub mod render;
pub mod testing;
pub mod timers;
mod tools;

use futures::future::BoxFuture;

pub use crate::telemetry::declared::{
    FlavorCounter, FlavorGauge, FlavorHistogram, Kind as MetricKind, MetricSpec,
};
pub use built::Built;
pub use config::{
    load as load_config, ConfigKind, ConfigOf, Endpoint, EndpointKeys, FlavorConfig, NoConfig,
};
pub use contract::{channel_name, loops, Consumes, Events, Node, Produces, Product, Snapshot};
pub use error::BuildError;
pub use inbound::{InboundRoute, RouteSpec};
pub use publish::{EventPublisher, PublishError};
pub use tools::{FlavorTools, ToolCtx, ToolError, ToolResult};

use crate::handler::Processor;
use crate::http::{Dependency, DependencySpec};
use crate::settings::Settings;
use crate::store::Store;

/// One registry row.
pub struct FlavorSpec {
    /// The `--flavor` name.
    pub name: &'static str,
    /// One line for `flavors` and `--help`.
    pub summary: &'static str,
    /// Single events or batches.
    pub style: Style,
    /// Whether the flavor writes its own tables (and so needs the store).
    pub needs_store: bool,
    /// Downstream dependencies; their circuit breakers, rate limits and
    /// maintenance windows apply to this flavor.
    pub dependencies: &'static [&'static DependencySpec],
    /// The events it takes; the runtime routes on this (and skips echoes
    /// and missing snapshots by name) before the handler runs.
    pub consumes: Consumes,
    /// What it publishes; [`BuildCtx::publisher`] refuses anything else.
    pub produces: Produces,
    /// Its own metrics (`ceh_<name>`), beside the runtime's.
    pub metrics: &'static [MetricSpec],
    /// Its inbound HTTP routes (webhooks); [`BuildCtx::inbound`] refuses
    /// any other, and the flavor refuses to start if it cannot serve them.
    pub routes: &'static [RouteSpec],
    /// The batch writer's tables it writes (`store::rows`), checked
    /// against the migrations by a test. Listing [`timers::TIMERS`] makes
    /// the runtime fire the flavor's due timers (single style only).
    pub tables: &'static [&'static crate::store::rows::Table],
    /// Whether it reads the rules (`rules.dir`); [`BuildCtx::rules`]
    /// refuses a row that does not say so.
    pub reads_rules: bool,
    /// Its command-line tools (`case-event-handler <name> …`), if any.
    pub tools: Option<&'static FlavorTools>,
    /// The flavor's config type (`&ConfigOf::<MyConfig>::KIND`).
    pub config: &'static dyn ConfigKind,
    /// Builds the handler (and any routes).
    pub build: for<'a> fn(BuildCtx<'a>) -> BoxFuture<'a, Result<Built, BuildError>>,
}

impl FlavorSpec {
    /// Whether it delivers through the delivery queue (lists
    /// [`delivery::DELIVERIES`]): the runtime then runs its worker.
    pub fn delivers(&self) -> bool {
        self.tables
            .iter()
            .any(|t| std::ptr::eq(*t, &delivery::DELIVERIES))
    }

    /// Whether it schedules durable timers (lists [`timers::TIMERS`]).
    pub fn fires_timers(&self) -> bool {
        self.tables
            .iter()
            .any(|t| std::ptr::eq(*t, &timers::TIMERS))
    }

    /// The names of its dependencies.
    pub fn dependency_names(&self) -> Vec<&'static str> {
        self.dependencies.iter().map(|d| d.name).collect()
    }

    /// The row as the loop check sees it.
    pub fn node(&self) -> Node {
        Node {
            name: self.name,
            consumes: self.consumes,
            produces: self.produces,
        }
    }
}

/// How a flavor processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// One event at a time, per-key ordered.
    Single,
    /// Batches.
    Batch,
}

impl Style {
    /// For tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Single => "single",
            Style::Batch => "batch",
        }
    }

    /// The style of a built processor.
    pub fn of(processor: &Processor) -> Self {
        match processor {
            Processor::Single(_) => Style::Single,
            Processor::Batch(_) => Style::Batch,
        }
    }
}

/// What a flavor's constructor gets; it hands out only what the row declares.
pub struct BuildCtx<'a> {
    spec: &'static FlavorSpec,
    settings: &'a Settings,
    store: Option<Store>,
    publisher: Option<EventPublisher>,
    rules: Option<crate::rules::RulesView>,
    queue: delivery::Queue,
}

impl<'a> BuildCtx<'a> {
    /// A context for `spec`. `store` is absent when only checking config;
    /// `publisher` when there is no broker (file sources, replays).
    pub fn new(
        spec: &'static FlavorSpec,
        settings: &'a Settings,
        store: Option<Store>,
        publisher: Option<EventPublisher>,
    ) -> Self {
        Self {
            spec,
            settings,
            store,
            publisher,
            rules: None,
            queue: delivery::Queue::default(),
        }
    }

    /// The context sharing `queue` with the delivery worker the runtime
    /// starts for the flavor.
    pub fn with_queue(mut self, queue: delivery::Queue) -> Self {
        self.queue = queue;
        self
    }

    /// The delivery queue's handle (doorbell, destinations refusing rows);
    /// only for rows that list [`delivery::DELIVERIES`].
    pub fn delivery_queue(&self) -> Result<delivery::Queue, BuildError> {
        if !self.spec.delivers() {
            return Err(self.mismatch(
                "build enqueues deliveries but the row does not list the deliveries table".into(),
            ));
        }
        self.store()?;
        Ok(self.queue.clone())
    }

    /// The context with the rules in force (when `rules.dir` is set).
    pub fn with_rules(mut self, rules: Option<crate::rules::RulesView>) -> Self {
        self.rules = rules;
        self
    }

    /// The flavor's name.
    pub fn flavor(&self) -> &'static str {
        self.spec.name
    }

    /// All settings (kafka topics, the flavor's runtime), read-only.
    pub fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// The flavor's typed config, every problem reported by key path. `C`
    /// must be the type the registry row declares.
    pub fn config<C: FlavorConfig>(&self) -> Result<C, BuildError> {
        if self.spec.config.type_id() != std::any::TypeId::of::<C>() {
            return Err(self.mismatch(format!(
                "build reads config {} but the row declares another type",
                std::any::type_name::<C>()
            )));
        }
        load_config(self.settings, self.spec.name).map_err(|problems| BuildError::Config {
            flavor: self.spec.name,
            problems,
        })
    }

    /// The store; only for rows with `needs_store`.
    pub fn store(&self) -> Result<Store, BuildError> {
        if !self.spec.needs_store {
            return Err(self.mismatch("build uses the store but needs_store is false".into()));
        }
        self.store
            .clone()
            .ok_or(BuildError::NeedsStore(self.spec.name))
    }

    /// The flavor's intents (kit::intent), in its store.
    pub fn intents(&self) -> Result<intent::Intents, BuildError> {
        Ok(intent::Intents::new(
            self.store()?.pool().clone(),
            self.spec.name,
        ))
    }

    /// The flavor's per-(rule, case) edge state (kit::edge), in its store.
    pub fn edges(&self) -> Result<edge::Edges, BuildError> {
        self.store()?;
        Ok(edge::Edges::new(self.spec.name))
    }

    /// The flavor's field-sync state (kit::fieldsync), in its store.
    pub fn field_sync(&self) -> Result<fieldsync::FieldSync, BuildError> {
        Ok(fieldsync::FieldSync::new(
            self.store()?.pool().clone(),
            self.spec.name,
        ))
    }

    /// The rules in force, as a handle to take a snapshot from per event;
    /// only for rows with `reads_rules`, and only when `rules.dir` is set.
    pub fn rules(&self) -> Result<crate::rules::RulesView, BuildError> {
        if !self.spec.reads_rules {
            return Err(self.mismatch("build reads the rules but reads_rules is false".into()));
        }
        self.rules
            .clone()
            .ok_or(BuildError::NoRules(self.spec.name))
    }

    /// An HTTP client of a declared dependency (`timeout` from the
    /// flavor's config, else the declaration's).
    pub fn client(
        &self,
        dependency: &'static DependencySpec,
        timeout: Option<std::time::Duration>,
    ) -> Result<Dependency, BuildError> {
        if !self
            .spec
            .dependencies
            .iter()
            .any(|d| std::ptr::eq(*d, dependency))
        {
            return Err(self.mismatch(format!(
                "build calls {} but the row does not declare it",
                dependency.name
            )));
        }
        Dependency::new(dependency, &dependency.http(timeout)).map_err(|e| BuildError::Client {
            flavor: self.spec.name,
            message: format!("{}: {e}", dependency.name),
        })
    }

    /// The publisher of the products the flavor uses (`uses`, each
    /// declared in the row's `produces`), when it runs with a broker. It
    /// refuses at publish time anything outside `uses` and stamps the
    /// row's origin.
    pub fn publisher(&self, uses: &[Product]) -> Result<Option<EventPublisher>, BuildError> {
        if let Some(undeclared) = uses.iter().find(|p| !self.spec.produces.allows(**p)) {
            return Err(self.mismatch(format!(
                "build publishes {} but the row's produces does not declare it",
                undeclared.name()
            )));
        }
        let publisher = self.publisher.clone();
        Ok(publisher.map(|p| p.limited_to(uses, self.spec.produces.origin)))
    }

    /// The inbound route `spec` (declared in the row's `routes`) from its
    /// parts: verify, claim in `inbound_deliveries` (so it needs the
    /// store), receive, publish, answer ([`inbound`] has the order and
    /// the statuses).
    pub fn inbound<R: inbound::Receiver>(
        &self,
        spec: &'static RouteSpec,
        parts: inbound::Parts<R>,
    ) -> Result<InboundRoute, BuildError> {
        if !self.spec.routes.iter().any(|r| r.path == spec.path) {
            return Err(self.mismatch(format!(
                "build serves route {} but the row's routes do not declare it",
                spec.path
            )));
        }
        let store = self.store()?;
        let counter = crate::telemetry::declared::counter(self.spec.name, &inbound::DELIVERIES)
            .ok_or_else(|| self.mismatch("ceh_inbound_deliveries is not a counter".into()))?;
        Ok(inbound::build_route(
            self.spec.name,
            spec,
            store,
            parts,
            counter,
        ))
    }

    /// The handle of a declared counter.
    pub fn counter(&self, spec: &'static MetricSpec) -> Result<FlavorCounter, BuildError> {
        self.declared(spec)?;
        crate::telemetry::declared::counter(self.spec.name, spec)
            .ok_or_else(|| self.mismatch(format!("metric {} is not a counter", spec.name)))
    }

    /// The handle of a declared gauge.
    pub fn gauge(&self, spec: &'static MetricSpec) -> Result<FlavorGauge, BuildError> {
        self.declared(spec)?;
        crate::telemetry::declared::gauge(self.spec.name, spec)
            .ok_or_else(|| self.mismatch(format!("metric {} is not a gauge", spec.name)))
    }

    /// The handle of a declared histogram.
    pub fn histogram(&self, spec: &'static MetricSpec) -> Result<FlavorHistogram, BuildError> {
        self.declared(spec)?;
        crate::telemetry::declared::histogram(self.spec.name, spec)
            .ok_or_else(|| self.mismatch(format!("metric {} is not a histogram", spec.name)))
    }

    fn declared(&self, spec: &'static MetricSpec) -> Result<(), BuildError> {
        match self.spec.metrics.iter().any(|m| m.name == spec.name) {
            true => Ok(()),
            false => Err(self.mismatch(format!(
                "build uses metric {} but the row does not declare it",
                spec.name
            ))),
        }
    }

    fn mismatch(&self, message: String) -> BuildError {
        BuildError::Registry {
            flavor: self.spec.name,
            message,
        }
    }
}

#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;
