//! The real binary against the real broker and PostgreSQL: crashes (kill -9),
//! graceful stops (SIGTERM), and replay.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use case_event_handler::event::EventType;
use case_event_handler::store::Store;
use rand::{Rng, SeedableRng};

use crate::helpers::*;

mod dead_letter_crash;
mod restart;

/// The binary with the ci environment pointed at this test's topic, group and database.
fn ceh(topic: &str, group: &str, db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_case-event-handler"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--env", "ci"])
        .args(["--set", &format!("kafka.brokers={}", brokers())])
        .args(["--set", &format!("kafka.topics=[{topic}]")])
        .args(["--set", &format!("kafka.group_id={group}")])
        .args(["--set", &format!("store.url={db}")])
        .args(["--set", "telemetry.log_level=warn"])
        .args(["--set", "kafka.session_timeout_ms=6000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn run_timeline(topic: &str, group: &str, db: &str) -> Child {
    ceh(topic, group, db)
        .args(["run", "--flavor", "timeline"])
        .spawn()
        .expect("spawn the service")
}

async fn ledger_ids(store: &Store) -> Vec<String> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT event_id FROM processed_events WHERE flavor = 'timeline'")
            .fetch_all(store.pool())
            .await
            .expect("ledger");
    rows.into_iter().map(|r| r.0).collect()
}

