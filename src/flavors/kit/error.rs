//! Why a flavor could not be built.

use crate::settings::Problem;

/// Why a flavor could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The flavor's config section is invalid: every problem, by key path.
    #[error("invalid configuration of flavor {flavor}:\n{}", lines(problems))]
    Config {
        /// The flavor.
        flavor: &'static str,
        /// What is wrong, each with its full key path.
        problems: Vec<Problem>,
    },
    /// The flavor needs a store and none is configured.
    #[error("flavor {0} needs a store (store.url)")]
    NeedsStore(&'static str),
    /// The flavor reads the rules and no rules directory is configured.
    #[error("flavor {0} reads the rules as code, but rules.dir is not configured (set rules.dir to the rules directory)")]
    NoRules(&'static str),
    /// A client could not be created.
    #[error("flavor {flavor}: {message}")]
    Client {
        /// The flavor.
        flavor: &'static str,
        /// Why.
        message: String,
    },
    /// The flavor's build asked for something its registry row does not
    /// declare (a bug in the flavor, caught at start).
    #[error("flavor {flavor}: its registry row does not match its build: {message}")]
    Registry {
        /// The flavor.
        flavor: &'static str,
        /// What differs.
        message: String,
    },
}

impl BuildError {
    /// A config problem at `path` below `flavors.<flavor>`.
    pub fn config(flavor: &'static str, path: &str, message: impl Into<String>) -> Self {
        BuildError::Config {
            flavor,
            problems: vec![Problem::new(format!("flavors.{flavor}.{path}"), message)],
        }
    }
}

fn lines(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    lines.join("\n")
}
