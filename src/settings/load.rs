//! Layering: base file, environment file, extra file, environment
//! variables and `--set` overrides, deep-merged in that order.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::collect::deserialize_collecting;
use super::error::ConfigError;
use super::schema::Settings;
use super::tree::{merge, nest, KeyPath, Provenance};

/// Environment loaded when none is given.
pub const DEFAULT_ENV: &str = "local";

/// Prefix of environment variables that override settings, e.g.
/// `CEH__RUNTIME__RETRY__MAX_ATTEMPTS=5` sets `runtime.retry.max_attempts`.
pub const ENV_PREFIX: &str = "CEH__";

/// Maps whose keys may themselves contain dots; the rest of an override path
/// below them is one key (`kafka.client.socket.keepalive.enable=true`).
const DOTTED_KEY_MAPS: [&[&str]; 2] = [&["kafka", "client"], &["features"]];

/// Where to find configuration and what to layer on top of it.
///
/// `Debug` shows only the names of `CEH__*` variables and the keys of
/// overrides, since their values may be secrets.
#[derive(Clone)]
pub struct LoadOptions {
    /// Directory holding `base.yaml` and `<env>.yaml`.
    pub config_dir: PathBuf,
    /// Environment name (`--env` / `CEH_ENV`); selects `<env>.yaml`.
    pub env: String,
    /// Optional extra file (`--config PATH`) merged after `<env>.yaml`.
    pub extra_file: Option<PathBuf>,
    /// `--set key.path=value` overrides, applied last.
    pub overrides: Vec<String>,
    /// Environment variables, usually `std::env::vars().collect()`; only
    /// those starting with [`ENV_PREFIX`] are used.
    pub env_vars: Vec<(String, String)>,
}

impl Default for LoadOptions {
    /// `config/`, environment `local`, no extra file, overrides or variables.
    fn default() -> Self {
        Self {
            config_dir: PathBuf::from("config"),
            env: DEFAULT_ENV.to_owned(),
            extra_file: None,
            overrides: Vec::new(),
            env_vars: Vec::new(),
        }
    }
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let vars: Vec<&str> = self
            .env_vars
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| name.starts_with(ENV_PREFIX))
            .collect();
        let overrides: Vec<&str> = self
            .overrides
            .iter()
            .map(|o| o.split_once('=').map_or(o.as_str(), |(key, _)| key))
            .collect();
        f.debug_struct("LoadOptions")
            .field("config_dir", &self.config_dir)
            .field("env", &self.env)
            .field("extra_file", &self.extra_file)
            .field("overrides", &overrides)
            .field("env_vars", &vars)
            .finish()
    }
}

/// Loads, merges, deserializes and validates the configuration.
///
/// Precedence, lowest first: built-in defaults, `base.yaml`, `<env>.yaml`,
/// the extra file, `CEH__*` variables, `--set` overrides. Mappings merge key
/// by key, sequences and scalars are replaced, and a `null` removes the key
/// (back to the built-in default). Every problem (unknown keys, type errors,
/// invalid values) is reported at once as [`ConfigError::Invalid`].
pub fn load(opts: &LoadOptions) -> Result<Settings, ConfigError> {
    let (tree, provenance) = layered_tree(opts)?;
    settings_of(tree, &provenance)
}

/// [`load`] over YAML texts instead of files and the environment: the
/// `environment` key, then each `(origin, text)` layer in order, parsed and
/// merged as files are. For the fuzz targets (`crate::fuzzing`), which must
/// not touch the file system.
pub(crate) fn load_texts(env: &str, layers: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    Layers::of(env, layers)?.settings()
}

/// YAML texts merged into one untyped tree, with who set what, before
/// deserializing: [`load_texts`] in steps, so a fuzz target can parse the
/// constant base layer once and clone it per input.
#[derive(Clone)]
pub(crate) struct Layers {
    tree: Value,
    provenance: Provenance,
}

impl Layers {
    /// `environment` = `env`, then each `(origin, text)` layer in order.
    pub(crate) fn of(env: &str, layers: &[(&str, &str)]) -> Result<Self, ConfigError> {
        let mut merged = Self {
            tree: Value::Mapping(Mapping::new()),
            provenance: Provenance::default(),
        };
        let env_layer = nest(&["environment".to_owned()], env.to_owned().into());
        let root = KeyPath::default();
        merge(
            &mut merged.tree,
            env_layer,
            &root,
            "--env",
            &mut merged.provenance,
        );
        for (origin, text) in layers {
            merged.add(origin, text)?;
        }
        Ok(merged)
    }

