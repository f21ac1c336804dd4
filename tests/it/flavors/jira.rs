//! jira end to end: the real broker, runtime and PostgreSQL against the fake
//! Jira; every request the client sends is checked against the vendor spec
//! and every ADF body against the ADF schema.

mod faults;
mod inbound;
mod reload;
mod support;

use std::time::Duration;

use case_event_handler::event::pb::{self, OriginChannel, Priority, StatusGroup};
use case_event_handler::event::{decode, Payload};
use case_event_handler::flavors::jira::markdown_to_adf;
use proptest::prelude::*;
use serde_json::json;

use crate::helpers::*;
use support::*;

/// How many requests of `method` on a path ending in `suffix` the fake saw.
/// The kit intent row of a case's Jira issue (`$1`: the case id).
const CASE_LINK: &str =
    "flavor = 'jira' AND kind = 'case' AND target = 'issue' AND entity_key = $1";

fn count(h: &Harness, method: &str, suffix: &str) -> usize {
    (h.fake.requests().iter())
        .filter(|r| r.method == method && r.path.split('?').next().unwrap().ends_with(suffix))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_case_lifecycle_makes_one_issue_with_fields_transitions_and_comments() {
    let h = Harness::start(30_000).await;
    let mut case = CaseStream::new("Disk full");
    let created = case.created();
    let retitled = case.retitled("Disk full on db-1");
    let comment = case.next(
        Payload::CaseCommentAdded(pb::CaseCommentAdded {
            cell_id: "cm-1".into(),
            author_id: "u-ann".into(),
            markdown: "Looking at **disk** usage, see [graph](https://g.test/1)".into(),
            ..Default::default()
        }),
        |_| {},
    );
    let mut events = vec![
        created,
        retitled.clone(),
        case.prioritized(Priority::P1),
        case.next(
            Payload::CaseAssigned(pb::CaseAssigned {
                to: "u-ann".into(),
                ..Default::default()
            }),
            |s| s.assignee_id = Some("u-ann".into()),
        ),
        comment.clone(),
        case.status("Closed", StatusGroup::Closed),
        case.status("Open", StatusGroup::Open),
    ];
    // Redeliveries of two events (same event ids) change nothing.
    events.extend([retitled, comment]);
    publish(&h.topic, &events).await;
    h.fake.rate_limit_next(1); // the create meets a 429 first
    h.fake.refuse_next_transitions(1); // the close meets a 400 first
    let p = h.pipeline(config(5));
    h.drained(Duration::from_secs(60)).await;
    let summary = p.stop().await.expect("clean stop");
    assert!(summary.dead_lettered.is_empty(), "{summary:?}");

    let issues = h.fake.issues();
    assert_eq!(issues.len(), 1, "exactly one issue: {issues:#?}");
    let issue = &issues[0];
    let f = &issue.fields;
    assert_eq!(f["summary"], "Disk full on db-1");
    assert_eq!(f["priority"], json!({"name": "Highest"}));
    assert_eq!(f["assignee"], json!({"accountId": "acc-ann"}));
    assert_eq!(f["description"]["type"], "doc");
    let labels = f["labels"].as_array().unwrap();
    assert!(
        labels.contains(&json!(format!("case-{}", case.id))),
        "{labels:?}"
    );
    assert!(labels.contains(&json!("teams:sre_core")), "{labels:?}");
    assert_eq!(issue.properties["caseLink"]["caseId"], json!(case.id));
    // Closed → Done (31, after one refused POST and a refresh), reopened → To Do (41).
    assert_eq!(issue.history, ["31", "41"]);
    assert_eq!(issue.status, "To Do");
    assert_eq!(issue.comments.len(), 1, "{:?}", issue.comments);
    assert_eq!(issue.comments[0].properties[0]["value"]["cellId"], "cm-1");
    let creates: Vec<u16> = (h.fake.requests().iter())
        .filter(|r| r.method == "POST" && r.path == "/rest/api/3/issue")
        .map(|r| r.status)
        .collect();
    assert_eq!(creates, [429, 201], "one 429, then one create");
    assert_eq!(
        count(&h, "GET", "/transitions"),
        3,
        "close twice (refresh), reopen once"
    );
    h.assert_contract();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_lost_create_answers_and_crashes_never_make_a_second_issue() {
    let h = Harness::start(20_000).await;
    h.fake.set_search_lag(Duration::from_millis(1500));
    let pool = h.store.pool();
    // A: Jira creates the issue but the answer is lost (504): the retry must
    // wait for search to see it rather than create again.
    let mut lost = CaseStream::new("Lost answer");
    h.fake.lose_next_create_answers(1);
    // B: a process created the issue and crashed before writing the link.
    let mut crashed = CaseStream::new("Crashed");
    let seeded = h.fake.seed_issue(json!({
        "summary": "Crashed", "labels": [format!("case-{}", crashed.id)],
    }));
    // C: a stale intent whose create never reached Jira: created after the window.
    let mut expired = CaseStream::new("Expired intent");
    for (case, age_ms) in [(&crashed, 0), (&expired, 60_000)] {
        sqlx::query(
            "INSERT INTO intents (flavor, kind, entity_key, target, state, case_id, project_id, \
             case_key, org_id, attempts, intent_at, lease_until, updated_at) \
             VALUES ('jira', 'case', $1, 'issue', 'claimed', $1, $2, $3, 'org-1', 1, $4, 0, $4)",
        )
        .bind(&case.id)
        .bind(PROJECT)
        .bind(&case.snapshot.key)
        .bind(chrono::Utc::now().timestamp_millis() - age_ms)
        .execute(pool)
        .await
        .unwrap();
    }
    let first = [lost.created(), crashed.created(), expired.created()];
    publish(&h.topic, &first).await;
    publish(&h.topic, &first).await; // and every event twice
    let p = h.pipeline(config(30));
    h.drained(Duration::from_secs(90)).await;

    let issues = h.fake.issues();
    assert_eq!(issues.len(), 3, "one issue per case: {issues:#?}");
    assert_eq!(
        count(&h, "POST", "/issue"),
        2,
        "A once (answer lost), C once; B never"
    );
    for case in [&lost, &crashed, &expired] {
        let label = json!(format!("case-{}", case.id));
        let mine: Vec<_> = (issues.iter())
            .filter(|i| i.fields["labels"].as_array().unwrap().contains(&label))
            .collect();
        assert_eq!(mine.len(), 1, "{}", case.snapshot.title);
        let (state, issue_id): (String, Option<String>) = sqlx::query_as(&format!(
            "SELECT state, ext_id FROM intents WHERE {CASE_LINK}"
        ))
        .bind(&case.id)
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(
            (state.as_str(), issue_id.as_deref()),
            ("linked", Some(mine[0].id.as_str()))
        );
    }
    let adopted = issues.iter().find(|i| i.id == seeded.id).unwrap();
    assert_eq!(
        adopted.fields["priority"],
        json!({"name": "Medium"}),
        "adopted issue synced"
    );

    // The adopted issue is deleted in Jira: the next write marks the link stale.
    h.fake.delete_issue(&seeded.id);
    publish(&h.topic, &[crashed.retitled("Crashed, again")]).await;
    h.drained(Duration::from_secs(30)).await;
    let summary = p.stop().await.expect("clean stop");
    assert!(summary.dead_lettered.is_empty(), "{summary:?}");
    let (stale,): (i64,) = sqlx::query_as(&format!("SELECT stale FROM intents WHERE {CASE_LINK}"))
        .bind(&crashed.id)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(stale, 1, "404 marks the link stale, without a dead letter");
    h.assert_contract();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_signed_webhook_produces_one_change_and_nothing_echoes_back() {
    let mut h = Harness::start(30_000).await;
    let url = h.serve_webhook().await;
    let mut case = CaseStream::new("Webhook case");
    publish(&h.topic, &[case.created()]).await;
    let p = h.pipeline(config(5));
    h.drained(Duration::from_secs(60)).await;
    let issue = h.fake.issues().pop().expect("issue created");
    let before = h.fake.requests().len();

    let item = json!({"field": "priority", "fieldtype": "jira", "fieldId": "priority",
        "from": "3", "fromString": "Medium", "to": "2", "toString": "High"});
    let body = issue_updated(&issue.id, &issue.key, "acc-human", item.clone());
    let results = [
        "produced",
        "duplicate",
        "ignored",
        "unsigned",
        "bad_signature",
        "malformed",
        "too_large",
    ];
    let before_counts = results.map(deliveries);
    // Unsigned and tampered deliveries change nothing.
    let (status, _) = deliver(&url, &body, &[]).await;
    assert_eq!(status, 401);
    let mut tampered = signed(&body, "wh-0");
    tampered[0].1 = case_event_handler::flavors::jira::webhook::sign(SECRET.as_bytes(), b"{}");
    assert_eq!(deliver(&url, &body, &tampered).await.0, 401);
    // The signed one produces one event; its redelivery is a duplicate.
    let (status, answer) = deliver(&url, &body, &signed(&body, "wh-1")).await;
    assert_eq!((status, &answer["events"]), (200, &json!(1)), "{answer}");
    let (status, answer) = deliver(&url, &body, &signed(&body, "wh-1")).await;
    assert_eq!((status, &answer["status"]), (200, &json!("duplicate")));
    // The integration's own change is ignored.
    let own = issue_updated(&issue.id, &issue.key, BOT, item);
    let (status, answer) = deliver(&url, &own, &signed(&own, "wh-2")).await;
    assert_eq!((status, &answer["status"]), (200, &json!("ignored")));
    // Malformed and oversized bodies.
    let junk = b"{not json";
    assert_eq!(deliver(&url, junk, &signed(junk, "wh-3")).await.0, 400);
    let huge = vec![b' '; 2 << 20];
    assert_eq!(deliver(&url, &huge, &signed(&huge, "wh-4")).await.0, 413);
    // The kit's route metric counted each (other tests may add more).
    let counted = results.map(deliveries);
    for (i, least) in [1.0; 7].into_iter().enumerate() {
        let delta = counted[i] - before_counts[i];
        assert!(delta >= least, "{}: {delta} deliveries counted", results[i]);
    }

    // What the case service does with the change: priority P2, origin JIRA.
    let mut echo = case.prioritized(Priority::P2);
    echo.origin.as_mut().unwrap().channel = OriginChannel::Jira as i32;
    // And the same value again from a user: equal to the last synced value.
    let same = case.prioritized(Priority::P2);
    publish(&h.topic, &[echo, same]).await;
    h.drained(Duration::from_secs(60)).await;
    p.stop().await.expect("clean stop");

    let changes: Vec<pb::ExternalTicketChanged> = (read_all(&h.topic).await.iter())
        .filter_map(|r| match decode(&r.payload).ok()?.payload? {
            Payload::ExternalTicketChanged(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    let c = &changes[0];
    assert_eq!(
        (c.field.as_str(), c.old.as_str(), c.new.as_str()),
        ("priority", "Medium", "High")
    );
    assert_eq!(
        (c.ext_id.as_str(), c.ext_event_id.as_str()),
        (issue.id.as_str(), "wh-1")
    );
    let after = h.fake.requests();
    assert_eq!(
        after.len(),
        before,
        "no echo to Jira: {:?}",
        &after[before..]
    );
    h.assert_contract();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_five_concurrent_copies_of_a_delivery_produce_one_event() {
    let mut h = Harness::start(30_000).await;
    let url = h.serve_webhook().await;
    let mut case = CaseStream::new("Concurrent webhook case");
    publish(&h.topic, &[case.created()]).await;
    let p = h.pipeline(config(5));
    h.drained(Duration::from_secs(60)).await;
    let issue = h.fake.issues().pop().expect("issue created");
    let item = json!({"field": "priority", "fieldtype": "jira", "fieldId": "priority",
        "from": "3", "fromString": "Medium", "to": "1", "toString": "Highest"});
    let body = issue_updated(&issue.id, &issue.key, "acc-human", item);
    let headers = signed(&body, "wh-concurrent");
    let copies = (0..5).map(|_| deliver(&url, &body, &headers));
    let answers = futures::future::join_all(copies).await;
    let count = |status: &str| {
        (answers.iter())
            .filter(|(_, a)| a["status"] == status)
            .count()
    };
    // A copy that finds the first one in flight answers 503 (Jira delivers
    // it again), never a 4xx nor a 200 that could lose the delivery.
    let (produced, duplicates, in_flight) =
        (count("produced"), count("duplicate"), count("in_flight"));
    assert_eq!((produced, duplicates + in_flight), (1, 4), "{answers:?}");
    for (status, answer) in &answers {
        let want = match answer["status"].as_str() {
            Some("in_flight") => 503,
            _ => 200,
        };
        assert_eq!(*status, want, "{answer}");
    }
    // Jira's next copy of each is a duplicate.
    for _ in 0..in_flight {
        let (status, answer) = deliver(&url, &body, &headers).await;
        assert_eq!((status, &answer["status"]), (200, &json!("duplicate")));
    }
    p.stop().await.expect("clean stop");
    let changes = (read_all(&h.topic).await.iter())
        .filter(|r| {
            matches!(
                decode(&r.payload).ok().and_then(|e| e.payload),
                Some(Payload::ExternalTicketChanged(_))
            )
        })
        .count();
    assert_eq!(changes, 1, "one event for one delivery");
}

#[test]
fn jira_adf_of_markdown_validates_against_the_adf_schema() {
    for md in [
        "",
        "plain",
        "**bold** *em* _em_ `code` [link](https://x.test)",
        "**bold with `code` and [link](https://x.test)**",
        "[**bold link**](https://x.test) and [`code link`](https://y.test)",
        "- one\n- **two**\n* three\n\npara\nnext line",
        "- \n-  \n* ",
        "**unclosed *nested _chars ` [x](",
        "snake_case_name and 2*3*4",
    ] {
        let doc = markdown_to_adf(md);
        assert_eq!(validate_adf(&doc), Ok(()), "{md:?} -> {doc}");
    }
    // The schema check bites: empty text and code combined with strong are invalid ADF.
    for bad in [
        json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": ""}]}]}),
        json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "x", "marks": [{"type": "code"}, {"type": "strong"}]}]}]}),
    ] {
        assert!(validate_adf(&bad).is_err(), "{bad}");
    }
    proptest!(ProptestConfig::with_cases(300), |(md in "[a-z *_`\\[\\]()\n:/.-]{0,60}")| {
        let doc = markdown_to_adf(&md);
        prop_assert_eq!(validate_adf(&doc), Ok(()), "{:?} -> {}", md, doc);
    });
}

/// `ceh_inbound_deliveries_total{flavor="jira",route,result}` now (0
/// before the first).
fn deliveries(result: &str) -> f64 {
    let text = case_event_handler::telemetry::metrics::render();
    let route = case_event_handler::flavors::jira::webhook::PATH;
    let labels = [("flavor", "jira"), ("route", route), ("result", result)];
    case_event_handler::telemetry::metrics::find(&text, "ceh_inbound_deliveries_total", &labels)
        .unwrap_or(0.0)
}
