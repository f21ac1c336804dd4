//! Test harness: real Kafka and PostgreSQL from the project's dev stack
//! (`make services`). A missing service fails the test; it never skips.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use case_event_handler::event::record_parts;
use case_event_handler::event::synth::{Synth, SynthSpec};
use case_event_handler::event::{CaseEvent, Event};
use case_event_handler::handler::{Ctx, HandleResp, Handler};
use case_event_handler::runtime::dlq::KafkaDlq;
use case_event_handler::runtime::policy::{RetryPolicy, RuntimeConfig};
use case_event_handler::runtime::{RunError, RunSummary, Runtime};
use case_event_handler::source::kafka::{start_group, KafkaSourceConfig};
use case_event_handler::source::range::{self, Lookup, Range};
use case_event_handler::source::record::{Record, Tp};
use case_event_handler::source::{channels, SourceControl};
use case_event_handler::store::Store;
use case_event_handler::{app, handler::Processor};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaResult;
use rdkafka::message::ToBytes;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The broker of the dev stack; panics (fails the test) when unset.
pub fn brokers() -> String {
    std::env::var("KAFKA_BROKERS").expect(
        "KAFKA_BROKERS is not set: start the dev stack with `make services` (tests never skip)",
    )
}

/// The PostgreSQL server URL of the dev stack; panics when unset.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").expect(
        "DATABASE_URL is not set: start the dev stack with `make services` (tests never skip)",
    )
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Creates a topic with `partitions` partitions and waits until it exists.
pub async fn create_topic(name: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .expect("admin client");
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics([&topic], &opts)
        .await
        .expect("create_topics");
    for r in results {
        r.expect("topic created");
    }
}

/// An idempotent producer on the dev broker.
pub fn producer() -> FutureProducer {
    let s = case_event_handler::settings::KafkaSettings {
        brokers: brokers(),
        ..Default::default()
    };
    app::kafka::producer(&s).expect("producer")
}

/// Publishes events with the production record contract.
pub async fn publish(topic: &str, events: &[CaseEvent]) {
    let p = producer();
    case_event_handler::cli::produce::publish(&p, topic, events.iter().cloned().map(Ok), 0)
        .await
        .expect("publish");
}

/// Publishes raw bytes with a key (for poison-pill tests).
pub async fn publish_raw(topic: &str, key: &str, value: &[u8]) {
    publish_raws(topic, [(key.to_string(), value.to_vec())]).await;
}

/// Publishes raw records in order through one producer (a producer per
/// record costs ~0.6 s to start and close).
pub async fn publish_raws(topic: &str, records: impl IntoIterator<Item = (String, Vec<u8>)>) {
    let p = producer();
    for (key, value) in records {
        send(&p, FutureRecord::to(topic).key(&key).payload(&value)).await;
    }
}

/// Publishes events to one partition, with the production record contract.
pub async fn publish_to(topic: &str, partition: i32, events: &[CaseEvent]) {
    let p = producer();
    for ev in events {
        let (key, value, headers) = record_parts(ev);
        let record = FutureRecord::to(topic)
            .partition(partition)
            .key(&key)
            .payload(&value)
            .headers(headers);
        send(&p, record).await;
    }
}

/// Sends one record and waits for the broker's ack (30 s at most).
pub async fn send<K, P>(p: &FutureProducer, record: FutureRecord<'_, K, P>)
where
    K: ToBytes + ?Sized,
    P: ToBytes + ?Sized,
{
    p.send(record, Duration::from_secs(30))
        .await
        .map_err(|(e, _)| e)
        .expect("publish");
}

/// A fresh PostgreSQL database for one test; returns its URL.
pub async fn fresh_pg() -> String {
    let server = database_url();
    let name = unique("ceh_t").replace('-', "_");
    // A plain connection: migrating the shared server database here would
    // pin it to this branch's migrations (another branch's run then fails
    // with a missing version).
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&server)
        .await
        .expect("PostgreSQL of the dev stack is reachable");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(b, _)| b)
        .to_string();
    format!("{base}/{name}")
}

/// A migrated SQLite store on file `name` of a fresh temporary directory,
/// which lives as long as the returned guard.
pub async fn sqlite_store(name: &str, connections: u32) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
    let store = Store::connect(&url, connections)
        .await
        .expect("sqlite store");
    (dir, store)
}

/// A fresh store on its own PostgreSQL database.
pub async fn pg_store() -> Store {
    Store::connect(&fresh_pg().await, 16).await.expect("store")
}

/// Calls `query` until it succeeds, retrying the broker's transient answers
/// (`NotCoordinator`, `CoordinatorLoadInProgress`, timeouts right after start …)
/// for up to 30 s; then fails the test with the last error.
fn with_broker_retry<T>(what: &str, mut query: impl FnMut() -> KafkaResult<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match query() {
            Ok(v) => return v,
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("{what}: transient broker answer, retrying: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("{what}: broker kept failing for 30 s: {e}"),
        }
    }
}

/// The committed offsets of a group for every partition of a topic (-1: none).
pub fn committed(group: &str, topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", group)
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let got = with_broker_retry("committed offsets", || {
        consumer.committed_offsets(tpl.clone(), Duration::from_secs(10))
    });
    got.elements()
        .iter()
        .map(|e| {
            (
                e.partition(),
                match e.offset() {
                    Offset::Offset(o) => o,
                    _ => -1,
                },
            )
        })
        .collect()
}

/// The end offsets (high watermarks) of every partition of a topic.
pub fn end_offsets(topic: &str, partitions: i32) -> BTreeMap<i32, i64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .expect("consumer");
    (0..partitions)
        .map(|p| {
            let (_, high) = with_broker_retry("watermarks", || {
                consumer.fetch_watermarks(topic, p, Duration::from_secs(10))
            });
            (p, high)
        })
        .collect()
}

