//! The jira flavor against the fake's failure modes: answers lost after the
//! write, Jira's 255-character summary rule, and a 429 that must slow every
//! request to Jira for the time it asks.

use std::time::Duration;

use case_event_handler::event::pb;
use case_event_handler::event::Payload;

use case_event_handler::flavors::jira::JIRA;

use super::support::*;
use crate::helpers::*;
use crate::limiter_log;

fn comment(case: &mut CaseStream, cell: &str, text: &str) -> case_event_handler::event::CaseEvent {
    let markdown = text.to_string();
    case.next(
        Payload::CaseCommentAdded(pb::CaseCommentAdded {
            cell_id: cell.into(),
            author_id: "u-ann".into(),
            markdown,
            ..Default::default()
        }),
        |_| {},
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_lost_comment_answers_never_post_a_comment_twice() {
    let h = Harness::start(30_000).await;
    let mut case = CaseStream::new("Lost answers");
    let mut events = vec![case.created()];
    for i in 0..4 {
        events.push(comment(&mut case, &format!("cm-{i}"), &format!("note {i}")));
    }
    publish(&h.topic, &events).await;
    h.fake.lose_next_comment_answers(3); // applied, then a 504
    let p = h.pipeline(config(6));
    h.drained(Duration::from_secs(90)).await;
    let summary = p.stop().await.expect("clean stop");
    assert!(summary.dead_lettered.is_empty(), "{summary:?}");
    let issues = h.fake.issues();
    assert_eq!(issues.len(), 1);
    let comments = &issues[0].comments;
    assert_eq!(
        comments.len(),
        4,
        "one comment per case comment: {comments:#?}"
    );
    let gets_with_properties = (h.fake.requests().iter())
        .filter(|r| {
            r.method == "GET" && r.path.contains("/comment") && r.path.contains("properties")
        })
        .count();
    assert_eq!(
        gets_with_properties, 0,
        "only the documented comment/list reads properties"
    );
    h.assert_contract();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_long_titles_are_cut_on_create_and_on_update_and_never_refused() {
    let h = Harness::start(30_000).await;
    let mut case = CaseStream::new(&"Disk full on db-1 ".repeat(20)); // 360 characters
    let created = case.created();
    let retitled = case.retitled(&"🔥 é".repeat(400)); // 1,200 characters, multi-byte
    publish(&h.topic, &[created, retitled]).await;
    let p = h.pipeline(config(3));
    h.drained(Duration::from_secs(60)).await;
    let summary = p.stop().await.expect("clean stop");
    assert!(summary.dead_lettered.is_empty(), "{summary:?}");
    let refused = h.fake.requests().iter().filter(|r| r.status == 400).count();
    assert_eq!(refused, 0, "Jira refused a summary");
    let issue = &h.fake.issues()[0];
    let summary = issue.fields["summary"].as_str().unwrap();
    assert_eq!(summary.encode_utf16().count(), 255, "{summary}");
    assert!(summary.starts_with("🔥 é") && summary.ends_with('…'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_a_429_holds_every_request_to_jira_for_the_time_asked() {
    limiter_log::install();
    let h = Harness::start(30_000).await;
    let mut events = Vec::new();
    for i in 0..6 {
        let mut case = CaseStream::new(&format!("Case {i}"));
        events.push(case.created());
        events.push(comment(&mut case, "cm-1", "first"));
        events.push(case.retitled(&format!("Case {i}, renamed")));
    }
    publish(&h.topic, &events).await;
    h.fake.rate_limit_endpoint("/comment", 1, 2); // one 429, Retry-After: 2
    let mut c = config(6);
    c.max_in_flight = 8;
    let p = h.pipeline(c);
    h.drained(Duration::from_secs(90)).await;
    p.stop().await.expect("clean stop");
    let requests = h.fake.requests();
    let limited = requests
        .iter()
        .find(|r| r.status == 429)
        .expect("the 429 was sent");
    // Whether a request started inside the hold is decided on the limiter's
    // own clock, not by when requests reached the fake: one admitted just
    // before the 429 came back may arrive late on a loaded machine.
    let log = limiter_log::of(JIRA.name);
    let hold = (log.hold_of_at_least(Duration::from_secs(2)))
        .unwrap_or_else(|| panic!("the 429 held Jira for its Retry-After: {log:?}"));
    assert_eq!(
        log.admitted_inside_a_hold(),
        Vec::<u64>::new(),
        "requests started during Retry-After ({log:?})"
    );
    assert!(log.admitted_since(hold.1) > 0, "requests went on after it");
    let after = (requests.iter()).filter(|r| r.at > limited.at).count();
    assert!(after > 0, "requests after the 429");
    assert_eq!(h.fake.issues().len(), 6, "everything synced after the hold");
}
