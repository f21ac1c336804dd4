//! Who sent a delivery: signature and shared-secret checks over a keyring of
//! labelled secrets, pure and synchronous, every comparison constant-time
//! (`hmac`'s `verify_slice`). A verifier sees the raw body and headers only;
//! nothing parses the body before one of these accepted it.

use std::time::Duration;

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha = Hmac<Sha256>;

/// One labelled secret (a project's, or the old one during a rotation).
#[derive(Clone)]
pub struct Key {
    /// Named in [`Verified::signers`] when this key verified.
    pub label: String,
    secret: Vec<u8>,
}

impl Key {
    /// A key from its label and the secret's bytes.
    pub fn new(label: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        Self {
            label: label.into(),
            secret: secret.into(),
        }
    }
}

impl Key {
    pub(super) fn secret(&self) -> &[u8] {
        &self.secret
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({}, <redacted>)", self.label)
    }
}

/// The secrets a route accepts; several may verify the same delivery.
#[derive(Clone, Debug, Default)]
pub struct Keyring(Vec<Key>);

impl Keyring {
    /// A keyring of `keys`.
    pub fn new(keys: impl IntoIterator<Item = Key>) -> Self {
        Self(keys.into_iter().collect())
    }

    /// The keys.
    pub(super) fn keys(&self) -> &[Key] {
        &self.0
    }

    /// The labels of the keys for which `check(secret)` holds.
    pub(super) fn signers(&self, mut check: impl FnMut(&[u8]) -> bool) -> Vec<String> {
        (self.0.iter())
            .filter(|k| check(&k.secret))
            .map(|k| k.label.clone())
            .collect()
    }
}

/// What a verifier accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The labels of the keys that verified (never empty).
    pub signers: Vec<String>,
    /// The delivery id the scheme carries (`webhook-id`, `X-Webhook-Id`).
    pub delivery_id: Option<String>,
    /// The signed timestamp (Unix seconds), when the scheme has one.
    pub timestamp: Option<i64>,
}

/// Why a delivery was refused before anything read its body (401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The header that carries the signature or secret is missing.
    #[error("missing {0}")]
    Unsigned(&'static str),
    /// No key of the keyring produced the signature or matches the secret.
    #[error("{0} matches no configured key")]
    BadSignature(&'static str),
    /// The signed timestamp is outside the tolerance (either way).
    #[error("signed timestamp is {age_s} s from now, past the tolerance of {tolerance_s} s")]
    StaleTimestamp { age_s: i64, tolerance_s: i64 },
    /// A header is present but unreadable.
    #[error("{0}")]
    Malformed(String),
}

impl Refusal {
    /// The `result` label of the refusal.
    pub fn result(&self) -> &'static str {
        match self {
            Refusal::Unsigned(_) => "unsigned",
            Refusal::BadSignature(_) | Refusal::Malformed(_) => "bad_signature",
            Refusal::StaleTimestamp { .. } => "stale",
        }
    }
}

/// Checks who sent a delivery. Pure: `now_s` is the caller's clock.
pub trait Verifier: Send + Sync + 'static {
    /// Accepts `body` with `headers`, or says why not.
    fn verify(&self, headers: &HeaderMap, body: &[u8], now_s: i64) -> Result<Verified, Refusal>;
}

/// How a signature is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Lowercase or uppercase hex.
    Hex,
    /// Standard base64 with padding.
    Base64,
}

impl Encoding {
    fn decode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Encoding::Hex => hex::decode(text).ok(),
            Encoding::Base64 => B64.decode(text).ok(),
        }
    }

    fn encode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Hex => hex::encode(bytes),
            Encoding::Base64 => B64.encode(bytes),
        }
    }
}

/// A signed timestamp header and how it enters the signed content.
#[derive(Debug, Clone)]
pub struct SignedTimestamp {
    /// The header holding Unix seconds (e.g. `X-Slack-Request-Timestamp`).
    pub header: &'static str,
    /// The signed content: `{ts}` and `{body}` replaced (`"{ts}.{body}"`,
    /// Slack's `"v0:{ts}:{body}"`).
    pub template: &'static str,
    /// How far from now the timestamp may be.
    pub tolerance: Duration,
}

