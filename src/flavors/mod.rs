//! The flavor registry: one row per flavor that is built.
//!
//! Adding a flavor = its module under `src/flavors/` + one row in [`FLAVORS`]
//! (+ its `flavors.<name>` config section and Helm values entry, which the
//! registry tests check). A flavor that is not built is not registered.

pub mod evp_indexer;
pub mod jira;
pub mod timeline;

use futures::future::BoxFuture;
use rdkafka::producer::FutureProducer;

use crate::handler::Processor;
use crate::settings::Settings;
use crate::store::Store;

/// What a flavor's constructor gets.
pub struct BuildCtx<'a> {
    /// The flavor's own config section (`flavors.<name>` minus `runtime`), or null.
    pub section: &'a serde_yaml::Value,
    /// All settings (features, kafka topics), read-only.
    pub settings: &'a Settings,
    /// The store, when the flavor needs one.
    pub store: Option<Store>,
    /// A producer, for flavors that emit events (absent without brokers).
    pub producer: Option<FutureProducer>,
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

/// Why a flavor could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The flavor's config section is invalid; the message names the key path.
    #[error("flavors.{flavor}: {message}")]
    Config {
        /// The flavor.
        flavor: &'static str,
        /// What is wrong, with the key path.
        message: String,
    },
    /// The flavor needs a store and none is configured.
    #[error("flavor {0} needs a store (store.url)")]
    NeedsStore(&'static str),
    /// The flavor needs a Kafka producer and no brokers are configured.
    #[error("flavor {0} produces events and needs kafka.brokers")]
    NeedsProducer(&'static str),
    /// A client could not be created.
    #[error("flavor {flavor}: {message}")]
    Client {
        /// The flavor.
        flavor: &'static str,
        /// Why.
        message: String,
    },
}

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
    /// Downstream dependencies (names of `http::Dependency`s); their circuit
    /// breakers and maintenance windows apply to this flavor.
    pub dependencies: &'static [&'static str],
    /// Builds the handler (and any routes) from its config section.
    pub build: for<'a> fn(BuildCtx<'a>) -> BoxFuture<'a, Result<Built, BuildError>>,
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
}

/// Every built flavor.
pub static FLAVORS: &[FlavorSpec] = &[evp_indexer::SPEC, jira::SPEC, timeline::SPEC];

/// An unknown `--flavor`: the message lists the valid names.
#[derive(Debug, thiserror::Error)]
#[error("unknown flavor '{name}'; valid flavors: {}", valid_names().join(", "))]
pub struct UnknownFlavor {
    /// The name asked for.
    pub name: String,
}

/// The names of every registered flavor.
pub fn valid_names() -> Vec<&'static str> {
    FLAVORS.iter().map(|f| f.name).collect()
}

/// Looks a flavor up by name.
pub fn find(name: &str) -> Result<&'static FlavorSpec, UnknownFlavor> {
    FLAVORS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| UnknownFlavor {
            name: name.to_string(),
        })
}

/// Parses a flavor's section with key paths in errors.
pub fn parse_section<T: serde::de::DeserializeOwned + Default>(
    flavor: &'static str,
    section: &serde_yaml::Value,
) -> Result<T, BuildError> {
    if section.is_null() {
        return Ok(T::default());
    }
    serde_path_to_error::deserialize(section.clone()).map_err(|e| BuildError::Config {
        flavor,
        message: format!("{}: {}", e.path(), e.inner()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut names = valid_names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FLAVORS.len(), "duplicate flavor names");
        for name in names {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
        }
    }

    #[test]
    fn every_flavor_module_opens_with_its_contract() {
        for spec in FLAVORS {
            let file = format!(
                "{}/src/flavors/{}.rs",
                env!("CARGO_MANIFEST_DIR"),
                spec.name.replace('-', "_")
            );
            let dir = format!(
                "{}/src/flavors/{}/mod.rs",
                env!("CARGO_MANIFEST_DIR"),
                spec.name.replace('-', "_")
            );
            let text = std::fs::read_to_string(&file)
                .or_else(|_| std::fs::read_to_string(&dir))
                .expect("flavor module");
            for heading in ["Consumes:", "Effects:", "Idempotency key:", "Retries:"] {
                assert!(
                    text.contains(&format!("//! {heading}")),
                    "{}: module doc lacks '{heading}'",
                    spec.name
                );
            }
        }
    }

    #[test]
    fn unknown_flavor_lists_the_valid_ones() {
        let err = find("nope")
            .err()
            .expect("nope is not a flavor")
            .to_string();
        for name in valid_names() {
            assert!(err.contains(name), "{err}");
        }
    }
}
