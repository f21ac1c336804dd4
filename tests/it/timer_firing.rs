//! Durable timers firing on real Kafka and PostgreSQL (Kit III-b): 2,000
//! timers over 4 partitions, some cancelled and some moved, fire exactly
//! once each, none for a cancelled or moved-from due time, with one replica,
//! across a kill -9 of the replica firing them, and across a rebalance to a
//! second replica mid-run. Each test has its own topic, group and database.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use case_event_handler::event::Event;
use case_event_handler::flavors::kit::timers::{
    cancel, firing_id, move_to, schedule, Firing, Schedule, SystemClock, Timer,
};
use case_event_handler::handler::{Ctx, HandleResp, Handler, Processor};
use case_event_handler::runtime::policy::{RuntimeConfig, TimerPolicy};
use case_event_handler::store::rows::{Planned, RowOp};
use case_event_handler::store::{Store, StoreError};

use crate::helpers::*;

const FLAVOR: &str = "timer_firing_it";
const PARTITIONS: i32 = 4;
const CASES: usize = 400;
const PER_CASE: usize = 5;
/// The env var that turns `replica_child` into a replica (topic|group|db).
const CHILD: &str = "CEH_TIMER_FIRING_CHILD";

/// Fires by writing its id into `fired_log` in the firing's transaction.
struct Firer {
    replica: &'static str,
}

#[async_trait]
impl Handler for Firer {
    async fn handle(&self, _: &Ctx, _: &Event) -> HandleResp {
        HandleResp::Success
    }

    async fn fire(&self, ctx: &Ctx, firing: &Firing) -> HandleResp {
        let mut tx = match ctx.begin_firing(firing).await {
            Ok(tx) => tx,
            Err(err) => return HandleResp::classify(Err(err.into())),
        };
        let insert = sqlx::query(
            "INSERT INTO fired_log (firing_id, case_key, timer_id, replica) VALUES ($1, $2, $3, $4)",
        )
        .bind(&firing.id)
        .bind(&firing.timer.case_key)
        .bind(&firing.timer.timer_id)
        .bind(self.replica)
        .execute(tx.conn())
        .await;
        if let Err(err) = insert {
            return HandleResp::classify(Err(StoreError::from(err).into()));
        }
        HandleResp::classify(ctx.commit(tx).await.map_err(Into::into))
    }
}

fn config() -> RuntimeConfig {
    RuntimeConfig {
        handler_timeout: Duration::from_secs(2),
        timers: Some(TimerPolicy {
            clock: Arc::new(SystemClock),
            poll_every: Duration::from_millis(100),
            batch: 200,
            lease: Duration::from_secs(3),
        }),
        ..test_config()
    }
}

fn replica(name: &'static str, store: &Store, topic: &str, group: &str) -> Pipeline {
    let firer = Processor::Single(Arc::new(Firer { replica: name }));
    let store = Some(store.clone());
    spawn_pipeline(FLAVOR, firer, store, topic, config(), group_props(group))
}

/// The id the firing of `(case, timer)` scheduled by `event_id` at `due_at`
/// must get, computed from the schedule, not read back.
fn expected_id(case_key: &str, timer_id: &str, event_id: &str, due_at: i64) -> String {
    firing_id(&Timer {
        flavor: FLAVOR.into(),
        case_key: case_key.into(),
        timer_id: timer_id.into(),
        due_at,
        event_id: event_id.into(),
        state: String::new(),
        topic: String::new(),
        partition: 0,
        correlation_id: String::new(),
        chain_depth: 0,
        payload: serde_json::Value::Null,
        version: 0,
        claimed_until: 0,
        fired_at: 0,
        attempts: 0,
        last_error: String::new(),
    })
}

/// What was scheduled: the ids that must fire, and the cancelled timers.
struct Seeded {
    expected: HashSet<String>,
    cancelled: Vec<(String, String)>,
}

