//! Each verifier: valid, tampered body, wrong key, several signatures with
//! one valid, missing header, stale timestamp, the Standard Webhooks vector.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine as _;

use super::verify::*;
use super::{PagerDutyV3, SharedSecret, StandardWebhooks};

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn ring(keys: &[(&str, &str)]) -> Keyring {
    Keyring::new(keys.iter().map(|(l, s)| Key::new(*l, s.as_bytes())))
}

const BODY: &[u8] = br#"{"webhookEvent":"jira:issue_updated"}"#;
const NOW: i64 = 1_765_000_000;

fn jira() -> HmacSha256 {
    HmacSha256 {
        keys: ring(&[("p1", "s1"), ("p2", "s2"), ("p3", "s1")]),
        header: "x-hub-signature",
        prefix: "sha256=",
        encoding: Encoding::Hex,
        timestamp: None,
    }
}

#[test]
fn hmac_accepts_the_keys_that_signed_and_refuses_the_rest() {
    let v = jira();
    let sig = v.sign(b"s1", BODY, None);
    assert!(sig.starts_with("sha256="));
    let ok = v
        .verify(&headers(&[("x-hub-signature", &sig)]), BODY, NOW)
        .unwrap();
    assert_eq!(ok.signers, vec!["p1".to_string(), "p3".to_string()]);
    assert_eq!(ok.delivery_id, None);

    let tampered = v.verify(&headers(&[("x-hub-signature", &sig)]), b"{}", NOW);
    assert_eq!(tampered, Err(Refusal::BadSignature("x-hub-signature")));
    let wrong = v.sign(b"other", BODY, None);
    let wrong = v.verify(&headers(&[("x-hub-signature", &wrong)]), BODY, NOW);
    assert_eq!(wrong, Err(Refusal::BadSignature("x-hub-signature")));
    let missing = v.verify(&HeaderMap::new(), BODY, NOW);
    assert_eq!(missing, Err(Refusal::Unsigned("x-hub-signature")));
    assert!(missing.unwrap_err().to_string().contains("x-hub-signature"));
    let no_prefix = v.verify(&headers(&[("x-hub-signature", "abcd")]), BODY, NOW);
    assert!(matches!(no_prefix, Err(Refusal::Malformed(m)) if m.contains("sha256=")));
}

#[test]
fn a_timestamped_hmac_signs_the_template_and_refuses_stale_ones() {
    let v = HmacSha256 {
        keys: ring(&[("slack", "sek")]),
        header: "x-slack-signature",
        prefix: "v0=",
        encoding: Encoding::Hex,
        timestamp: Some(SignedTimestamp {
            header: "x-slack-request-timestamp",
            template: "v0:{ts}:{body}",
            tolerance: Duration::from_secs(300),
        }),
    };
    let ts = NOW - 10;
    let sig = v.sign(b"sek", BODY, Some(ts));
    // The template is what is signed: v0:<ts>:<body>.
    let mut content = format!("v0:{ts}:").into_bytes();
    content.extend_from_slice(BODY);
    assert_eq!(
        sig,
        format!("v0={}", hex::encode(super::verify::mac(b"sek", &content)))
    );
    let h = headers(&[
        ("x-slack-signature", &sig),
        ("x-slack-request-timestamp", &ts.to_string()),
    ]);
    let ok = v.verify(&h, BODY, NOW).unwrap();
    assert_eq!(ok.timestamp, Some(ts));
    assert_eq!(
        v.verify(&h, BODY, ts + 301),
        Err(Refusal::StaleTimestamp {
            age_s: 301,
            tolerance_s: 300
        })
    );
    assert!(v.verify(&h, BODY, ts - 301).is_err(), "from the future");
    let unstamped = headers(&[("x-slack-signature", &sig)]);
    assert_eq!(
        v.verify(&unstamped, BODY, NOW),
        Err(Refusal::Unsigned("x-slack-request-timestamp"))
    );
    // Another timestamp than the signed one does not verify.
    let moved = headers(&[
        ("x-slack-signature", &sig),
        ("x-slack-request-timestamp", &(ts + 1).to_string()),
    ]);
    assert_eq!(
        v.verify(&moved, BODY, NOW),
        Err(Refusal::BadSignature("x-slack-signature"))
    );
}

