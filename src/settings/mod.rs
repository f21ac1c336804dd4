//! Layered, validated configuration.
//!
//! Configuration is assembled from `config/base.yaml`, `config/<env>.yaml`,
//! an optional extra file, `CEH__SECTION__KEY` environment variables and
//! `--set key.path=value` overrides (later wins), then deserialized into
//! [`Settings`] and validated. Every problem is reported at once, each under
//! its full key path (`runtime.retry.max_attempts: must be at least 1`).
//!
//! ```no_run
//! use case_event_handler::settings::{load, LoadOptions};
//!
//! let settings = load(&LoadOptions {
//!     env_vars: std::env::vars().collect(),
//!     ..LoadOptions::default()
//! })?;
//! let runtime = settings.runtime_for("notify");
//! # Ok::<(), case_event_handler::settings::ConfigError>(())
//! ```

mod collect;
mod de;
mod deliveries;
mod error;
mod load;
mod problems;
mod rules;
mod runtime;
mod schema;
mod secret;
mod tree;
mod validate;

use std::fmt;

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

pub use deliveries::{DeliverySettings, OnFull};
pub use error::{ConfigError, Problem};
pub use load::{load, LoadOptions, DEFAULT_ENV, ENV_PREFIX};
pub(crate) use load::{load_texts, Layers};
pub use problems::Problems;
pub use runtime::{
    BatchSettings, BufferSettings, DlqSettings, OnExhausted, OrderingMode, RetrySettings,
    RuntimeSettings,
};
pub use schema::{
    KafkaSecurity, KafkaSettings, LogFormat, OtlpProtocol, OtlpSettings, RulesSettings,
    SecurityProtocol, Settings, StoreSettings, TelemetrySettings,
};
pub use secret::{redact_url, Secret, SecretString, MASK};
pub use validate::Need;

use collect::deserialize_collecting;
use secret::mask_value;
use tree::KeyPath;

/// Deserializes a whole YAML tree into `T`, collecting every unknown key and
/// type error under its key path (`a.b[2].c`) instead of stopping at the
/// first (the rules files use it too, `src/rules/load.rs`).
pub(crate) fn deserialize_all<T: DeserializeOwned>(value: Value) -> (Option<T>, Vec<Problem>) {
    deserialize_collecting(value, &KeyPath::default())
}

impl Settings {
    /// The effective configuration as YAML, with secrets shown as `***`
    /// (typed secrets, secret-looking keys and URL passwords in free-form
    /// sections). Safe to log.
    pub fn render_masked(&self) -> String {
        let mut value = match serde_yaml::to_value(self) {
            Ok(value) => value,
            Err(e) => return format!("# cannot render settings: {e}\n"),
        };
        if let Some(flavors) = value.get_mut("flavors") {
            mask_value(flavors);
        }
        serde_yaml::to_string(&value).unwrap_or_else(|e| format!("# cannot render settings: {e}\n"))
    }

    /// The raw `flavors.<name>` section, including its `runtime` overrides.
    pub fn flavor_section(&self, name: &str) -> Option<&Value> {
        self.flavors.get(name)
    }

    /// The runtime settings for `flavor`: `runtime` with the flavor's
    /// `flavors.<name>.runtime` overrides merged on top.
    pub fn runtime_for(&self, flavor: &str) -> RuntimeSettings {
        let overrides = self
            .flavors
            .get(flavor)
            .and_then(|section| section.get("runtime"))
            .filter(|overrides| !overrides.is_null());
        let Some(overrides) = overrides else {
            return self.runtime.clone();
        };
        let prefix = KeyPath::of_keys(&["flavors", flavor, "runtime"]);
        let (merged, problems) = self.runtime.with_overrides(overrides, &prefix);
        if !problems.is_empty() {
            // Unreachable for settings returned by `load`, which checks this.
            let problems = ConfigError::Invalid(problems);
            tracing::warn!(flavor, %problems, "ignoring invalid runtime overrides");
        }
        merged.unwrap_or_else(|| self.runtime.clone())
    }

    /// Deserializes the flavor-specific part of `flavors.<name>` (everything
    /// but `runtime`) into the flavor's own config type. A missing section
    /// deserializes from an empty mapping. Errors carry full key paths such
    /// as `flavors.<name>.some_key`.
    pub fn flavor_config<T: DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        let prefix = KeyPath::of_keys(&["flavors", name]);
        let mut section = match self.flavors.get(name) {
            None | Some(Value::Null) => Mapping::new(),
            Some(Value::Mapping(map)) => map.clone(),
            Some(_) => {
                let problem = Problem::new(prefix.to_string(), "must be a mapping");
                return Err(ConfigError::Invalid(vec![problem]));
            }
        };
        section.remove("runtime");
        match deserialize_collecting(Value::Mapping(section), &prefix) {
            (Some(config), problems) if problems.is_empty() => Ok(config),
            (_, problems) => Err(ConfigError::Invalid(problems)),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut flavors = self.flavors.clone();
        flavors.values_mut().for_each(mask_value);
        f.debug_struct("Settings")
            .field("environment", &self.environment)
            .field("kafka", &self.kafka)
            .field("store", &self.store)
            .field("runtime", &self.runtime)
            .field("telemetry", &self.telemetry)
            .field("features", &self.features)
            .field("maintenance", &self.maintenance)
            .field("breakers", &self.breakers)
            .field("rate_limits", &self.rate_limits)
            .field("flavors", &flavors)
            .finish()
    }
}