/// Schedules 2,000 timers of 400 cases over the topic's 4 partitions, due
/// from 1 s ago over the next 6 s; cancels every 10th, moves every 7th
/// later, and for every 50th moves it (v3) and then cancels it with an
/// older version (v2), which must still cancel.
async fn seed(store: &Store, topic: &str) -> Seeded {
    let now = chrono::Utc::now().timestamp_millis();
    let mut first = Vec::new();
    let mut later: Vec<(String, Vec<RowOp>)> = Vec::new();
    let (mut expected, mut cancelled) = (HashSet::new(), Vec::new());
    let payload = serde_json::json!({ "kind": "nag" });
    for i in 0..CASES * PER_CASE {
        let (case_key, timer_id) = (
            format!("case-{}", i / PER_CASE),
            format!("t{}", i % PER_CASE),
        );
        let event_id = format!("ev-{case_key}-1");
        let due = now - 1_000 + 3 * i as i64;
        first.push(
            schedule(&Schedule {
                flavor: FLAVOR,
                case_key: &case_key,
                timer_id: &timer_id,
                due_at: due,
                topic,
                partition: ((i / PER_CASE) % PARTITIONS as usize) as i32,
                event_id: &event_id,
                correlation_id: "corr",
                chain_depth: 0,
                payload: &payload,
                version: 1,
            })
            .unwrap(),
        );
        let moved = due + 500;
        let ops = match i {
            i if i % 50 == 3 => vec![
                move_to(FLAVOR, &case_key, &timer_id, moved, 3).unwrap(),
                cancel(FLAVOR, &case_key, &timer_id, 2).unwrap(),
            ],
            i if i % 10 == 0 => vec![cancel(FLAVOR, &case_key, &timer_id, 2).unwrap()],
            i if i % 7 == 0 => vec![move_to(FLAVOR, &case_key, &timer_id, moved, 2).unwrap()],
            _ => Vec::new(),
        };
        match (i % 50 == 3 || i % 10 == 0, i % 7 == 0) {
            (true, _) => cancelled.push((case_key.clone(), timer_id.clone())),
            (false, true) => {
                expected.insert(expected_id(&case_key, &timer_id, &event_id, moved));
            }
            (false, false) => {
                expected.insert(expected_id(&case_key, &timer_id, &event_id, due));
            }
        }
        if !ops.is_empty() {
            later.push((format!("ev-{case_key}-{timer_id}-later"), ops));
        }
    }
    let plan = |event_id: String, ops| Planned { event_id, ops };
    store
        .apply_rows(FLAVOR, &[plan("seed".into(), first)])
        .await
        .unwrap();
    // One event each, in the order given: a move at v3 lands before the
    // cancel at v2 of the same timer.
    for (id, ops) in later {
        for (n, op) in ops.into_iter().enumerate() {
            let batch = [plan(format!("{id}-{n}"), vec![op])];
            store.apply_rows(FLAVOR, &batch).await.unwrap();
        }
    }
    Seeded {
        expected,
        cancelled,
    }
}

