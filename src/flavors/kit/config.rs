//! Typed flavor config: each flavor declares its config type; the loader
//! parses `flavors.<name>` (minus `runtime`) with the same collecting
//! deserializer as the main settings, so every problem of every section is
//! reported at once, by key path.

use std::any::TypeId;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::settings::{ConfigError, Problem, SecretString, Settings};

/// A flavor's own settings.
pub trait FlavorConfig: DeserializeOwned + Default + Send + 'static {
    /// What serde cannot check (URLs, limits, cross-field rules). Paths are
    /// relative to `flavors.<name>` (`projects.x.site_url`); the loader
    /// prefixes them.
    fn problems(&self, _settings: &Settings, _flavor: &'static str) -> Vec<Problem> {
        Vec::new()
    }
}

/// The registry's handle on a flavor's config type (type-erased, so rows of
/// different flavors fit one table).
pub trait ConfigKind: Sync {
    /// Every problem of the flavor's section in `settings`, by full key path.
    fn check(&self, settings: &Settings, flavor: &'static str) -> Vec<Problem>;
    /// The config type, to check a flavor's build asks for the declared one.
    fn type_id(&self) -> TypeId;
}

/// [`ConfigKind`] of `C`: `config: &ConfigOf::<MyConfig>::KIND` in a registry row.
pub struct ConfigOf<C>(PhantomData<fn() -> C>);

impl<C: FlavorConfig> ConfigOf<C> {
    /// The value a registry row points at.
    pub const KIND: Self = Self(PhantomData);
}

impl<C: FlavorConfig> ConfigKind for ConfigOf<C> {
    fn check(&self, settings: &Settings, flavor: &'static str) -> Vec<Problem> {
        load::<C>(settings, flavor).err().unwrap_or_default()
    }

    fn type_id(&self) -> TypeId {
        TypeId::of::<C>()
    }
}

/// Parses and checks `flavors.<flavor>` as `C`; on failure, every problem.
pub fn load<C: FlavorConfig>(settings: &Settings, flavor: &'static str) -> Result<C, Vec<Problem>> {
    let config: C = match settings.flavor_config(flavor) {
        Ok(config) => config,
        Err(ConfigError::Invalid(problems)) => return Err(problems),
        Err(other) => {
            return Err(vec![Problem::new(
                format!("flavors.{flavor}"),
                other.to_string(),
            )])
        }
    };
    let problems: Vec<Problem> = config
        .problems(settings, flavor)
        .into_iter()
        .map(|p| Problem::new(format!("flavors.{flavor}.{}", p.path), p.message))
        .collect();
    match problems.is_empty() {
        true => Ok(config),
        false => Err(problems),
    }
}

/// Collects the problems of [`FlavorConfig::problems`], with the checks most
/// sections share (a required secret, an http(s) URL, a request timeout that
/// fits the handler timeout).
#[derive(Debug, Default)]
pub struct Checks(Vec<Problem>);

impl Checks {
    /// A problem at `key` unless `ok`.
    pub fn expect(&mut self, ok: bool, key: &str, message: &str) -> &mut Self {
        if !ok {
            self.0.push(Problem::new(key, message));
        }
        self
    }

    /// `secret` must not be blank; `what` says what it is for.
    pub fn required_secret(&mut self, key: &str, secret: &SecretString, what: &str) -> &mut Self {
        let set = !secret.expose().trim().is_empty();
        self.expect(set, key, &format!("is required ({what})"))
    }

    /// `url` must be http(s).
    pub fn http_url(&mut self, key: &str, url: &str) -> &mut Self {
        let ok = url.starts_with("https://") || url.starts_with("http://");
        self.expect(ok, key, "must be an http(s) URL")
    }

    /// One request's `timeout_ms` must be above 0 and below the runtime's
    /// handler timeout, so a call ends before the runtime gives up on it.
    pub fn request_timeout(&mut self, key: &str, timeout_ms: u64, handler: Duration) -> &mut Self {
        let ok = timeout_ms > 0 && Duration::from_millis(timeout_ms) < handler;
        let why = "must be above 0 and below the runtime's handler_timeout_ms";
        self.expect(ok, key, why)
    }

    /// Every problem found, in order.
    pub fn done(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.0)
    }
}

/// For flavors without settings of their own: any key is an error.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

impl FlavorConfig for NoConfig {}