/// Consumer properties for a test group.
pub fn group_props(group: &str) -> BTreeMap<String, String> {
    let mut props = BTreeMap::new();
    props.insert("bootstrap.servers".to_string(), brokers());
    props.insert("group.id".to_string(), group.to_string());
    props.insert("auto.commit.interval.ms".to_string(), "200".to_string());
    props.insert("session.timeout.ms".to_string(), "10000".to_string());
    props
}

/// A running in-process pipeline over a Kafka group.
pub struct Pipeline {
    pub shutdown: CancellationToken,
    pub task: JoinHandle<Result<RunSummary, RunError>>,
}

impl Pipeline {
    /// Stops the pipeline and returns its result.
    pub async fn stop(self) -> Result<RunSummary, RunError> {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .expect("pipeline stops within 60 s")
            .expect("pipeline task")
    }
}

/// Starts `processor` as flavor `flavor` on a Kafka group over `topic`.
pub fn spawn_pipeline(
    flavor: &'static str,
    processor: Processor,
    store: Option<Store>,
    topic: &str,
    config: RuntimeConfig,
    props: BTreeMap<String, String>,
) -> Pipeline {
    let parts = (flavor, processor, store);
    spawn_pipeline_with(parts, topic, config, props, |control| control)
}

/// [`spawn_pipeline`] with the source control wrapped by `wrap` (to watch
/// what the runtime asks of the source).
pub fn spawn_pipeline_with(
    (flavor, processor, store): (&'static str, Processor, Option<Store>),
    topic: &str,
    config: RuntimeConfig,
    props: BTreeMap<String, String>,
    wrap: impl FnOnce(Arc<dyn SourceControl>) -> Arc<dyn SourceControl>,
) -> Pipeline {
    let (tx, rx) = config.channels();
    let source = KafkaSourceConfig {
        properties: props,
        topics: vec![topic.to_string()],
        drain_timeout: config.drain_timeout,
    };
    let control = wrap(start_group(&source, tx).expect("kafka source"));
    let dlq = KafkaDlq::new(producer(), config.dlq.clone());
    // A registered flavor routes as its row says; a test handler takes all.
    let consumes = case_event_handler::flavors::find(flavor)
        .map(|spec| spec.consumes)
        .unwrap_or(case_event_handler::flavors::kit::Consumes::all());
    let runtime = Runtime {
        flavor,
        processor,
        consumes,
        store,
        dlq: Some(Arc::new(dlq)),
        config,
        progress: Default::default(),
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runtime.run(rx, control, shutdown.clone()));
    Pipeline { shutdown, task }
}

/// Per case: (aggregate_version, event_id) in arrival order.
pub type ByCase = HashMap<String, Vec<(u64, String)>>;

/// What the recording handler saw.
#[derive(Default, Clone)]
pub struct Recorded(pub Arc<Mutex<ByCase>>);

impl Recorded {
    pub fn total(&self) -> usize {
        self.0.lock().unwrap().values().map(Vec::len).sum()
    }

    /// Waits until `n` events were recorded (or fails after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.total() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {n} events recorded in {within:?}",
                self.total()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Records every event it sees, optionally sleeping first (to mix timings).
pub struct Recorder {
    pub seen: Recorded,
    pub delay: fn(&CaseEvent) -> Duration,
}

#[async_trait]
impl Handler for Recorder {
    async fn handle(&self, _: &Ctx, event: &Event) -> HandleResp {
        let d = (self.delay)(event);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
        self.seen
            .0
            .lock()
            .unwrap()
            .entry(event.case_id.clone())
            .or_default()
            .push((event.aggregate_version, event.event_id.clone()));
        HandleResp::Success
    }
}

/// The events as handlers get them: validated, one [`Event`] each.
pub fn validated(events: &[CaseEvent]) -> Vec<Event> {
    (events.iter())
        .map(|e| Event::new(e.clone()).expect("a valid event"))
        .collect()
}

/// No delay.
pub fn no_delay(_: &CaseEvent) -> Duration {
    Duration::ZERO
}

/// Every record of a topic, from the low to the high watermark at call time.
pub async fn read_all(topic: &str) -> Vec<Record> {
    let props: BTreeMap<String, String> = [("bootstrap.servers".to_string(), brokers())].into();
    let lookup = Lookup::new(&props).expect("lookup");
    let mut ranges = Vec::new();
    for p in lookup.partitions(topic).expect("partitions") {
        let tp = Tp::new(topic, p);
        let (low, high) = lookup.watermarks(&tp).expect("watermarks");
        ranges.push(Range {
            tp,
            start: low,
            end: high,
        });
    }
    let (tx, mut rx) = channels(1024);
    let _control = range::start(&props, ranges, None, tx).expect("range reader");
    let mut out = Vec::new();
    while let Some(chunk) = rx.next_chunk().await {
        out.extend(chunk);
    }
    out
}

/// A synthetic stream of `cases` × `per_case` events.
pub fn synth(seed: u64, cases: usize, per_case: usize) -> Vec<CaseEvent> {
    Synth::new(
        seed,
        SynthSpec {
            cases,
            events_per_case: per_case,
            ..SynthSpec::default()
        },
    )
    .collect()
}

/// Polls `check` until it holds, failing after `within`.
pub async fn eventually(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runtime limits for tests: fast retries, small windows.
pub fn test_config() -> RuntimeConfig {
    RuntimeConfig {
        max_in_flight: 64,
        retry: RetryPolicy {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(200),
            max_attempts: 3,
            ..RetryPolicy::default()
        },
        drain_timeout: Duration::from_secs(2),
        shutdown_grace: Duration::from_secs(10),
        ..RuntimeConfig::default()
    }
}
