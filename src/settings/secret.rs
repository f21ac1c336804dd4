//! A wrapper that keeps secrets out of logs, debug output and rendered config.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_yaml::Value;

/// What every secret renders as.
pub const MASK: &str = "***";

/// A value that must never be printed: `Debug`, `Display` and `Serialize`
/// all produce `***`. Read the real value with [`Secret::expose`].
///
/// Deserializes transparently from the inner type, so config files simply
/// contain the plain value.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret<T>(T);

/// The common case: a secret string (passwords, tokens, URLs with credentials).
pub type SecretString = Secret<String>;

impl<T> Secret<T> {
    /// Wraps a value.
    pub const fn new(value: T) -> Self {
        Self(value)
    }

    /// Gives access to the secret value. Keep the result out of logs.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret value. Keep the result out of logs.
    pub fn into_exposed(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<T> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(MASK)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self)
    }
}

/// Replaces the password of a `scheme://user:password@host/...` URL with `***`.
/// Strings without credentials are returned unchanged.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let Some(at) = url[scheme_end..authority_end]
        .rfind('@')
        .map(|i| scheme_end + i)
    else {
        return url.to_owned();
    };
    match url[scheme_end..at].find(':').map(|i| scheme_end + i) {
        Some(colon) => format!("{}{MASK}{}", &url[..=colon], &url[at..]),
        None => url.to_owned(),
    }
}

/// Whether a free-form key (`flavors.*`, `kafka.client`) probably holds a secret.
pub(crate) fn is_secret_key(key: &str) -> bool {
    const MARKERS: [&str; 9] = [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "credential",
        "private",
        "key.pem",
    ];
    let key = key.to_ascii_lowercase().replace('-', "_");
    MARKERS.iter().any(|m| key.contains(m))
}

/// Masks free-form YAML: values under secret-looking keys become `***` and
/// passwords embedded in URLs are redacted.
pub(crate) fn mask_value(value: &mut Value) {
    match value {
        Value::String(s) => *s = redact_url(s),
        Value::Sequence(items) => items.iter_mut().for_each(mask_value),
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let secret = key.as_str().is_some_and(is_secret_key);
                if secret && !item.is_null() {
                    *item = Value::String(MASK.to_owned());
                } else {
                    mask_value(item);
                }
            }
        }
        Value::Tagged(tagged) => mask_value(&mut tagged.value),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_url_passwords() {
        assert_eq!(
            redact_url("postgres://u:p@h:5432/db?x=y@z"),
            "postgres://u:***@h:5432/db?x=y@z"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact_url("sqlite://a.db?mode=rwc"),
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn secret_never_prints() {
        let s = SecretString::from("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.expose(), "hunter2");
    }
}
