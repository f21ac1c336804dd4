//! Unit tests of the webhook: signatures, comparable values, payloads.

use super::payload::{self, comparable, Comment, Issue, Item};
use super::*;
use crate::event::Payload;

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

/// When the issue (and the comment) last changed in Jira, in the deliveries below.
const UPDATED: &str = "2025-12-05T07:10:00.250+0000";
/// When Jira sent the deliveries below (ms): a little after `UPDATED`.
const SENT_MS: i64 = 1_764_918_601_000;

/// The project of the deliveries below: priority syncs both ways (default).
fn project_cfg() -> crate::flavors::jira::ProjectConfig {
    let yaml = "
projects:
  p1:
    site_url: https://acme.atlassian.net
    auth: {kind: bearer, token: t}
    project_key: OPS
    account_id: acc-bot
    webhook_secret: s3cret
    priorities: {P1: Highest, P2: High}
";
    let mut c: crate::flavors::jira::JiraConfig = serde_yaml::from_str(yaml).unwrap();
    c.projects.remove("p1").unwrap()
}

/// The case side of issue 10001's link: case SEC-7.
fn link() -> crate::flavors::kit::intent::Subject {
    crate::flavors::kit::intent::Subject {
        case_id: "c-7".into(),
        project_id: "p1".into(),
        case_key: "SEC-7".into(),
        org_id: "o1".into(),
    }
}

/// A delivery as Jira sends it, signed, through `accept`.
fn delivered(extra: Value) -> Delivery {
    let mut body = json!({
        "timestamp": SENT_MS,
        "user": {"accountId": "acc-human", "displayName": "Hu Man"},
        "issue": {"id": "10001", "key": "OPS-1", "fields": {"updated": UPDATED}},
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let body = serde_json::to_vec(&body).unwrap();
    let mut headers = HeaderMap::new();
    let sig = sign(b"s3cret", &body);
    headers.insert("x-hub-signature", sig.parse().unwrap());
    let secrets = [("p1", &b"s3cret"[..])];
    accept(secrets, &headers, &body).unwrap().delivery
}

/// Every event the webhook builds, one per kind of delivery it handles (a
/// field change, a comment, a deleted issue), along the handler's own path
/// minus its IO (the link row, the marks, the broker).
pub(crate) fn built_events() -> Vec<CaseEvent> {
    let (cfg, link) = (project_cfg(), link());
    let updated = delivered(json!({"webhookEvent": "jira:issue_updated",
        "changelog": {"items": [{"field": "priority", "fieldtype": "jira",
            "fieldId": "priority", "from": "3", "fromString": "Medium",
            "to": "1", "toString": "Highest"}]}}));
    let commented = delivered(json!({"webhookEvent": "comment_updated",
        "comment": {"id": "900", "body": "Seen in prod",
            "author": {"accountId": "acc-human"}, "updateAuthor": {"accountId": "acc-human"},
            "created": "2025-12-05T06:00:00.000+0000", "updated": UPDATED}}));
    let deleted = delivered(json!({"webhookEvent": "jira:issue_deleted"}));
    fn issue(d: &Delivery) -> &Issue {
        d.issue.as_ref().unwrap()
    }
    let mut out = Vec::new();
    let changes = changes::changelog_changes(&updated, issue(&updated), &cfg);
    assert_eq!(changes.len(), 1, "{changes:?}");
    for (change, _) in &changes {
        let by = updated.user.as_ref();
        out.push(changes::event(
            &link,
            issue(&updated),
            &updated,
            "wh-1",
            change,
            by,
        ));
    }
    let comment = commented.comment.as_ref().unwrap();
    let change = changes::comment_change(comment, issue(&commented), &commented);
    let by = comment.editor();
    out.push(changes::event(
        &link,
        issue(&commented),
        &commented,
        "wh-2",
        &change,
        by,
    ));
    let change = changes::deleted_change(issue(&deleted), &deleted);
    let by = deleted.user.as_ref();
    out.push(changes::event(
        &link,
        issue(&deleted),
        &deleted,
        "wh-3",
        &change,
        by,
    ));
    out
}

#[test]
fn a_jira_change_carries_jiras_time_in_ext_version_not_as_aggregate_version() {
    let updated_ms = payload::jira_time(UPDATED).unwrap();
    let events = built_events();
    let [field, comment, deleted] = &events[..] else {
        panic!("three events: {events:?}")
    };
    for (event, ext_version) in [
        (field, updated_ms),
        (comment, updated_ms),
        (deleted, SENT_MS),
    ] {
        let Some(Payload::ExternalTicketChanged(p)) = &event.payload else {
            panic!("external_ticket.changed: {event:?}")
        };
        assert_eq!(p.ext_version, ext_version, "{}: Jira's time", p.field);
        assert_eq!(
            event.aggregate_version,
            changes::UNKNOWN_CASE_VERSION,
            "{}: no case version is at hand, and Jira's time is not one",
            p.field
        );
        assert_eq!(event.occurred_at.unwrap().seconds, SENT_MS / 1000);
        crate::event::validate(event).unwrap();
    }
}