    /// Parses `text` and merges it over the layers so far.
    pub(crate) fn add(&mut self, origin: &str, text: &str) -> Result<(), ConfigError> {
        let layer = parse_layer(text, origin)?;
        let root = KeyPath::default();
        merge(&mut self.tree, layer, &root, origin, &mut self.provenance);
        Ok(())
    }

    /// Deserializes and validates the merged tree.
    pub(crate) fn settings(self) -> Result<Settings, ConfigError> {
        settings_of(self.tree, &self.provenance)
    }
}

/// Deserializes and validates a merged tree; every problem at once.
fn settings_of(tree: Value, provenance: &Provenance) -> Result<Settings, ConfigError> {
    let (settings, mut problems) = deserialize_collecting::<Settings>(tree, &KeyPath::default());
    if let Some(settings) = &settings {
        problems.extend(settings.problems());
    }
    for problem in &mut problems {
        if let Some(origin) = provenance.origin_of(&problem.path) {
            problem.message = format!("{} (from {origin})", problem.message);
        }
    }
    match settings {
        Some(settings) if problems.is_empty() => Ok(settings),
        _ => Err(ConfigError::Invalid(problems)),
    }
}

/// Merges every layer into one untyped tree, remembering who set what.
fn layered_tree(opts: &LoadOptions) -> Result<(Value, Provenance), ConfigError> {
    let valid_env = !opts.env.is_empty()
        && opts
            .env
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_env {
        return Err(ConfigError::Parse {
            path: "--env".to_owned(),
            message: format!(
                "`{}` is not an environment name (lowercase letters, digits, - and _)",
                opts.env
            ),
        });
    }
    let root = KeyPath::default();
    let mut tree = Value::Mapping(Mapping::new());
    let mut provenance = Provenance::default();
    let mut apply = |overlay: Value, origin: &str| {
        merge(&mut tree, overlay, &root, origin, &mut provenance);
    };

    apply(
        nest(&["environment".to_owned()], opts.env.clone().into()),
        "--env",
    );
    let mut files = vec![
        opts.config_dir.join("base.yaml"),
        opts.config_dir.join(format!("{}.yaml", opts.env)),
    ];
    files.extend(opts.extra_file.clone());
    for file in &files {
        apply(read_file(file)?, &file.display().to_string());
    }

    let mut vars: Vec<&(String, String)> = opts
        .env_vars
        .iter()
        .filter(|(name, _)| name.starts_with(ENV_PREFIX))
        .collect();
    vars.sort();
    for (name, raw) in vars {
        let keys: Vec<String> = name[ENV_PREFIX.len()..]
            .split("__")
            .map(str::to_lowercase)
            .collect();
        let keys = override_keys(keys, name)?;
        apply(nest(&keys, parse_scalar(raw)), &format!("env {name}"));
    }

    for assignment in &opts.overrides {
        let parse_error = |message: &str| ConfigError::Parse {
            path: format!("--set {assignment}"),
            message: message.to_owned(),
        };
        let (path, raw) = assignment
            .split_once('=')
            .ok_or_else(|| parse_error("expected key.path=value"))?;
        let keys = path.trim().split('.').map(str::to_owned).collect();
        let keys = override_keys(keys, &format!("--set {path}"))?;
        apply(
            nest(&keys, parse_scalar(raw)),
            &format!("--set {}", path.trim()),
        );
    }
    Ok((tree, provenance))
}

/// Reads one YAML file; an empty file counts as an empty mapping.
fn read_file(path: &Path) -> Result<Value, ConfigError> {
    let text = fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_layer(&text, &path.display().to_string())
}

/// Parses one layer's YAML text (`origin` names it in errors).
fn parse_layer(text: &str, origin: &str) -> Result<Value, ConfigError> {
    let parse_error = |message: String| ConfigError::Parse {
        path: origin.to_owned(),
        message,
    };
    let mut value: Value = serde_yaml::from_str(text).map_err(|e| parse_error(e.to_string()))?;
    value
        .apply_merge()
        .map_err(|e| parse_error(e.to_string()))?;
    match value {
        Value::Null => Ok(Value::Mapping(Mapping::new())),
        Value::Mapping(_) => Ok(value),
        _ => Err(parse_error("the top level must be a mapping".to_owned())),
    }
}