async fn prepared(prefix: &str) -> (Store, String, String) {
    let store = Store::connect(&fresh_pg().await, 16).await.expect("store");
    sqlx::query(
        "CREATE TABLE fired_log (firing_id TEXT NOT NULL, case_key TEXT NOT NULL, \
         timer_id TEXT NOT NULL, replica TEXT NOT NULL)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let topic = unique(prefix);
    create_topic(&topic, PARTITIONS).await;
    (store, topic.clone(), format!("{topic}-g"))
}

async fn fired_count(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM fired_log")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Waits until `n` firings are logged (at most `within`).
async fn wait_fired(store: &Store, n: usize, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let count = fired_count(store).await as usize;
        if count >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} of {n} timers fired within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every expected id fired exactly once, nothing else fired, cancelled
/// timers stayed cancelled; returns the firings per replica.
async fn assert_exactly_once(store: &Store, seeded: &Seeded) -> HashMap<String, i64> {
    // Late duplicates would arrive within a poll or two.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT firing_id, COUNT(*) FROM fired_log GROUP BY firing_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let twice: Vec<&(String, i64)> = rows.iter().filter(|(_, n)| *n != 1).collect();
    assert!(twice.is_empty(), "fired more than once: {twice:?}");
    let fired: HashSet<String> = rows.into_iter().map(|(id, _)| id).collect();
    let missing = seeded.expected.difference(&fired).count();
    let unexpected: Vec<&String> = fired.difference(&seeded.expected).collect();
    assert_eq!(missing, 0, "expected firings missing");
    assert!(unexpected.is_empty(), "unexpected firings: {unexpected:?}");
    for (case_key, timer_id) in &seeded.cancelled {
        let state: String =
            sqlx::query_scalar("SELECT state FROM timers WHERE case_key = $1 AND timer_id = $2")
                .bind(case_key)
                .bind(timer_id)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(state, "cancelled", "{case_key}/{timer_id}");
    }
    let per_replica: Vec<(String, i64)> =
        sqlx::query_as("SELECT replica, COUNT(*) FROM fired_log GROUP BY replica")
            .fetch_all(store.pool())
            .await
            .unwrap();
    per_replica.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_timers_fire_once_each_on_one_replica() {
    let (store, topic, group) = prepared("timers-one").await;
    let seeded = seed(&store, &topic).await;
    assert!(seeded.expected.len() > 1_500, "{}", seeded.expected.len());
    let a = replica("a", &store, &topic, &group);
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
    let a = replica("a", &store, &topic, &group);
    wait_fired(&store, 400, Duration::from_secs(30)).await;
    let b = replica("b", &store, &topic, &group);
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
    let b = replica("b", &store, &topic, &group);
    wait_fired(&store, seeded.expected.len(), Duration::from_secs(50)).await;
    let per_replica = assert_exactly_once(&store, &seeded).await;
    assert!(
        per_replica.get("child").copied().unwrap_or(0) >= fired_by_child,
        "{per_replica:?}"
    );
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
        .args(["timer_firing::replica_child", "--exact", "--ignored"])
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
    let _replica = replica("child", &store, topic, group);
    std::future::pending::<()>().await;
}

/// Records whether a firing ever ran while an event of its case did.
#[derive(Default)]
struct Overlaps {
    busy: std::sync::Mutex<HashSet<String>>,
    overlaps: std::sync::atomic::AtomicUsize,
    handled: std::sync::atomic::AtomicUsize,
    fired: std::sync::atomic::AtomicUsize,
}

struct LaneCheck(Arc<Overlaps>);

#[async_trait]
impl Handler for LaneCheck {
    async fn handle(&self, _: &Ctx, event: &Event) -> HandleResp {
        let (this, case) = (&self.0, event.case_id.clone());
        if !this.busy.lock().unwrap().insert(case.clone()) {
            this.overlaps
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
        this.busy.lock().unwrap().remove(&case);
        this.handled
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        HandleResp::Success
    }

    async fn fire(&self, ctx: &Ctx, firing: &Firing) -> HandleResp {
        let this = &self.0;
        if this.busy.lock().unwrap().contains(&firing.timer.case_key) {
            this.overlaps
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        let tx = match ctx.begin_firing(firing).await {
            Ok(tx) => tx,
            Err(err) => return HandleResp::classify(Err(err.into())),
        };
        let done = ctx.commit(tx).await;
        this.fired.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        HandleResp::classify(done.map_err(Into::into))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_never_runs_while_an_event_of_its_case_does() {
    let (store, topic, group) = prepared("timers-lane").await;
    // 60 events of one case, 40 ms each: its lane is busy for 2.4 s.
    let events = synth(7, 1, 60);
    let case_key = events[0].case_id.clone();
    publish_to(&topic, 0, &events).await;
    let seen = Arc::new(Overlaps::default());
    let handler = Processor::Single(Arc::new(LaneCheck(seen.clone())));
    let props = group_props(&group);
    let p = spawn_pipeline(
        FLAVOR,
        handler,
        Some(store.clone()),
        &topic,
        config(),
        props,
    );
    let count = |n: &std::sync::atomic::AtomicUsize| n.load(std::sync::atomic::Ordering::SeqCst);
    eventually("events under way", Duration::from_secs(30), || {
        count(&seen.handled) >= 2
    })
    .await;
    // 20 timers of that case come due while its events still run.
    let payload = serde_json::Value::Null;
    let now = chrono::Utc::now().timestamp_millis();
    let ops: Vec<RowOp> = (0..20)
        .map(|i| {
            let timer_id = format!("t{i}");
            schedule(&Schedule {
                flavor: FLAVOR,
                case_key: &case_key,
                timer_id: &timer_id,
                due_at: now + 40 * i,
                topic: &topic,
                partition: 0,
                event_id: "ev-lane",
                correlation_id: "",
                chain_depth: 0,
                payload: &payload,
                version: 1,
            })
            .unwrap()
        })
        .collect();
    let plan = Planned {
        event_id: "seed".into(),
        ops,
    };
    store.apply_rows(FLAVOR, &[plan]).await.unwrap();
    assert!(
        count(&seen.handled) < 50,
        "the timers came due while the lane was busy"
    );
    // They wait behind the events the lane already holds (first in, first out).
    eventually("20 firings", Duration::from_secs(30), || {
        count(&seen.fired) == 20
    })
    .await;
    let summary = p.stop().await.expect("clean stop");
    assert_eq!(summary.succeeded, 60, "{summary:?}");
    assert_eq!(
        count(&seen.overlaps),
        0,
        "a firing ran beside its case's event"
    );
}

/// Fails a firing's first attempt (transient), and every attempt of `bad`.
struct Flaky;

#[async_trait]
impl Handler for Flaky {
    async fn handle(&self, _: &Ctx, _: &Event) -> HandleResp {
        HandleResp::Success
    }

    async fn fire(&self, _: &Ctx, firing: &Firing) -> HandleResp {
        use case_event_handler::handler::HandlerError;
        match (firing.timer.timer_id.as_str(), firing.timer.attempts) {
            ("bad", _) => HandleResp::Discard(HandlerError::permanent("422 rejected")),
            (_, 0) => HandleResp::Retry(HandlerError::transient("503 unavailable")),
            _ => HandleResp::Success,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_firing_is_retried_after_its_backoff_and_a_rejected_one_ends_dead() {
    let (store, topic, group) = prepared("timers-retry").await;
    let payload = serde_json::Value::Null;
    let now = chrono::Utc::now().timestamp_millis();
    let ops = ["good", "bad"]
        .iter()
        .map(|timer_id| {
            schedule(&Schedule {
                flavor: FLAVOR,
                case_key: "case-1",
                timer_id,
                due_at: now,
                topic: &topic,
                partition: 1,
                event_id: "ev-retry",
                correlation_id: "",
                chain_depth: 0,
                payload: &payload,
                version: 1,
            })
            .unwrap()
        })
        .collect();
    let plan = Planned {
        event_id: "seed".into(),
        ops,
    };
    store.apply_rows(FLAVOR, &[plan]).await.unwrap();
    let props = group_props(&group);
    let flaky = Processor::Single(Arc::new(Flaky));
    let p = spawn_pipeline(FLAVOR, flaky, Some(store.clone()), &topic, config(), props);
    let row = |timer_id: &'static str| {
        let pool = store.pool().clone();
        async move {
            sqlx::query_as::<_, (String, i64, String)>(
                "SELECT state, attempts, last_error FROM timers WHERE timer_id = $1",
            )
            .bind(timer_id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while row("good").await.0 != "fired" || row("bad").await.0 != "dead" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            row("good").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        row("good").await,
        ("fired".into(), 1, "503 unavailable".into())
    );
    assert_eq!(row("bad").await, ("dead".into(), 1, "422 rejected".into()));
    p.stop().await.expect("clean stop");
}
