//! The flavor kit: what every flavor is built from.
//!
//! A flavor is a registry row ([`FlavorSpec`]) whose `build` gets a
//! [`BuildCtx`]: its typed config ([`FlavorConfig`]), the store, HTTP clients
//! of its declared dependencies ([`DependencySpec`]) and, for flavors that
//! produce, an [`EventPublisher`]. The context refuses what the row does not
//! declare, so the registry's metadata cannot drift from the build.

mod config;
pub mod datadog;
mod error;
mod publish;

use futures::future::BoxFuture;

pub use config::{
    load as load_config, ConfigKind, ConfigOf, Endpoint, EndpointKeys, FlavorConfig, NoConfig,
};
pub use error::BuildError;
pub use publish::{EventPublisher, PublishError};

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
    /// The flavor's config type (`&ConfigOf::<MyConfig>::KIND`).
    pub config: &'static dyn ConfigKind,
    /// Builds the handler (and any routes).
    pub build: for<'a> fn(BuildCtx<'a>) -> BoxFuture<'a, Result<Built, BuildError>>,
}

impl FlavorSpec {
    /// The names of its dependencies.
    pub fn dependency_names(&self) -> Vec<&'static str> {
        self.dependencies.iter().map(|d| d.name).collect()
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

/// What a flavor's constructor returns.
pub struct Built {
    /// The handler.
    pub processor: Processor,
    /// Extra routes (e.g. inbound webhooks) mounted on the flavor's HTTP server.
    pub routes: Option<axum::Router>,
}

impl From<Processor> for Built {
    fn from(processor: Processor) -> Self {
        Self {
            processor,
            routes: None,
        }
    }
}

impl Built {
    /// Checks the build against its registry row.
    pub fn check(&self, spec: &FlavorSpec) -> Result<(), BuildError> {
        let built = Style::of(&self.processor);
        if built != spec.style {
            return Err(BuildError::Registry {
                flavor: spec.name,
                message: format!(
                    "declares style {} but built a {} handler",
                    spec.style.as_str(),
                    built.as_str()
                ),
            });
        }
        Ok(())
    }
}

/// What a flavor's constructor gets; it hands out only what the row declares.
pub struct BuildCtx<'a> {
    spec: &'static FlavorSpec,
    settings: &'a Settings,
    store: Option<Store>,
    publisher: Option<EventPublisher>,
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
        }
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

    /// The publisher, when the flavor runs with a broker.
    pub fn publisher(&self) -> Option<EventPublisher> {
        self.publisher.clone()
    }

    fn mismatch(&self, message: String) -> BuildError {
        BuildError::Registry {
            flavor: self.spec.name,
            message,
        }
    }
}

#[cfg(test)]
mod tests;