/// Checks an override's key segments and re-joins keys of dotted-key maps.
fn override_keys(mut keys: Vec<String>, origin: &str) -> Result<Vec<String>, ConfigError> {
    if keys.iter().any(String::is_empty) {
        return Err(ConfigError::Parse {
            path: origin.to_owned(),
            message: "empty key segment in override path".to_owned(),
        });
    }
    for map in DOTTED_KEY_MAPS {
        if keys.len() > map.len() + 1 && keys.iter().zip(map).all(|(k, m)| k == m) {
            let joined = keys.split_off(map.len()).join(".");
            keys.push(joined);
        }
    }
    Ok(keys)
}

/// Interprets an override value as a YAML scalar, so numbers and booleans
/// work, while never altering text that YAML would rewrite: `0123`, `1e3`,
/// `p@ss #1` stay exactly as given. `null`/`~` resets the key to its
/// default; `[a, b]` / `{k: v}` and quoted strings are parsed as YAML.
pub(crate) fn parse_scalar(raw: &str) -> Value {
    let trimmed = raw.trim();
    match serde_yaml::from_str::<Value>(raw) {
        Ok(Value::Null) if matches!(trimmed, "~" | "null" | "Null" | "NULL") => Value::Null,
        Ok(Value::Bool(b)) if trimmed == b.to_string() => Value::Bool(b),
        Ok(Value::Number(n)) if trimmed == n.to_string() => Value::Number(n),
        Ok(v @ Value::String(_)) if trimmed.starts_with(['"', '\'']) => v,
        Ok(v @ (Value::Sequence(_) | Value::Mapping(_))) if trimmed.starts_with(['[', '{']) => v,
        _ => Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_their_text() {
        assert_eq!(parse_scalar("5"), Value::from(5));
        assert_eq!(parse_scalar("true"), Value::from(true));
        assert_eq!(parse_scalar("0.5"), Value::from(0.5));
        assert_eq!(parse_scalar("~"), Value::Null);
        for raw in [
            "0123", "1e3", "p@ss #1", "", "h:9092", "a: b", "0.50", "TRUE",
        ] {
            assert_eq!(parse_scalar(raw), Value::from(raw), "{raw}");
        }
        assert_eq!(parse_scalar("'007'"), Value::from("007"));
        assert_eq!(
            parse_scalar("[a, b]"),
            serde_yaml::from_str::<Value>("[a, b]").unwrap()
        );
    }

    #[test]
    fn debug_hides_values() {
        let opts = LoadOptions {
            overrides: vec!["store.url=postgres://u:pw@h/db".to_owned()],
            env_vars: vec![("CEH__STORE__URL".to_owned(), "postgres://u:pw@h".to_owned())],
            ..LoadOptions::default()
        };
        let debug = format!("{opts:?}");
        assert!(debug.contains("CEH__STORE__URL") && debug.contains("store.url"));
        assert!(!debug.contains("pw"), "{debug}");
    }

    #[test]
    fn dotted_keys_are_rejoined() {
        let keys = |s: &str| s.split('.').map(str::to_owned).collect();
        let joined = override_keys(keys("kafka.client.socket.keepalive.enable"), "x").unwrap();
        assert_eq!(joined, ["kafka", "client", "socket.keepalive.enable"]);
        let plain = override_keys(keys("runtime.retry.max_attempts"), "x").unwrap();
        assert_eq!(plain, ["runtime", "retry", "max_attempts"]);
        assert!(override_keys(keys("runtime..x"), "x").is_err());
    }

    #[test]
    fn text_layers_merge_and_report_like_files() {
        let base = include_str!("../../config/base.yaml");
        let layer = "runtime:\n  retry:\n    max_attempts: 3\n";
        let settings = load_texts("local", &[("base.yaml", base), ("extra.yaml", layer)]).unwrap();
        assert_eq!(settings.runtime.retry.max_attempts, 3);
        assert_eq!(settings.environment, "local");

        let bad = "runtime:\n  retry:\n    max_attempts: many\n";
        let err = load_texts("local", &[("base.yaml", base), ("bad.yaml", bad)]).unwrap_err();
        let problem = &err.problems()[0];
        assert_eq!(problem.path, "runtime.retry.max_attempts");
        assert!(problem.message.contains("(from bad.yaml)"), "{problem:?}");

        let err = load_texts("local", &[("list.yaml", "- a\n")]).unwrap_err();
        assert!(matches!(err, ConfigError::Parse { path, .. } if path == "list.yaml"));
    }
}
