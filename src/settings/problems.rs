//! The one collector of configuration problems: the settings' own checks,
//! each flavor's [`FlavorConfig::problems`](crate::flavors::kit::FlavorConfig)
//! and [`Endpoint::check`](crate::flavors::kit::Endpoint::check) all build
//! their lists with it.

use std::time::Duration;

use super::error::Problem;
use super::secret::SecretString;

/// Collects problems, each under a key path. Paths given to the methods are
/// relative to the current prefix (see [`Problems::at`]).
///
/// ```
/// use case_event_handler::settings::Problems;
///
/// let mut p = Problems::new();
/// p.expect(false, "timeout_ms", "must be at least 1");
/// p.at("projects.x", |p| {
///     p.http_url("site_url", "ftp://x");
/// });
/// let paths: Vec<String> = p.done().into_iter().map(|p| p.path).collect();
/// assert_eq!(paths, ["timeout_ms", "projects.x.site_url"]);
/// ```
#[derive(Debug, Default)]
pub struct Problems {
    /// Prepended to every path recorded (`""` at the top).
    prefix: String,
    found: Vec<Problem>,
}

impl Problems {
    /// An empty collector at the top of the tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// `key` under the current prefix.
    fn path(&self, key: &str) -> String {
        join(&self.prefix, key)
    }

    /// Records `message` at `key`.
    pub fn push(&mut self, key: &str, message: impl Into<String>) -> &mut Self {
        let problem = Problem::new(self.path(key), message);
        self.found.push(problem);
        self
    }

    /// Records `message()` at `key` unless `ok` (the message is only built
    /// when needed).
    pub fn check(&mut self, ok: bool, key: &str, message: impl FnOnce() -> String) -> &mut Self {
        if !ok {
            self.push(key, message());
        }
        self
    }

    /// Records `message` at `key` unless `ok`.
    pub fn expect(&mut self, ok: bool, key: &str, message: &str) -> &mut Self {
        self.check(ok, key, || message.to_owned())
    }

    /// Records the error of `result`, if any, at `key`.
    pub fn result(&mut self, key: &str, result: Result<(), String>) -> &mut Self {
        if let Err(message) = result {
            self.push(key, message);
        }
        self
    }

    /// Adds problems found elsewhere, their paths relative to `key`.
    pub fn extend_at(
        &mut self,
        key: &str,
        problems: impl IntoIterator<Item = Problem>,
    ) -> &mut Self {
        let prefix = self.path(key);
        let prefixed =
            (problems.into_iter()).map(|p| Problem::new(join(&prefix, &p.path), p.message));
        self.found.extend(prefixed);
        self
    }

    /// Runs `checks` with `key` added to the prefix: `at("projects.x", ..)`
    /// records `url` as `projects.x.url`.
    pub fn at(&mut self, key: &str, checks: impl FnOnce(&mut Self)) -> &mut Self {
        let outer = std::mem::take(&mut self.prefix);
        self.prefix = join(&outer, key);
        checks(self);
        self.prefix = outer;
        self
    }

    /// `secret` must not be blank; `what` says what it is for.
    pub fn required_secret(&mut self, key: &str, secret: &SecretString, what: &str) -> &mut Self {
        let set = !secret.expose().trim().is_empty();
        self.check(set, key, || format!("is required ({what})"))
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

    /// Whether nothing was found so far.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// Every problem found, in order (the collector is left empty).
    pub fn done(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.found)
    }
}

/// `key` below `prefix`: `a` + `b` is `a.b`, `a` + `[0]` is `a[0]`, and an
/// empty side is left out.
fn join(prefix: &str, key: &str) -> String {
    match (prefix.is_empty(), key.is_empty()) {
        (true, _) => key.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) if key.starts_with('[') => format!("{prefix}{key}"),
        (false, false) => format!("{prefix}.{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest_and_every_check_keeps_its_message() {
        let mut p = Problems::new();
        p.check(false, "a", || "lazy".into())
            .expect(true, "b", "never")
            .result("c", Err("from a result".into()));
        p.at("projects.x", |p| {
            p.http_url("site_url", "ftp://x")
                .required_secret("token", &SecretString::default(), "the API token")
                .at("custom_fields[0]", |p| {
                    p.push("field_id", "nested");
                })
                .push("[1]", "indexed");
        });
        p.request_timeout("timeout_ms", 30_000, Duration::from_secs(30));
        p.extend_at("runtime", [Problem::new("max_in_flight", "elsewhere")]);
        let found: Vec<String> = p.done().iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "a: lazy",
                "c: from a result",
                "projects.x.site_url: must be an http(s) URL",
                "projects.x.token: is required (the API token)",
                "projects.x.custom_fields[0].field_id: nested",
                "projects.x[1]: indexed",
                "timeout_ms: must be above 0 and below the runtime's handler_timeout_ms",
                "runtime.max_in_flight: elsewhere",
            ]
        );
        assert!(p.is_empty(), "done() empties the collector");
    }

    #[test]
    fn request_timeouts_must_be_positive_and_below_the_handler_timeout() {
        let handler = Duration::from_secs(30);
        for (ms, ok) in [(0, false), (1, true), (29_999, true), (30_000, false)] {
            let mut p = Problems::new();
            p.request_timeout("timeout_ms", ms, handler);
            assert_eq!(p.is_empty(), ok, "{ms} ms");
        }
    }
}