#[test]
fn hmac_in_base64() {
    let v = HmacSha256 {
        encoding: Encoding::Base64,
        prefix: "",
        ..jira()
    };
    let sig = v.sign(b"s2", BODY, None);
    assert!(base64::engine::general_purpose::STANDARD
        .decode(&sig)
        .is_ok());
    let ok = v.verify(&headers(&[("x-hub-signature", &sig)]), BODY, NOW);
    assert_eq!(ok.unwrap().signers, vec!["p2".to_string()]);
}

#[derive(serde::Deserialize)]
struct Vectors {
    vectors: Vec<Vector>,
}

#[derive(serde::Deserialize)]
struct Vector {
    secret: String,
    msg_id: String,
    timestamp: i64,
    payload: String,
    signature: String,
}

fn vectors() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/specs/standard-webhooks/test-vectors.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str::<Vectors>(&text).unwrap().vectors
}

#[test]
fn standard_webhooks_passes_the_published_vector() {
    for t in vectors() {
        let keys = Keyring::new([
            Key::new("old", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Key::new("sn", t.secret.as_bytes()),
        ]);
        let v = StandardWebhooks::new(&keys, Duration::from_secs(300)).unwrap();
        let h = headers(&[
            ("webhook-id", &t.msg_id),
            ("webhook-timestamp", &t.timestamp.to_string()),
            ("webhook-signature", &t.signature),
        ]);
        let body = t.payload.as_bytes();
        let ok = v.verify(&h, body, t.timestamp + 5).unwrap();
        assert_eq!(ok.signers, vec!["sn".to_string()]);
        assert_eq!(ok.delivery_id.as_deref(), Some(t.msg_id.as_str()));
        assert_eq!(ok.timestamp, Some(t.timestamp));
        // Our signer writes the vector's signature.
        let raw = base64::engine::general_purpose::STANDARD
            .decode(t.secret.trim_start_matches("whsec_"))
            .unwrap();
        let ours = StandardWebhooks::sign(&raw, &t.msg_id, t.timestamp, body);
        assert_eq!(ours, t.signature);

        let mut tampered = body.to_vec();
        tampered.push(b' ');
        assert_eq!(
            v.verify(&h, &tampered, t.timestamp),
            Err(Refusal::BadSignature("webhook-signature"))
        );
        assert!(matches!(
            v.verify(&h, body, t.timestamp + 301),
            Err(Refusal::StaleTimestamp { age_s: 301, .. })
        ));
        // Several signatures, one valid (a rotation on the sender's side).
        let several = format!("v1,AAAA v1a,zzz {}", t.signature);
        let h2 = headers(&[
            ("webhook-id", &t.msg_id),
            ("webhook-timestamp", &t.timestamp.to_string()),
            ("webhook-signature", &several),
        ]);
        assert!(v.verify(&h2, body, t.timestamp).is_ok());
        // Another id than the signed one does not verify.
        let h3 = headers(&[
            ("webhook-id", "msg_other"),
            ("webhook-timestamp", &t.timestamp.to_string()),
            ("webhook-signature", &t.signature),
        ]);
        assert!(v.verify(&h3, body, t.timestamp).is_err());
        // A wrong key alone refuses; a missing header is unsigned.
        let wrong = StandardWebhooks::new(
            &Keyring::new([Key::new("old", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]),
            Duration::from_secs(300),
        )
        .unwrap();
        assert!(matches!(
            wrong.verify(&h, body, t.timestamp),
            Err(Refusal::BadSignature(_))
        ));
        let unsigned = headers(&[("webhook-id", &t.msg_id)]);
        assert_eq!(
            v.verify(&unsigned, body, t.timestamp),
            Err(Refusal::Unsigned("webhook-signature"))
        );
    }
}

#[test]
fn standard_webhooks_refuses_a_secret_that_is_not_base64() {
    let err = StandardWebhooks::new(&ring(&[("bad", "whsec_!!!")]), Duration::from_secs(1))
        .err()
        .unwrap();
    assert!(err.contains("bad"), "{err}");
}

#[test]
fn pagerduty_v3_any_v1_entry_verifies_and_other_prefixes_are_ignored() {
    let v = PagerDutyV3 {
        keys: ring(&[("new", "pd-new"), ("old", "pd-old")]),
    };
    let body = br#"{"event":{"id":"e1","event_type":"incident.triggered"}}"#;
    let sig = PagerDutyV3::sign(&[b"unknown", b"pd-old"], body);
    assert_eq!(sig.matches("v1=").count(), 2);
    let h = headers(&[
        ("x-pagerduty-signature", &format!("v2=abc, {sig}")),
        ("x-webhook-id", "wh-1"),
    ]);
    let ok = v.verify(&h, body, 0).unwrap();
    assert_eq!(ok.signers, vec!["old".to_string()]);
    assert_eq!(ok.delivery_id.as_deref(), Some("wh-1"));
    assert_eq!(ok.timestamp, None);
    // No timestamp: any clock verifies (the claim table deduplicates).
    assert!(v.verify(&h, body, i64::MAX / 2).is_ok());

    assert_eq!(
        v.verify(&h, b"{}", 0),
        Err(Refusal::BadSignature("x-pagerduty-signature"))
    );
    let wrong = PagerDutyV3::sign(&[b"nope"], body);
    let wrong = headers(&[("x-pagerduty-signature", &wrong)]);
    assert!(matches!(
        v.verify(&wrong, body, 0),
        Err(Refusal::BadSignature(_))
    ));
    assert_eq!(
        v.verify(&HeaderMap::new(), body, 0),
        Err(Refusal::Unsigned("x-pagerduty-signature"))
    );
    let only_other = headers(&[("x-pagerduty-signature", "v2=abcd")]);
    assert!(
        matches!(v.verify(&only_other, body, 0), Err(Refusal::Malformed(m)) if m.contains("v1="))
    );
}

#[test]
fn shared_secrets_in_a_header_or_basic_auth() {
    let bearer = SharedSecret::Header(
        "authorization",
        ring(&[("dd", "tok-1"), ("dd-old", "tok-0")]),
    );
    let ok = bearer
        .verify(&headers(&[("authorization", "Bearer tok-0")]), BODY, 0)
        .unwrap();
    assert_eq!(ok.signers, vec!["dd-old".to_string()]);
    assert!(matches!(
        bearer.verify(&headers(&[("authorization", "Bearer tok-2")]), BODY, 0),
        Err(Refusal::BadSignature("authorization"))
    ));
    assert!(matches!(
        bearer.verify(&headers(&[("authorization", "Bearer tok-")]), BODY, 0),
        Err(Refusal::BadSignature(_))
    ));
    assert_eq!(
        bearer.verify(&HeaderMap::new(), BODY, 0),
        Err(Refusal::Unsigned("authorization"))
    );
    let custom = SharedSecret::Header("x-case-hook-token", ring(&[("dd", "tok-1")]));
    assert!(custom
        .verify(&headers(&[("x-case-hook-token", "tok-1")]), BODY, 0)
        .is_ok());

    let basic = SharedSecret::Basic(ring(&[("pair", "dd:pw1"), ("pw", "pw2")]));
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let auth = |s: &str| headers(&[("authorization", &format!("Basic {}", b64(s)))]);
    assert_eq!(
        basic.verify(&auth("dd:pw1"), BODY, 0).unwrap().signers,
        vec!["pair"]
    );
    assert_eq!(
        basic.verify(&auth("anyone:pw2"), BODY, 0).unwrap().signers,
        vec!["pw"]
    );
    assert!(matches!(
        basic.verify(&auth("other:pw1"), BODY, 0),
        Err(Refusal::BadSignature(_))
    ));
    assert!(matches!(
        basic.verify(&headers(&[("authorization", "Bearer x")]), BODY, 0),
        Err(Refusal::Malformed(_))
    ));
}
