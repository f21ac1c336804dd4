//! The flavor registry: one row per flavor that is built.
//!
//! Adding a flavor = its module under `src/flavors/` + one row in [`FLAVORS`]
//! (+ its `flavors.<name>` config section and Helm values entry, which the
//! registry tests check). A flavor that is not built is not registered. The
//! module builds on the [`kit`]: typed config, declared dependencies, the
//! event publisher.
//!
//! A flavor answers every failure with a typed error, never a panic: unwrap
//! and expect are denied here outside tests.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod evp_indexer;
pub mod evp_indexer_feed;
pub mod jira;
pub mod kit;
pub mod timeline;
pub mod webhook;

pub use kit::{BuildCtx, BuildError, Built, FlavorSpec, Style};

/// Every built flavor.
pub static FLAVORS: &[FlavorSpec] = &[
    evp_indexer::SPEC,
    evp_indexer_feed::SPEC,
    jira::SPEC,
    timeline::SPEC,
    webhook::SPEC,
];

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

/// Every declared dependency name, once, sorted.
pub fn dependency_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = FLAVORS.iter().flat_map(|f| f.dependency_names()).collect();
    names.sort_unstable();
    names.dedup();
    names
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

#[cfg(test)]
mod registry_tests;

#[cfg(test)]
mod tests {
    use super::*;

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
