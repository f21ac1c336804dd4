//! The project settings come from the rules: an edit of the project's
//! `integrations.jira` takes effect on the next event and delivery, without
//! a restart.

use std::time::Duration;

use case_event_handler::event::pb::Priority;
use case_event_handler::flavors::jira::webhook;
use serde_json::json;

use super::support::*;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_takes_a_rules_edit_of_its_project_without_a_restart() {
    let mut h = Harness::start(30_000).await;
    let url = h.serve_webhook().await;
    let mut case = CaseStream::new("Reloaded case");
    let p = h.pipeline(config(5));
    publish(&h.topic, &[case.created(), case.prioritized(Priority::P1)]).await;
    h.drained(Duration::from_secs(30)).await;
    let issue = h.fake.issues().pop().expect("issue created");
    assert_eq!(issue.fields["priority"], json!({"name": "Highest"}));

    // The edit: P1 is now "Blocker" in Jira, and the webhook has a new secret.
    let edited = rules_file(&h.fake.url, "{P1: Blocker, P2: High}").replace(
        "webhook_secret: jira-hook\n",
        "webhook_secret: jira-hook-2\n",
    );
    h.edit_rules(&edited);
    publish(
        &h.topic,
        &[
            case.prioritized(Priority::P2),
            case.prioritized(Priority::P1),
        ],
    )
    .await;
    h.drained(Duration::from_secs(30)).await;
    let issue = h.fake.issues().pop().expect("the same issue");
    assert_eq!(
        issue.fields["priority"],
        json!({"name": "Blocker"}),
        "the new mapping"
    );
    assert_eq!(h.fake.issues().len(), 1);

    // Deliveries verify with the project's secret in force.
    let body = issue_updated(&issue.id, &issue.key, BOT, json!({"field": "summary"}));
    let (status, _) = deliver(&url, &body, &signed(&body, "wh-old")).await;
    assert_eq!(status, 401, "the old secret no longer verifies");
    let mut headers = signed(&body, "wh-new");
    headers[0].1 = webhook::sign(SECRET_2.as_bytes(), &body);
    let (status, answer) = deliver(&url, &body, &headers).await;
    assert_eq!(
        (status, &answer["status"]),
        (200, &json!("ignored")),
        "{answer}"
    );
    p.stop().await.expect("clean stop");
}
