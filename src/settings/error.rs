//! Errors produced while loading configuration.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with the effective configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Full key path, e.g. `runtime.retry.max_attempts` or `kafka.topics[0]`.
    pub path: String,
    /// What is wrong, in words; never contains secret values.
    pub message: String,
}

impl Problem {
    /// Creates a problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file, environment variable or `--set` override is malformed.
    #[error("cannot parse {path}: {message}")]
    Parse {
        /// File path, environment variable name or `--set` argument.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// The merged configuration is invalid; lists every problem found.
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
}

impl ConfigError {
    /// The individual problems of an [`ConfigError::Invalid`] error (empty otherwise).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid(problems) => problems,
            _ => &[],
        }
    }
}

fn render_problems(problems: &[Problem]) -> String {
    let count = problems.len();
    let noun = if count == 1 { "problem" } else { "problems" };
    let mut out = format!("invalid configuration ({count} {noun}):");
    for problem in problems {
        out.push('\n');
        out.push_str(&problem.to_string());
    }
    out
}
