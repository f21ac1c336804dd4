//! Unit tests of the webhook: signatures, comparable values, payloads.

use super::payload::{self, comparable, Comment, Issue, Item};
use super::*;

#[test]
fn signatures_verify_only_with_the_right_secret_and_body() {
    let body = br#"{"webhookEvent":"jira:issue_updated"}"#;
    let sig = sign(b"s3cret", body);
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
    assert!(verify(b"s3cret", body, Some(&sig)));
    assert!(!verify(b"other", body, Some(&sig)));
    assert!(!verify(b"s3cret", b"{}", Some(&sig)));
    assert!(!verify(b"s3cret", body, None));
    assert!(!verify(
        b"s3cret",
        body,
        Some(sig.trim_start_matches("sha256="))
    ));
    assert!(!verify(b"s3cret", body, Some("sha256=zz")));
    let mut tampered = sig.clone();
    tampered.replace_range(10..11, if &sig[10..11] == "0" { "1" } else { "0" });
    assert!(!verify(b"s3cret", body, Some(&tampered)));
}

#[test]
fn status_compares_by_category_and_assignee_by_account() {
    let issue: Issue = serde_json::from_value(json!({
        "id": "1", "key": "OPS-1",
        "fields": {"status": {"name": "Done", "statusCategory": {"key": "done"}}}
    }))
    .unwrap();
    let item: Item = serde_json::from_value(json!({
        "field": "status", "fieldId": "status", "to": "10002", "toString": "Done"
    }))
    .unwrap();
    assert_eq!(comparable("status", &item, &issue, "duedate"), "done");
    let item: Item = serde_json::from_value(json!({
        "field": "assignee", "to": "acc-1", "toString": "Ann"
    }))
    .unwrap();
    assert_eq!(comparable("assignee", &item, &issue, "duedate"), "acc-1");
}

#[test]
fn comment_bodies_read_as_text_from_wiki_strings_and_adf() {
    let wiki: Comment =
        serde_json::from_value(json!({"id": "1", "body": "Looks *fixed*"})).unwrap();
    assert_eq!(wiki.text(), "Looks *fixed*");
    let adf: Comment = serde_json::from_value(json!({"id": "2", "body": {
    "type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "First"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "second "}, {"type": "text", "text": "line"}]}
    ]}}))
    .unwrap();
    assert_eq!(adf.text(), "First\nsecond line");
}

#[test]
fn jira_times_read_in_its_own_and_rfc_3339_forms() {
    let ms = payload::jira_time("2026-12-05T07:00:00.250+0000").unwrap();
    assert_eq!(
        ms,
        payload::jira_time("2026-12-05T08:00:00.250+01:00").unwrap()
    );
    assert_eq!(ms % 1000, 250);
    assert_eq!(payload::jira_time("yesterday"), None);
    let issue: Issue = serde_json::from_value(json!({
        "id": "1", "fields": {"updated": "2026-12-05T07:00:00.250+0000"}
    }))
    .unwrap();
    assert_eq!(issue.updated_ms(), Some(ms));
    let edited: Comment = serde_json::from_value(json!({"id": "3",
        "created": "2026-12-05T06:00:00.000+0000", "updated": "2026-12-05T07:00:00.250+0000"}))
    .unwrap();
    assert_eq!(edited.updated_ms(), Some(ms));
}

#[test]
fn accept_checks_every_secret_before_parsing_the_body() {
    let secrets = [("a", &b"secret-a"[..]), ("b", &b"secret-b"[..])];
    let headers = |sig: &str, id: Option<&str>| {
        let mut h = HeaderMap::new();
        h.insert("x-hub-signature", sig.parse().unwrap());
        if let Some(id) = id {
            h.insert("x-atlassian-webhook-identifier", id.parse().unwrap());
        }
        h
    };
    let body = br#"{"webhookEvent":"jira:issue_deleted","issue":{"id":"1"}}"#;
    let signed = headers(&sign(b"secret-b", body), Some("d-7"));
    let accepted = accept(secrets, &signed, body).unwrap();
    assert_eq!(accepted.verified, ["b"]);
    assert_eq!(accepted.delivery_id, "d-7");
    assert_eq!(accepted.delivery.webhook_event, "jira:issue_deleted");

    let without_id = headers(&sign(b"secret-a", body), None);
    let accepted = accept(secrets, &without_id, body).unwrap();
    assert_eq!(accepted.verified, ["a"]);
    assert_eq!(accepted.delivery_id, hex::encode(Sha256::digest(body)));

    let unsigned = headers(&sign(b"other", body), None);
    let refused = accept(secrets, &unsigned, body);
    assert!(matches!(refused, Err(WebhookError::BadSignature)));
    // The body is not looked at before the signature holds.
    let refused = accept(secrets, &unsigned, b"not json");
    assert!(matches!(refused, Err(WebhookError::BadSignature)));
    let garbage = headers(&sign(b"secret-a", b"not json"), None);
    let refused = accept(secrets, &garbage, b"not json");
    assert!(matches!(refused, Err(WebhookError::Malformed(_))));
    // Found by the fuzzer: bytes that are not UTF-8 in a field the delivery
    // skips were accepted (fuzz/artifacts/jira_webhook/crash-e8506e26…).
    let bad_utf8 = b"{\"webhookEvent\":\"jira:issue_deleted\",\"user\":{\"x\":\"\xc1\xd4\"}}";
    let signed = headers(&sign(b"secret-a", bad_utf8), None);
    match accept(secrets, &signed, bad_utf8) {
        Err(WebhookError::Malformed(why)) => assert!(why.contains("not UTF-8"), "{why}"),
        other => panic!("accepted a body that is not UTF-8: {:?}", other.is_ok()),
    }
    // Also found by the fuzzer: an array filled the delivery struct.
    let array = b"[]\t\r\n";
    let signed = headers(&sign(b"secret-a", array), None);
    match accept(secrets, &signed, array) {
        Err(WebhookError::Malformed(why)) => assert!(why.contains("not a JSON object"), "{why}"),
        other => panic!("accepted an array: {:?}", other.is_ok()),
    }
}
