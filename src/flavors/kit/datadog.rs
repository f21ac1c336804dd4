//! Datadog's shared vocabulary, for every flavor that writes to a Datadog
//! intake (logs, events, incidents, on-call): tags, and how an intake's
//! endpoint is written in a flavor section.

use std::time::Duration;

use super::{Endpoint, EndpointKeys};
use crate::settings::{Problems, SecretString};

/// An intake's endpoint keys in a flavor section: `url`, `api_key` (sent as
/// `DD-API-KEY`) and `timeout_ms`, flat beside the flavor's other keys.
pub const ENDPOINT_KEYS: EndpointKeys = EndpointKeys {
    url: "url",
    secret: "api_key",
    timeout_ms: "timeout_ms",
};

/// An intake endpoint from its flat keys.
pub fn intake(url: String, api_key: SecretString, timeout_ms: u64) -> Endpoint {
    Endpoint {
        url,
        secret: api_key,
        timeout_ms,
    }
}

/// The problems of an intake endpoint, under its flat keys: the API key
/// is required, the URL http(s), the timeout inside the handler's.
pub fn check_intake<'p>(
    endpoint: &Endpoint,
    p: &'p mut Problems,
    handler_timeout: Duration,
) -> &'p mut Problems {
    let what = Some("the DD-API-KEY of the intake");
    endpoint.check_into(p, ENDPOINT_KEYS, handler_timeout, what)
}

/// Longest tag the intakes keep.
const MAX_TAG_CHARS: usize = 200;

/// `key:value` under the intake's rules: lowercase; letters, digits, `_ - : . /`
/// kept, anything else (commas included) becomes `_`, runs of `_` collapse,
/// at most 200 characters. Empty when the value normalises to nothing.
pub fn tag(key: &str, value: &str) -> String {
    let mut norm = String::with_capacity(value.len());
    for c in value.trim().chars().flat_map(char::to_lowercase) {
        let c = if c.is_alphanumeric() || "_-:./".contains(c) {
            c
        } else {
            '_'
        };
        if !(c == '_' && norm.ends_with('_')) {
            norm.push(c);
        }
    }
    let norm = norm.trim_matches('_');
    if norm.is_empty() {
        return String::new();
    }
    format!("{key}:{norm}")
        .chars()
        .take(MAX_TAG_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::tag;

    #[test]
    fn tag_values_follow_the_intake_rules() {
        assert_eq!(tag("team", "  Été / Ops  "), "team:été_/_ops");
        assert_eq!(tag("team", "a,,b!!c"), "team:a_b_c");
        assert_eq!(tag("team", "!!!"), "");
        assert_eq!(tag("team", ""), "");
        assert_eq!(tag("team", &"x".repeat(300)).chars().count(), 200);
    }
}
