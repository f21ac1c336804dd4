//! One replica, a rebalance to a second, a kill -9 of the first: every
//! expected firing exactly once.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use case_event_handler::store::Store;

use super::seed::{assert_exactly_once, seed};
use super::{fired_count, prepared, replica, wait_fired, CHILD, SHORT_LEASE};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_timers_fire_once_each_on_one_replica() {
    let (store, topic, group) = prepared("timers-one").await;
    let seeded = seed(&store, &topic).await;
    assert!(seeded.expected.len() > 1_500, "{}", seeded.expected.len());
    let a = replica("a", (&store, &topic, &group), SHORT_LEASE);
    wait_fired(&store, seeded.expected.len(), Duration::from_secs(40)).await;
    let per_replica = assert_exactly_once(&store, &seeded).await;
    assert_eq!(
        per_replica.get("a").copied(),
        Some(seeded.expected.len() as i64)
    );
    a.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_once_each_across_a_rebalance_to_a_second_replica() {
    let (store, topic, group) = prepared("timers-rebalance").await;
    let seeded = seed(&store, &topic).await;
    // Claims outlive the test: the partitions a gives up reach b only if a
    // gives their queued claims back at the revoke.
    let long = Duration::from_secs(300);
    let a = replica("a", (&store, &topic, &group), long);
    wait_fired(&store, 400, Duration::from_secs(30)).await;
    let b = replica("b", (&store, &topic, &group), long);
    wait_fired(&store, seeded.expected.len(), Duration::from_secs(45)).await;
    let per_replica = assert_exactly_once(&store, &seeded).await;
    assert!(
        per_replica.get("b").copied().unwrap_or(0) > 0,
        "the second replica took partitions over mid-run: {per_replica:?}"
    );
    b.stop().await.expect("clean stop");
    a.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_once_each_across_a_kill_9() {
    let (store, topic, group) = prepared("timers-kill").await;
    let seeded = seed(&store, &topic).await;
    let db = store_url(&store).await;
    let mut child = spawn_child(&topic, &group, &db);
    wait_fired(&store, 400, Duration::from_secs(30)).await;
    child.kill().expect("kill -9 the replica");
    child.wait().expect("reaped");
    let fired_by_child = fired_count(&store).await;
    assert!(fired_by_child >= 400, "{fired_by_child}");
    let b = replica("b", (&store, &topic, &group), SHORT_LEASE);
    wait_fired(&store, seeded.expected.len(), Duration::from_secs(50)).await;
    let per_replica = assert_exactly_once(&store, &seeded).await;
    assert!(
        per_replica.get("b").copied().unwrap_or(0) > 0,
        "{per_replica:?}"
    );
    b.stop().await.expect("clean stop");
}

/// The test's database URL (the child connects to the same one).
async fn store_url(store: &Store) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let server = database_url();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

/// This test binary again, running only `replica_child` as a replica.
fn spawn_child(topic: &str, group: &str, db: &str) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "timer_firing::replicas::replica_child",
            "--exact",
            "--ignored",
        ])
        .env(CHILD, format!("{topic}|{group}|{db}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the replica")
}

/// Not a test of its own: the replica `timers_fire_once_each_across_a_kill_9`
/// starts as a child process and kills with SIGKILL. It runs until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a child process of timers_fire_once_each_across_a_kill_9"]
async fn replica_child() {
    let spec = std::env::var(CHILD).expect("run by timers_fire_once_each_across_a_kill_9 only");
    let [topic, group, db]: [&str; 3] = spec
        .split('|')
        .collect::<Vec<_>>()
        .try_into()
        .expect("topic|group|db");
    let store = Store::connect(db, 16).await.expect("store");
    let _replica = replica("child", (&store, topic, group), SHORT_LEASE);
    std::future::pending::<()>().await;
}
