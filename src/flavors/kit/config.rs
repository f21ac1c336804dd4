//! Typed flavor config: each flavor declares its config type; the loader
//! parses `flavors.<name>` (minus `runtime`) with the same collecting
//! deserializer as the main settings, so every problem of every section is
//! reported at once, by key path.

use std::any::TypeId;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::settings::{ConfigError, Problem, Problems, SecretString, Settings};

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
    let problems = Problems::new()
        .extend_at(
            &format!("flavors.{flavor}"),
            config.problems(settings, flavor),
        )
        .done();
    match problems.is_empty() {
        true => Ok(config),
        false => Err(problems),
    }
}

/// An HTTP endpoint a flavor calls: where, with which secret, and how long
/// one request may take. As its own block it reads
/// `{url, secret, timeout_ms}`; a section that predates it keeps its flat
/// keys and names them with [`EndpointKeys`] (serde's `flatten` would lose
/// `deny_unknown_fields` and the key paths of the collecting loader).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Where requests go; http(s).
    pub url: String,
    /// The credential sent with every request (blank when the vendor needs none).
    #[serde(default)]
    pub secret: SecretString,
    /// Whole-request timeout of one call, in milliseconds; above 0 and below
    /// the runtime's `handler_timeout_ms`.
    #[serde(default = "Endpoint::default_timeout_ms")]
    pub timeout_ms: u64,
}

/// The keys an [`Endpoint`]'s fields have in a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointKeys {
    /// Key of [`Endpoint::url`].
    pub url: &'static str,
    /// Key of [`Endpoint::secret`].
    pub secret: &'static str,
    /// Key of [`Endpoint::timeout_ms`].
    pub timeout_ms: &'static str,
}

impl EndpointKeys {
    /// The keys of the `{url, secret, timeout_ms}` block.
    pub const BLOCK: Self = Self {
        url: "url",
        secret: "secret",
        timeout_ms: "timeout_ms",
    };
}

impl Endpoint {
    /// `timeout_ms` when the block leaves it out.
    pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

    fn default_timeout_ms() -> u64 {
        Self::DEFAULT_TIMEOUT_MS
    }

    /// An endpoint at `url` with `secret` and the default timeout.
    pub fn new(url: impl Into<String>, secret: impl Into<SecretString>) -> Self {
        Self {
            url: url.into(),
            secret: secret.into(),
            timeout_ms: Self::DEFAULT_TIMEOUT_MS,
        }
    }

    /// [`Self::timeout_ms`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Every problem of the block at `path` (`""` for the section itself):
    /// an http(s) URL, a secret when `secret_for` says what it is for, and a
    /// request timeout above 0 and below `handler_timeout`.
    pub fn check(
        &self,
        path: &str,
        handler_timeout: Duration,
        secret_for: Option<&str>,
    ) -> Vec<Problem> {
        let mut p = Problems::new();
        p.at(path, |p| {
            self.check_into(p, EndpointKeys::BLOCK, handler_timeout, secret_for);
        });
        p.done()
    }

    /// [`Self::check`] into `p`, the fields named by `keys`.
    pub fn check_into<'p>(
        &self,
        p: &'p mut Problems,
        keys: EndpointKeys,
        handler_timeout: Duration,
        secret_for: Option<&str>,
    ) -> &'p mut Problems {
        if let Some(what) = secret_for {
            p.required_secret(keys.secret, &self.secret, what);
        }
        p.http_url(keys.url, &self.url).request_timeout(
            keys.timeout_ms,
            self.timeout_ms,
            handler_timeout,
        )
    }
}

/// For flavors without settings of their own: any key is an error.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

impl FlavorConfig for NoConfig {}
