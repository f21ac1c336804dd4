//! The Jira webhook route without a network: the same checks `POST
//! /webhooks/jira` runs before any IO (`X-Hub-Signature` against each
//! project's secret, the body as a Jira webhook document, the delivery id)
//! and every value the handlers then read from the delivery. The first byte
//! picks the signature: the right one for project `a`, arbitrary header bytes
//! (up to the first newline), or the right one for a body changed after
//! signing. The answer must follow the signature exactly, and a body that is
//! not JSON is never accepted.
#![no_main]

use axum::http::{HeaderMap, HeaderValue};
use case_event_handler::flavors::jira::webhook::{sign, verifier};
use case_event_handler::flavors::kit::inbound::{Key, Keyring, Verifier};
use case_event_handler::fuzzing::{jira_webhook, JiraWebhook};
use libfuzzer_sys::fuzz_target;

const SECRETS: [(&str, &[u8]); 2] = [("a", b"webhook-secret-a"), ("b", b"another secret")];

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (signature, body): (Vec<u8>, Vec<u8>) = match mode % 3 {
        0 => (sign(SECRETS[0].1, rest).into_bytes(), rest.to_vec()),
        1 => {
            let split = rest.iter().position(|&b| b == b'\n').unwrap_or(0);
            let (header, body) = rest.split_at(split);
            (header.to_vec(), body.get(1..).unwrap_or_default().to_vec())
        }
        _ => {
            let signature = sign(SECRETS[0].1, rest).into_bytes();
            let mut body = rest.to_vec();
            match body.last_mut() {
                Some(last) => *last ^= 1 | (mode & 0x80),
                None => body.push(mode),
            }
            (signature, body)
        }
    };
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(&signature) {
        headers.insert("x-hub-signature", value);
    }
    if mode & 0x40 != 0 {
        headers.insert(
            "x-atlassian-webhook-identifier",
            HeaderValue::from_static("d-1"),
        );
    }
    let signed_by: Vec<String> = (SECRETS.iter())
        .filter(|(id, secret)| {
            let one = verifier(Keyring::new([Key::new(*id, *secret)]));
            one.verify(&headers, &body, 0).is_ok()
        })
        .map(|(id, _)| id.to_string())
        .collect();
    let answer = jira_webhook(&SECRETS, &headers, &body);
    match &answer {
        JiraWebhook::BadSignature => assert!(signed_by.is_empty(), "{signed_by:?} signed it"),
        JiraWebhook::Malformed => assert!(!signed_by.is_empty(), "unsigned but parsed"),
        JiraWebhook::Accepted {
            verified,
            delivery_id,
        } => {
            assert_eq!(verified, &signed_by);
            // Accepted bodies are UTF-8 JSON objects. (Not "parses as a
            // Value": JSON numbers have no range, serde_json's Value refuses 1e666.)
            let text = std::str::from_utf8(&body).expect("an accepted body is UTF-8");
            assert!(text.trim_start().starts_with('{'), "not an object");
            assert_eq!(delivery_id.is_some(), mode & 0x40 != 0, "Jira's id header");
        }
    }
    match mode % 3 {
        0 => assert_ne!(answer, JiraWebhook::BadSignature, "the right signature"),
        2 => assert_eq!(answer, JiraWebhook::BadSignature, "a changed body"),
        _ => {}
    }
});
