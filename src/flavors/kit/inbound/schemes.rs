//! The vendors' schemes over the primitives of [`super::verify`]: Standard
//! Webhooks (ServiceNow), PagerDuty v3, shared secrets (Datadog).

use std::time::Duration;

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use super::verify::{
    fresh, header, mac, matches, same, timestamp, Key, Keyring, Refusal, Verified, Verifier,
};

/// [Standard Webhooks](https://www.standardwebhooks.com/): secrets
/// `whsec_<base64>`, content `{webhook-id}.{webhook-timestamp}.{body}`,
/// `webhook-signature: v1,<base64> [v1,<base64> …]`. ServiceNow can sign so.
#[derive(Debug, Clone)]
pub struct StandardWebhooks {
    keys: Keyring,
    tolerance: Duration,
}

impl StandardWebhooks {
    /// Decodes each secret (`whsec_` prefix optional); names the bad one.
    pub fn new(keys: &Keyring, tolerance: Duration) -> Result<Self, String> {
        let mut decoded = Vec::new();
        for key in keys.keys() {
            let text = std::str::from_utf8(key.secret()).unwrap_or_default();
            let secret = Self::decode_secret(text)
                .map_err(|e| format!("key {}: not whsec_<base64>: {e}", key.label))?;
            decoded.push(Key::new(key.label.clone(), secret));
        }
        Ok(Self {
            keys: Keyring::new(decoded),
            tolerance,
        })
    }

    /// The key bytes of a secret written `whsec_<base64>` (the prefix
    /// optional), as senders and receivers both use it.
    pub fn decode_secret(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
        B64.decode(text.strip_prefix("whsec_").unwrap_or(text))
    }

    /// The `webhook-signature` value of `secret` (decoded) for a delivery.
    pub fn sign(secret: &[u8], id: &str, ts: i64, body: &[u8]) -> String {
        format!(
            "v1,{}",
            B64.encode(mac(secret, &Self::content(id, ts, body)))
        )
    }

    fn content(id: &str, ts: i64, body: &[u8]) -> Vec<u8> {
        let mut out = format!("{id}.{ts}.").into_bytes();
        out.extend_from_slice(body);
        out
    }
}

impl Verifier for StandardWebhooks {
    fn verify(&self, headers: &HeaderMap, body: &[u8], now_s: i64) -> Result<Verified, Refusal> {
        let value = header(headers, "webhook-signature")?;
        let id = header(headers, "webhook-id")?;
        let ts = timestamp(headers, "webhook-timestamp")?;
        let sigs: Vec<Vec<u8>> = (value.split_whitespace())
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|s| B64.decode(s).ok())
            .collect();
        if sigs.is_empty() {
            return Err(Refusal::Malformed(
                "webhook-signature has no v1,<base64> entry".into(),
            ));
        }
        let content = Self::content(id, ts, body);
        let signers = (self.keys).signers(|k| sigs.iter().any(|s| matches(k, &content, s)));
        if signers.is_empty() {
            return Err(Refusal::BadSignature("webhook-signature"));
        }
        fresh(ts, now_s, self.tolerance)?;
        Ok(Verified {
            signers,
            delivery_id: Some(id.to_string()),
            timestamp: Some(ts),
        })
    }
}

/// PagerDuty webhooks v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`,
/// HMAC-SHA256 keyed with the secret string's bytes over the raw body; any
/// `v1=` entry matching verifies, other prefixes are ignored. Nothing is
/// timestamped (no replay window: the claim table is the dedup). Delivery
/// id = `X-Webhook-Id`, repeated on every retry.
#[derive(Debug, Clone)]
pub struct PagerDutyV3 {
    /// The secrets (several during a rotation).
    pub keys: Keyring,
}

impl PagerDutyV3 {
    /// The header PagerDuty would send for `body` under each secret.
    pub fn sign(secrets: &[&[u8]], body: &[u8]) -> String {
        let sigs: Vec<String> = (secrets.iter())
            .map(|s| format!("v1={}", hex::encode(mac(s, body))))
            .collect();
        sigs.join(",")
    }
}

impl Verifier for PagerDutyV3 {
    fn verify(&self, headers: &HeaderMap, body: &[u8], _now_s: i64) -> Result<Verified, Refusal> {
        const HEADER: &str = "x-pagerduty-signature";
        let value = header(headers, HEADER)?;
        let sigs: Vec<Vec<u8>> = (value.split(','))
            .filter_map(|s| s.trim().strip_prefix("v1="))
            .filter_map(|s| hex::decode(s).ok())
            .collect();
        if sigs.is_empty() {
            return Err(Refusal::Malformed(format!(
                "{HEADER} has no v1=<hex> entry"
            )));
        }
        let signers = (self.keys).signers(|k| sigs.iter().any(|s| matches(k, body, s)));
        if signers.is_empty() {
            return Err(Refusal::BadSignature(HEADER));
        }
        let delivery_id = (headers.get("x-webhook-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Verified {
            signers,
            delivery_id,
            timestamp: None,
        })
    }
}

/// An unsigned sender's shared secret (Datadog webhooks do not sign).
#[derive(Debug, Clone)]
pub enum SharedSecret {
    /// The secret in a header: its value, or the token after `Bearer `
    /// (e.g. `Authorization: Bearer <token>`, `X-Case-Hook-Token: <token>`).
    Header(&'static str, Keyring),
    /// HTTP basic auth: a key `user:pass` matches both, a key without `:`
    /// matches the password.
    Basic(Keyring),
}

impl Verifier for SharedSecret {
    fn verify(&self, headers: &HeaderMap, _body: &[u8], _now_s: i64) -> Result<Verified, Refusal> {
        let signers = match self {
            SharedSecret::Header(name, keys) => {
                let value = header(headers, name)?.trim();
                let token = value.strip_prefix("Bearer ").unwrap_or(value);
                let signers = keys.signers(|k| same(k, token.as_bytes()));
                if signers.is_empty() {
                    return Err(Refusal::BadSignature(name));
                }
                signers
            }
            SharedSecret::Basic(keys) => {
                let value = header(headers, "authorization")?.trim();
                let pair = (value.strip_prefix("Basic "))
                    .and_then(|b| B64.decode(b.trim()).ok())
                    .ok_or_else(|| {
                        Refusal::Malformed("authorization is not Basic <base64>".into())
                    })?;
                let password = pair.splitn(2, |b| *b == b':').nth(1).unwrap_or_default();
                let signers = keys.signers(|k| match k.contains(&b':') {
                    true => same(k, &pair),
                    false => same(k, password),
                });
                if signers.is_empty() {
                    return Err(Refusal::BadSignature("authorization"));
                }
                signers
            }
        };
        Ok(Verified {
            signers,
            delivery_id: None,
            timestamp: None,
        })
    }
}