/// HMAC-SHA256 of the raw body (or of a timestamp template) in one header,
/// e.g. Jira's `X-Hub-Signature: sha256=<hex>`.
#[derive(Debug, Clone)]
pub struct HmacSha256 {
    /// The secrets.
    pub keys: Keyring,
    /// The signature header.
    pub header: &'static str,
    /// What precedes the signature in the header (`"sha256="`, `"v0="`, or `""`).
    pub prefix: &'static str,
    /// Hex or base64.
    pub encoding: Encoding,
    /// A signed timestamp, if the scheme has one.
    pub timestamp: Option<SignedTimestamp>,
}

impl HmacSha256 {
    /// The header value `key` would send for `body` (at `ts`, if timestamped).
    pub fn sign(&self, secret: &[u8], body: &[u8], ts: Option<i64>) -> String {
        let content = self.content(body, ts.unwrap_or_default());
        format!(
            "{}{}",
            self.prefix,
            self.encoding.encode(&mac(secret, &content))
        )
    }

    fn content(&self, body: &[u8], ts: i64) -> Vec<u8> {
        match &self.timestamp {
            None => body.to_vec(),
            Some(t) => {
                let (before, after) = t.template.split_once("{body}").unwrap_or((t.template, ""));
                let ts = ts.to_string();
                let mut out = before.replace("{ts}", &ts).into_bytes();
                out.extend_from_slice(body);
                out.extend_from_slice(after.replace("{ts}", &ts).as_bytes());
                out
            }
        }
    }
}

impl Verifier for HmacSha256 {
    fn verify(&self, headers: &HeaderMap, body: &[u8], now_s: i64) -> Result<Verified, Refusal> {
        let value = header(headers, self.header)?;
        let timestamp = match &self.timestamp {
            None => None,
            Some(t) => Some(timestamp(headers, t.header)?),
        };
        let sig = (value.trim().strip_prefix(self.prefix))
            .and_then(|s| self.encoding.decode(s))
            .ok_or_else(|| {
                Refusal::Malformed(format!("{} is not {}<signature>", self.header, self.prefix))
            })?;
        let content = self.content(body, timestamp.unwrap_or_default());
        let signers = self.keys.signers(|secret| matches(secret, &content, &sig));
        if signers.is_empty() {
            return Err(Refusal::BadSignature(self.header));
        }
        if let (Some(t), Some(ts)) = (&self.timestamp, timestamp) {
            fresh(ts, now_s, t.tolerance)?;
        }
        Ok(Verified {
            signers,
            delivery_id: None,
            timestamp,
        })
    }
}

pub(super) fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, Refusal> {
    let value = headers.get(name).ok_or(Refusal::Unsigned(name))?;
    value
        .to_str()
        .map_err(|_| Refusal::Malformed(format!("{name} is not visible ASCII")))
}

pub(super) fn timestamp(headers: &HeaderMap, name: &'static str) -> Result<i64, Refusal> {
    (header(headers, name)?.trim().parse())
        .map_err(|_| Refusal::Malformed(format!("{name} is not Unix seconds")))
}

pub(super) fn fresh(ts: i64, now_s: i64, tolerance: Duration) -> Result<(), Refusal> {
    let age_s = now_s.saturating_sub(ts);
    let tolerance_s = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    match age_s.checked_abs().is_some_and(|a| a <= tolerance_s) {
        true => Ok(()),
        false => Err(Refusal::StaleTimestamp { age_s, tolerance_s }),
    }
}

fn hmac(secret: &[u8]) -> HmacSha {
    #[expect(clippy::expect_used, reason = "HMAC takes a key of any length")]
    HmacSha::new_from_slice(secret).expect("HMAC takes any key length")
}

/// HMAC-SHA256 of `content` under `secret`.
pub(super) fn mac(secret: &[u8], content: &[u8]) -> Vec<u8> {
    let mut m = hmac(secret);
    m.update(content);
    m.finalize().into_bytes().to_vec()
}

/// Whether `sig` is the MAC of `content` under `secret` (constant-time).
pub(super) fn matches(secret: &[u8], content: &[u8], sig: &[u8]) -> bool {
    let mut m = hmac(secret);
    m.update(content);
    m.verify_slice(sig).is_ok()
}

/// Whether two secrets are equal, in time independent of where they differ
/// (both go through one MAC; the tags are compared constant-time).
pub(super) fn same(expected: &[u8], presented: &[u8]) -> bool {
    matches(
        b"ceh-inbound-shared-secret",
        presented,
        &mac(b"ceh-inbound-shared-secret", expected),
    )
}
