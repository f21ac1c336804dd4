//! Broker restarts: the service keeps running through a broker that goes
//! away and comes back (data kept), and loses nor doubles anything. Each test
//! runs its own broker (scripts/services.sh with a private state directory
//! and port), so stopping it disturbs no other test.

use std::process::Command;
use std::time::{Duration, Instant};

use case_event_handler::store::Store;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::FutureProducer;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::{count, expected_cells, ledger_ids, sigterm, wait_exit};
use crate::helpers::*;

/// A Kafka broker of this test's own, stopped (data kept) on drop.
struct PrivateBroker {
    state: tempfile::TempDir,
    port: u16,
}

impl PrivateBroker {
    /// Starts on two free ports below the ephemeral range (so that no
    /// outgoing connection takes them meanwhile), trying new ports if a
    /// bind still fails.
    fn start() -> Self {
        let mut last = String::new();
        for _ in 0..5 {
            let state = tempfile::Builder::new()
                .prefix("ceh-broker-")
                .tempdir()
                .expect("tempdir");
            let broker = Self {
                state,
                port: free_port_pair(),
            };
            match broker.try_services(&["up", "kafka"]) {
                Ok(()) => return broker,
                Err(err) if err.contains("Address already in use") => last = err,
                Err(err) => panic!("services.sh up kafka: {err}"),
            }
        }
        panic!("no free ports for a private broker: {last}");
    }

    fn services(&self, args: &[&str]) {
        if let Err(err) = self.try_services(args) {
            panic!("services.sh {args:?}: {err}");
        }
    }

    fn try_services(&self, args: &[&str]) -> Result<(), String> {
        let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/services.sh"))
            .args(args)
            .env("DEVINFRA_STATE", self.state.path())
            .env("KAFKA_PORT", self.port.to_string())
            .output()
            .expect("run scripts/services.sh");
        match out.status.success() {
            true => Ok(()),
            false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        }
    }

    fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", self.bootstrap());
        config
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        let _ = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/services.sh"))
            .args(["down", "kafka"])
            .env("DEVINFRA_STATE", self.state.path())
            .env("KAFKA_PORT", self.port.to_string())
            .output();
    }
}

/// A free port whose successor is free too (the controller's), below the
/// ephemeral range that outgoing connections draw from.
fn free_port_pair() -> u16 {
    use rand::Rng;
    let mut rng = rand::rng();
    for _ in 0..200 {
        let port: u16 = rng.random_range(20_000..30_000);
        let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 1) {
            return port;
        }
    }
    panic!("no two free ports in a row below 30000");
}

async fn publish_on(
    broker: &PrivateBroker,
    topic: &str,
    events: &[case_event_handler::event::CaseEvent],
) {
    let producer: FutureProducer = broker
        .client()
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()
        .expect("producer");
    let stream = events.iter().cloned().map(Ok);
    case_event_handler::cli::produce::publish(&producer, topic, stream, 0)
        .await
        .expect("publish");
}

/// Committed offsets of `group` summed, and the topic's end offsets summed.
fn progress(broker: &PrivateBroker, group: &str, topic: &str, partitions: i32) -> (i64, i64) {
    let consumer: BaseConsumer = broker
        .client()
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let committed = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .ok();
    let committed: i64 = (committed.iter())
        .flat_map(|t| t.elements())
        .map(|e| match e.offset() {
            Offset::Offset(o) => o,
            _ => 0,
        })
        .sum();
    let ends: i64 = (0..partitions)
        .filter_map(|p| {
            consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .ok()
        })
        .map(|(_, high)| high)
        .sum();
    (committed, ends)
}

async fn create_topic_on(broker: &PrivateBroker, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = broker.client().create().expect("admin");
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for r in admin
        .create_topics([&topic], &opts)
        .await
        .expect("create_topics")
    {
        r.expect("topic created");
    }
}

/// Where the services of a test on `topic` log: a file, not a pipe (a broker
/// outage is loud, and an unread pipe would block the service), kept for a
/// failure to be read.
fn service_log(topic: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{topic}.log"))
}

