//! Inbound webhooks beyond field changes: comments, a deleted issue, and
//! deliveries arriving out of order (Jira retries up to ~30 minutes late).

use std::time::Duration;

use case_event_handler::event::pb::{self, Priority};
use case_event_handler::event::{decode, CaseEvent, Payload};
use serde_json::{json, Value};

use super::support::*;
use crate::helpers::*;

/// Every `external_ticket.changed` on the topic, with its envelope.
async fn changes(topic: &str) -> Vec<(CaseEvent, pb::ExternalTicketChanged)> {
    (read_all(topic).await.iter())
        .filter_map(|r| {
            let ev = decode(&r.payload).ok()?;
            match ev.payload.clone()? {
                Payload::ExternalTicketChanged(c) => Some((ev, c)),
                _ => None,
            }
        })
        .collect()
}

fn body(event: &str, issue_id: &str, key: &str, extra: Value) -> Vec<u8> {
    let mut body = json!({
        "timestamp": chrono::Utc::now().timestamp_millis(),
        "webhookEvent": event,
        "user": {"accountId": "acc-human", "displayName": "Hu Man"},
        "issue": {"id": issue_id, "key": key, "fields": {
            "updated": "2026-12-05T07:00:00.000+0000"
        }},
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    serde_json::to_vec(&body).unwrap()
}

fn comment(id: &str, by: &str, text: &str, updated: &str) -> Value {
    json!({"comment": {"id": id, "body": text,
        "author": {"accountId": by, "displayName": "Hu Man"},
        "updateAuthor": {"accountId": by, "displayName": "Hu Man"},
        "created": "2026-12-05T06:00:00.000+0000", "updated": updated}})
}

fn priority_change(issue_id: &str, key: &str, updated: &str, to: (&str, &str)) -> Vec<u8> {
    let item = json!({"field": "priority", "fieldtype": "jira", "fieldId": "priority",
        "from": "3", "fromString": "Medium", "to": to.0, "toString": to.1});
    let mut b: Value =
        serde_json::from_slice(&issue_updated(issue_id, key, "acc-human", item)).unwrap();
    b["issue"]["fields"]["updated"] = updated.into();
    serde_json::to_vec(&b).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_inbound_comments_deletion_and_late_deliveries() {
    let mut h = Harness::start(30_000).await;
    let url = h.serve_webhook().await;
    let mut case = CaseStream::new("Inbound case");
    publish(&h.topic, &[case.created()]).await;
    let p = h.pipeline(config(5));
    h.drained(Duration::from_secs(60)).await;
    let issue = h.fake.issues().pop().expect("issue created");
    let (id, key) = (issue.id.as_str(), issue.key.as_str());
    let post = |body: Vec<u8>, delivery: &'static str| {
        let url = url.clone();
        async move { deliver(&url, &body, &signed(&body, delivery)).await }
    };

    // A comment written in Jira, then edited; the integration's own is ignored.
    let t1 = "2026-12-05T07:01:00.000+0000";
    let written = body(
        "comment_created",
        id,
        key,
        comment("900", "acc-human", "Seen in prod", t1),
    );
    assert_eq!(post(written, "wh-c1").await.1["events"], 1);
    let t2 = "2026-12-05T07:02:00.000+0000";
    let edited = body(
        "comment_updated",
        id,
        key,
        comment("900", "acc-human", "Seen in prod too", t2),
    );
    assert_eq!(post(edited, "wh-c2").await.1["events"], 1);
    let own = body(
        "comment_created",
        id,
        key,
        comment("901", BOT, "synced", t2),
    );
    assert_eq!(post(own, "wh-c3").await.1["status"], "ignored");
    // The first edit's copy delivered late: older than the edit applied.
    let late = body(
        "comment_updated",
        id,
        key,
        comment("900", "acc-human", "Seen", t1),
    );
    let (status, answer) = post(late, "wh-c4").await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ignored")),
        "{answer}"
    );

    // Field changes out of order: the newer (P1 at 07:10) first, then an
    // older one (P2 at 07:05): only the newer is published.
    let newer = priority_change(id, key, "2026-12-05T07:10:00.000+0000", ("1", "Highest"));
    assert_eq!(post(newer, "wh-p1").await.1["events"], 1);
    let older = priority_change(id, key, "2026-12-05T07:05:00.000+0000", ("2", "High"));
    let (_, answer) = post(older, "wh-p2").await;
    assert_eq!(answer["status"], "ignored", "{answer}");

    // The issue is deleted: one event, the link goes stale, outbound skips.
    let deleted = body("jira:issue_deleted", id, key, json!({}));
    assert_eq!(post(deleted, "wh-d1").await.1["events"], 1);
    let before = h.fake.requests().len();
    publish(&h.topic, &[case.prioritized(Priority::P3)]).await;
    h.drained(Duration::from_secs(60)).await;
    p.stop().await.expect("clean stop");
    assert_eq!(
        h.fake.requests().len(),
        before,
        "no write to a deleted issue"
    );

    let seen = changes(&h.topic).await;
    let by_field = |f: &str| {
        seen.iter()
            .filter(|(_, c)| c.field == f)
            .collect::<Vec<_>>()
    };
    let comments = by_field("comment");
    assert_eq!(comments.len(), 2, "{seen:?}");
    assert!(comments.iter().all(|(_, c)| c.ext_item_id == "900"));
    assert_eq!(comments[1].1.new, "Seen in prod too");
    assert!(comments[0].1.ext_version < comments[1].1.ext_version);
    let priorities = by_field("priority");
    assert_eq!(priorities.len(), 1, "{priorities:?}");
    assert_eq!(priorities[0].1.new, "Highest");
    // Jira's `updated` is the payload's ext_version; the envelope's
    // aggregate_version is a case version, which the webhook does not know.
    let ms = chrono::DateTime::parse_from_rfc3339("2026-12-05T07:10:00Z").unwrap();
    assert_eq!(priorities[0].1.ext_version, ms.timestamp_millis());
    assert!(
        seen.iter().all(|(e, _)| e.aggregate_version == 0),
        "{seen:?}"
    );
    let gone = by_field("issue");
    assert_eq!((gone.len(), gone[0].1.new.as_str()), (1, "deleted"));
}
