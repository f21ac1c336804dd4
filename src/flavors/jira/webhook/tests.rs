//! Unit tests of the webhook: signatures, comparable values, payloads.

use super::payload::{self, comparable, Comment, Issue, Item};
use serde_json::{json, Value};

use super::*;
use crate::event::{CaseEvent, Payload};
use crate::flavors::kit::inbound::{Key, Refusal, Verifier};

/// Jira's scheme as the kit verifies it, over these `(project, secret)`s.
fn verify(
    keys: &[(&str, &[u8])],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<String>, Refusal> {
    let keys = Keyring::new(keys.iter().map(|(id, secret)| Key::new(*id, *secret)));
    verifier(keys).verify(headers, body, 0).map(|v| v.signers)
}

fn signed(sig: &str, id: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-hub-signature", sig.parse().unwrap());
    if let Some(id) = id {
        h.insert("x-atlassian-webhook-identifier", id.parse().unwrap());
    }
    h
}

#[test]
fn signatures_verify_only_with_the_right_secret_and_body() {
    let body = br#"{"webhookEvent":"jira:issue_updated"}"#;
    let sig = sign(b"s3cret", body);
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
    let mine = [("p1", &b"s3cret"[..])];
    assert_eq!(verify(&mine, &signed(&sig, None), body).unwrap(), ["p1"]);
    assert!(verify(&[("p1", b"other")], &signed(&sig, None), body).is_err());
    assert!(verify(&mine, &signed(&sig, None), b"{}").is_err());
    assert!(matches!(
        verify(&mine, &HeaderMap::new(), body),
        Err(Refusal::Unsigned(_))
    ));
    let bare = signed(sig.trim_start_matches("sha256="), None);
    assert!(verify(&mine, &bare, body).is_err());
    assert!(verify(&mine, &signed("sha256=zz", None), body).is_err());
    let mut tampered = sig.clone();
    tampered.replace_range(10..11, if &sig[10..11] == "0" { "1" } else { "0" });
    assert!(verify(&mine, &signed(&tampered, None), body).is_err());
}

#[test]
fn every_project_secret_is_tried_and_the_body_is_parsed_only_as_an_object_of_utf8() {
    let secrets = [("a", &b"secret-a"[..]), ("b", &b"secret-b"[..])];
    let body = br#"{"webhookEvent":"jira:issue_deleted","issue":{"id":"1"}}"#;
    let by_b = signed(&sign(b"secret-b", body), Some("d-7"));
    assert_eq!(verify(&secrets, &by_b, body).unwrap(), ["b"]);
    assert_eq!(delivery_id(&by_b).as_deref(), Some("d-7"));
    assert_eq!(
        delivery_id(&signed("x", None)),
        None,
        "the kit hashes the body"
    );
    assert_eq!(parse(body).unwrap().webhook_event, "jira:issue_deleted");
    let unsigned = signed(&sign(b"other", body), None);
    assert!(matches!(
        verify(&secrets, &unsigned, body),
        Err(Refusal::BadSignature(_))
    ));
    assert!(matches!(
        parse(b"not json"),
        Err(InboundError::Malformed(_))
    ));
    // Found by the fuzzer: bytes that are not UTF-8 in a field the delivery
    // skips were accepted (fuzz/artifacts/jira_webhook/crash-e8506e26…).
    let bad_utf8 = b"{\"webhookEvent\":\"jira:issue_deleted\",\"user\":{\"x\":\"\xc1\xd4\"}}";
    match parse(bad_utf8) {
        Err(InboundError::Malformed(why)) => assert!(why.contains("not UTF-8"), "{why}"),
        other => panic!("accepted a body that is not UTF-8: {:?}", other.is_ok()),
    }
    // Also found by the fuzzer: an array filled the delivery struct.
    match parse(b"[]\t\r\n") {
        Err(InboundError::Malformed(why)) => assert!(why.contains("not a JSON object"), "{why}"),
        other => panic!("accepted an array: {:?}", other.is_ok()),
    }
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

/// When the issue (and the comment) last changed in Jira, in the deliveries below.
const UPDATED: &str = "2025-12-05T07:10:00.250+0000";
/// When Jira sent the deliveries below (ms): a little after `UPDATED`.
const SENT_MS: i64 = 1_764_918_601_000;

/// The project of the deliveries below: priority syncs both ways (default).
fn project_cfg() -> crate::flavors::jira::ProjectConfig {
    crate::flavors::jira::config::test_project("    priorities: {P1: Highest, P2: High}\n")
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

/// A delivery as Jira sends it, signed, verified and parsed.
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
    assert_eq!(
        verify(&[("p1", b"s3cret")], &headers, &body).unwrap(),
        ["p1"]
    );
    parse(&body).unwrap()
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
