//! Dead letters across crashes: the service killed between a dead-letter
//! write and the commit of its offset (fail points in runtime/dlq/claims.rs)
//! and restarted still leaves one dead letter per poison record.

use std::io::Read;
use std::process::Child;
use std::time::Duration;

use case_event_handler::runtime::dlq::headers;
use case_event_handler::store::Store;

use super::{ceh, count, sigterm, wait_exit};
use crate::helpers::*;

/// Runs the timeline flavor until it aborts at `fail_point`; returns its stderr.
fn run_until_abort(topic: &str, group: &str, db: &str, fail_point: &str) -> String {
    let mut child: Child = ceh(topic, group, db)
        .env("CEH_FAIL_POINT", fail_point)
        .args(["run", "--flavor", "timeline"])
        .spawn()
        .expect("spawn the service");
    let code = wait_exit(&mut child, Duration::from_secs(90));
    let mut err = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err);
    assert_ne!(code, 0, "the run aborted at {fail_point}: {err}");
    err
}

#[tokio::test]
async fn a_crash_between_dead_letter_and_commit_writes_no_second_dead_letter() {
    let (topic, group) = (unique("it-dlq-crash"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(61, 3, 4);
    let mut poison = Vec::new();
    for (i, chunk) in events.chunks(4).enumerate() {
        publish(&topic, chunk).await;
        publish_raw(&topic, &format!("poison-{i}"), b"\xff\x00 not an event").await;
        poison.push(end_offsets(&topic, 1)[&0] - 1);
    }
    let db = fresh_pg().await;

    // 1: killed after the first dead letter is acknowledged, before it is marked.
    let err = run_until_abort(&topic, &group, &db, "dlq.after-write");
    assert!(err.contains("fail point dlq.after-write"), "{err}");
    // 2: the restart finds that dead letter in the DLQ; killed after marking it.
    let err = run_until_abort(&topic, &group, &db, "dlq.after-mark");
    assert!(err.contains("fail point dlq.after-mark"), "{err}");
    // 3: runs to the end.
    let mut child = ceh(&topic, &group, &db)
        .args(["run", "--flavor", "timeline"])
        .spawn()
        .expect("spawn the service");
    eventually("all committed", Duration::from_secs(90), || {
        committed(&group, &topic, 1) == end_offsets(&topic, 1)
    })
    .await;
    sigterm(&child);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(30)), 0);

    let dead = read_all(&format!("{topic}.dlq.timeline")).await;
    let mut offsets: Vec<i64> = (dead.iter())
        .map(|r| {
            let text = std::str::from_utf8(r.header(headers::OFFSET).unwrap()).unwrap();
            text.parse().unwrap()
        })
        .collect();
    offsets.sort_unstable();
    assert_eq!(offsets, poison, "one dead letter per poison record");
    assert!((dead.iter()).all(|r| r.header(headers::REASON) == Some(&b"invalid"[..])));
    let store = Store::connect(&db, 1).await.expect("store");
    let written = "SELECT COUNT(*) FROM dead_letter_claims WHERE state = 'written'";
    assert_eq!(count(&store, written).await, poison.len() as i64);
    let cells = "SELECT COUNT(*) FROM timeline_cells";
    assert!(
        count(&store, cells).await > 0,
        "the valid events were handled"
    );
}