async fn count(store: &Store, sql: &str) -> i64 {
    let row: (i64,) = sqlx::query_as(sql)
        .fetch_one(store.pool())
        .await
        .expect(sql);
    row.0
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Waits for the child to exit within `within`; returns its exit code.
fn wait_exit(child: &mut Child, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("service did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Cells the timeline writes: comment edits and deletions update their comment's cell.
fn expected_cells(events: &[case_event_handler::event::CaseEvent]) -> i64 {
    events
        .iter()
        .filter(|e| {
            !matches!(
                e.payload_kind(),
                Some(EventType::CaseCommentEdited | EventType::CaseCommentDeleted)
            )
        })
        .count() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_points_loses_nothing_and_duplicates_nothing() {
    let (topic, group) = (unique("it-kill"), unique("g"));
    create_topic(&topic, 4).await;
    let events = synth(21, 2_500, 20);
    publish(&topic, &events).await;
    let db = fresh_pg().await;
    let store = Store::connect(&db, 2).await.expect("store");
    let seed: u64 = rand::rng().random();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    eprintln!("kill -9 schedule seed {seed}");
    let mut kills = 0;
    let started = Instant::now();
    loop {
        let before = ledger_ids(&store).await.len();
        let mut child = run_timeline(&topic, &group, &db);
        if before == events.len() || kills >= 5 {
            let deadline = Instant::now() + Duration::from_secs(300);
            while ledger_ids(&store).await.len() < events.len() {
                assert!(
                    Instant::now() < deadline,
                    "not done after 300 s: {} of {}",
                    ledger_ids(&store).await.len(),
                    events.len()
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            sigterm(&child);
            assert_eq!(wait_exit(&mut child, Duration::from_secs(30)), 0);
            break;
        }
        // Kill only once this process is mid-stream: it has handled something new.
        let store2 = store.clone();
        eventually_async(Duration::from_secs(60), || {
            let s = store2.clone();
            async move { ledger_ids(&s).await.len() > before }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(rng.random_range(100..1_500))).await;
        child.kill().expect("kill -9");
        let _ = child.wait();
        kills += 1;
        eprintln!(
            "kill {kills} after {:?}: {} events recorded",
            started.elapsed(),
            ledger_ids(&store).await.len()
        );
    }
    let ids = ledger_ids(&store).await;
    let unique_ids: HashSet<&String> = ids.iter().collect();
    let produced: HashSet<&String> = events.iter().map(|e| &e.event_id).collect();
    assert_eq!(ids.len(), unique_ids.len(), "an event id recorded twice");
    assert_eq!(
        unique_ids, produced,
        "recorded ids differ from produced ids"
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM timeline_cells").await,
        expected_cells(&events)
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(DISTINCT event_id) FROM timeline_cells"
        )
        .await,
        expected_cells(&events)
    );
    assert!(kills >= 1, "the process was never killed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_exits_0_within_the_grace_period_and_the_restart_loses_nothing() {
    let (topic, group) = (unique("it-term"), unique("g"));
    create_topic(&topic, 2).await;
    let events = synth(22, 500, 10);
    publish(&topic, &events).await;
    let db = fresh_pg().await;
    let store = Store::connect(&db, 2).await.expect("store");
    let mut child = run_timeline(&topic, &group, &db);
    eventually_async(Duration::from_secs(60), || async {
        !ledger_ids(&store).await.is_empty()
    })
    .await;
    let t = Instant::now();
    sigterm(&child);
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(15)),
        0,
        "graceful stop exits 0"
    );
    eprintln!("stopped {:?} after SIGTERM", t.elapsed());
    let first_run = ledger_ids(&store).await.len();
    let committed_first: i64 = committed(&group, &topic, 2)
        .values()
        .map(|o| (*o).max(0))
        .sum();
    assert!(
        committed_first <= first_run as i64,
        "committed past what was handled"
    );
    let mut child = run_timeline(&topic, &group, &db);
    eventually_async(Duration::from_secs(120), || async {
        ledger_ids(&store).await.len() == events.len()
    })
    .await;
    sigterm(&child);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(15)), 0);
    assert_eq!(committed(&group, &topic, 2), end_offsets(&topic, 2));
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM timeline_cells").await,
        expected_cells(&events)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_handles_exactly_the_range_and_commits_nothing() {
    let (topic, group) = (unique("it-replay"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(23, 10, 10);
    publish(&topic, &events).await;
    let db = fresh_pg().await;
    let out = ceh(&topic, &group, &db)
        .args([
            "replay",
            "--flavor",
            "timeline",
            "--topic",
            &topic,
            "--partition",
            "0",
            "--from-offset",
            "10",
            "--to-offset",
            "29",
        ])
        .output()
        .expect("replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::connect(&db, 2).await.expect("store");
    let got: HashSet<String> = ledger_ids(&store).await.into_iter().collect();
    let want: HashSet<String> = events[10..30].iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(got, want);
    assert_eq!(
        committed(&group, &topic, 1)[&0],
        -1,
        "the group has no committed offset"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("replay done: succeeded="),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_from_time_finds_the_first_record_at_or_after_it() {
    let (topic, group) = (unique("it-replay-t"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(24, 5, 8);
    publish(&topic, &events[..20]).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let from = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    publish(&topic, &events[20..]).await;
    let db = fresh_pg().await;
    let dry = ceh(&topic, &group, &db)
        .args([
            "replay",
            "--flavor",
            "timeline",
            "--topic",
            &topic,
            "--from-time",
            &from,
            "--dry-run",
        ])
        .output()
        .expect("dry run");
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        String::from_utf8_lossy(&dry.stderr).contains("offsets 20..40"),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let out = ceh(&topic, &group, &db)
        .args([
            "replay",
            "--flavor",
            "timeline",
            "--topic",
            &topic,
            "--from-time",
            &from,
        ])
        .output()
        .expect("replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::connect(&db, 2).await.expect("store");
    let got: HashSet<String> = ledger_ids(&store).await.into_iter().collect();
    let want: HashSet<String> = events[20..].iter().map(|e| e.event_id.clone()).collect();
    assert_eq!(got, want);
}

/// Polls an async condition until it holds.
async fn eventually_async<F, Fut>(within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "condition not met within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_inspected_and_redriven_after_the_fix() {
    let (topic, group) = (unique("it-redrive"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(25, 4, 5);
    publish(&topic, &events).await;
    let db = fresh_pg().await;
    let store = Store::connect(&db, 2).await.expect("store");
    // Break the flavor: its table is gone, so every write is a permanent error.
    sqlx::query("DROP TABLE timeline_cells")
        .execute(store.pool())
        .await
        .unwrap();
    let mut child = ceh(&topic, &group, &db)
        .args([
            "--set",
            "runtime.dlq.max_ratio=1.0",
            "run",
            "--flavor",
            "timeline",
        ])
        .spawn()
        .unwrap();
    eventually(
        "all dead-lettered and committed",
        Duration::from_secs(60),
        || committed(&group, &topic, 1)[&0] == 20,
    )
    .await;
    sigterm(&child);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(15)), 0);

    let inspect = ceh(&topic, &group, &db)
        .args(["dlq", "inspect", "--flavor", "timeline", "--topic", &topic])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    let report = String::from_utf8_lossy(&inspect.stdout);
    assert!(
        report.contains(&format!("{topic}.dlq.timeline")),
        "{report}"
    );
    assert!(
        report
            .lines()
            .any(|l| l.trim_start().starts_with("discarded") && l.trim_end().ends_with(" 20")),
        "{report}"
    );

    // Fix it, then redrive: every dead letter is handled, once.
    let ddl = include_str!("../../migrations/common/0002_timeline.sql");
    sqlx::raw_sql(ddl).execute(store.pool()).await.unwrap();
    let redrive = ceh(&topic, &group, &db)
        .args(["dlq", "redrive", "--flavor", "timeline", "--topic", &topic])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&redrive.stderr);
    assert!(redrive.status.success(), "{err}");
    assert!(err.contains("redrive done: succeeded=20"), "{err}");
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM timeline_cells").await,
        expected_cells(&events)
    );
    let again = ceh(&topic, &group, &db)
        .args(["dlq", "redrive", "--flavor", "timeline", "--topic", &topic])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("redriving 0 events"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