/// The timeline service on the private broker, its stderr appended to
/// [`service_log`].
fn spawn_on(broker: &PrivateBroker, topic: &str, group: &str, db: &str) -> std::process::Child {
    let log = (std::fs::OpenOptions::new().create(true).append(true))
        .open(service_log(topic))
        .expect("the service's log file");
    super::ceh(topic, group, db)
        .args(["--set", &format!("kafka.brokers={}", broker.bootstrap())])
        .args(["run", "--flavor", "timeline"])
        .stderr(log)
        .spawn()
        .expect("spawn the service")
}

async fn wait_ledger(store: &Store, at_least: i64) {
    let start = Instant::now();
    loop {
        let n = count(store, "SELECT COUNT(*) FROM processed_events").await;
        if n >= at_least {
            eprintln!("{n} events in the ledger after {:?}", start.elapsed());
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no progress: {n} of {at_least} events in the ledger after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the group committed every record; the services stay up.
async fn caught_up(
    broker: &PrivateBroker,
    (group, topic): (&str, &str),
    total: usize,
    services: &mut [std::process::Child],
) {
    let start = Instant::now();
    loop {
        let (committed, ends) = progress(broker, group, topic, 4);
        if ends == total as i64 && committed == ends {
            eprintln!("caught up after {:?}", start.elapsed());
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "not caught up after the restart: committed {committed} of {ends} after 120 s (log: {})",
            service_log(topic).display()
        );
        for child in services.iter_mut() {
            assert!(
                child.try_wait().expect("try_wait").is_none(),
                "a service exited (log: {})",
                service_log(topic).display()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every event exactly once in the ledger and the timeline.
async fn exactly_once(store: &Store, events: &[case_event_handler::event::CaseEvent]) {
    let ids = ledger_ids(store).await;
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    let n = events.len();
    assert_eq!((ids.len(), unique.len()), (n, n), "each event once");
    let cells = count(store, "SELECT COUNT(*) FROM timeline_cells").await;
    assert_eq!(
        cells,
        expected_cells(events),
        "nothing lost, nothing doubled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_stopped_for_20_s_mid_run_and_restarted_loses_and_doubles_nothing() {
    let broker = PrivateBroker::start();
    let (topic, group) = (unique("it-restart"), unique("g"));
    create_topic_on(&broker, &topic, 4).await;
    let events = synth(61, 300, 10);
    let (first, second) = events.split_at(2_000);
    publish_on(&broker, &topic, first).await;
    let db = fresh_pg().await;
    let store = Store::connect(&db, 2).await.expect("store");
    let mut child = spawn_on(&broker, &topic, &group, &db);
    wait_ledger(&store, 500).await;
    broker.services(&["stop", "kafka"]);
    tokio::time::sleep(Duration::from_secs(20)).await;
    let alive = child.try_wait().expect("try_wait").is_none();
    assert!(alive, "the service died with the broker");
    broker.services(&["start", "kafka"]);
    publish_on(&broker, &topic, second).await;
    let services = std::slice::from_mut(&mut child);
    caught_up(&broker, (&group, &topic), events.len(), services).await;
    sigterm(&child);
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(30)),
        0,
        "a clean stop"
    );
    exactly_once(&store, &events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restarted_during_a_rebalance_loses_and_doubles_nothing() {
    let broker = PrivateBroker::start();
    let (topic, group) = (unique("it-restart-rb"), unique("g"));
    create_topic_on(&broker, &topic, 4).await;
    let events = synth(62, 300, 10);
    publish_on(&broker, &topic, &events).await;
    let db = fresh_pg().await;
    let store = Store::connect(&db, 4).await.expect("store");
    let first = spawn_on(&broker, &topic, &group, &db);
    wait_ledger(&store, 300).await;
    // A second member joins (a rebalance starts), and the broker goes away.
    let second = spawn_on(&broker, &topic, &group, &db);
    tokio::time::sleep(Duration::from_millis(500)).await;
    broker.services(&["restart", "kafka"]);
    let mut services = [first, second];
    caught_up(&broker, (&group, &topic), events.len(), &mut services).await;
    for child in &services {
        sigterm(child);
    }
    for child in &mut services {
        assert_eq!(wait_exit(child, Duration::from_secs(30)), 0, "a clean stop");
    }
    exactly_once(&store, &events).await;
}
