//! The Kafka source reads on credit: it never pauses a partition for
//! backpressure, an idle partition's record is read promptly whatever the
//! others are doing, and a large backlog does not grow memory.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use case_event_handler::event::CaseEvent;
use case_event_handler::handler::Processor;
use case_event_handler::runtime::policy::RuntimeConfig;
use case_event_handler::source::record::{Tp, EVENT_TYPE};
use case_event_handler::source::SourceControl;
use rdkafka::producer::{BaseProducer, Producer};
use rdkafka::ClientConfig;

use crate::helpers::*;
use crate::telemetry::service::{ceh, until_committed, Service};

/// Delegates to the real source control and counts pause calls.
struct CountingControl {
    inner: Arc<dyn SourceControl>,
    pauses: AtomicUsize,
}

impl SourceControl for CountingControl {
    fn store(&self, marks: &[(Tp, i64)]) {
        self.inner.store(marks)
    }
    fn pause(&self, tps: &[Tp]) {
        self.pauses.fetch_add(tps.len(), AtomicOrdering::SeqCst);
        self.inner.pause(tps)
    }
    fn resume(&self, tps: &[Tp]) {
        self.inner.resume(tps)
    }
    fn assigned(&self) -> Vec<Tp> {
        self.inner.assigned()
    }
    fn close(&self) {
        self.inner.close()
    }
}

/// A pipeline like `spawn_pipeline`, whose source control counts pauses.
fn spawn_counting(
    processor: Processor,
    topic: &str,
    config: RuntimeConfig,
    group: &str,
) -> (Pipeline, Arc<CountingControl>) {
    let mut counting = None;
    let parts = ("credit", processor, None);
    let pipeline = spawn_pipeline_with(parts, topic, config, group_props(group), |inner| {
        let control = Arc::new(CountingControl {
            inner,
            pauses: AtomicUsize::new(0),
        });
        counting = Some(control.clone());
        control
    });
    (pipeline, counting.expect("the control was wrapped"))
}

fn slow(_: &CaseEvent) -> Duration {
    Duration::from_millis(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_runtime_never_pauses_a_partition_for_backpressure() {
    let (topic, group) = (unique("it-credit"), unique("g"));
    create_topic(&topic, 2).await;
    let events = synth(71, 100, 30);
    publish(&topic, &events).await;
    let mut config = test_config();
    config.max_in_flight = 4;
    config.buffer_records = 64;
    let seen = Recorded::default();
    let handler = Recorder {
        seen: seen.clone(),
        delay: slow,
    };
    let (p, control) = spawn_counting(Processor::Single(Arc::new(handler)), &topic, config, &group);
    seen.wait_for(events.len(), Duration::from_secs(120)).await;
    eventually("all committed", Duration::from_secs(30), || {
        committed(&group, &topic, 2) == end_offsets(&topic, 2)
    })
    .await;
    p.stop().await.expect("clean stop");
    assert_eq!(seen.total(), events.len(), "every event once");
    assert_eq!(
        control.pauses.load(AtomicOrdering::SeqCst),
        0,
        "the runtime was full for the whole run (64 buffered, 4 running) and never paused"
    );
}

/// Set once the idle partition's event is handled.
static PROBE_HANDLED: AtomicBool = AtomicBool::new(false);

/// The flood: 40 ms an event (4 at a time, 100 a second) until the idle
/// partition's event is handled, 1 ms after. A fair source serves that event
/// behind at most the buffer (100) and what is handled while it is published
/// and fetched: a few hundred, however loaded the machine. A source that
/// starves the idle partition serves it only once partition 0's backlog is
/// all read, ~4,000 events and 40 s later.
fn flood(_: &CaseEvent) -> Duration {
    match PROBE_HANDLED.load(AtomicOrdering::SeqCst) {
        false => Duration::from_millis(40),
        true => Duration::from_millis(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_partition_is_read_promptly_while_another_floods_and_after_a_quiet_spell() {
    let (topic, group) = (unique("it-idle"), unique("g"));
    create_topic(&topic, 2).await;
    let backlog = synth(72, 200, 20);
    publish_to(&topic, 0, &backlog).await;
    let mut config = test_config();
    config.max_in_flight = 4;
    config.buffer_records = 100;
    let seen = Recorded::default();
    let handler = Recorder {
        seen: seen.clone(),
        delay: flood,
    };
    let p = spawn_pipeline(
        "idle",
        Processor::Single(Arc::new(handler)),
        None,
        &topic,
        config,
        group_props(&group),
    );
    seen.wait_for(50, Duration::from_secs(60)).await;
    // Partition 0 still has thousands waiting; partition 1 gets one event.
    let probe = synth(73, 1, 1);
    publish_to(&topic, 1, &probe).await;
    let sent = Instant::now();
    let case = probe[0].case_id.clone();
    eventually(
        "the idle partition's event handled",
        Duration::from_secs(120),
        || seen.0.lock().unwrap().contains_key(&case),
    )
    .await;
    let during_flood = sent.elapsed();
    let handled = seen.total();
    PROBE_HANDLED.store(true, AtomicOrdering::SeqCst);
    assert!(
        handled < backlog.len() / 2,
        "partition 1 was served only after {handled} of the flood's {} events",
        backlog.len()
    );
    seen.wait_for(backlog.len() + 1, Duration::from_secs(120))
        .await;
    // Everything is idle now: the poll thread waits. One more event must wake it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let late = synth(74, 1, 1);
    publish_to(&topic, 1, &late).await;
    let sent = Instant::now();
    let case = late[0].case_id.clone();
    // The poll thread never waits more than 50 ms; at full speed this takes
    // well under a second. 10 s is room for a machine at a third of its
    // speed, and still catches a poll thread that sleeps through an idle spell.
    eventually(
        "an event after a quiet spell handled within 10 s",
        Duration::from_secs(10),
        || seen.0.lock().unwrap().contains_key(&case),
    )
    .await;
    eprintln!(
        "idle partition served in {during_flood:?} during the flood ({handled} handled), {:?} after quiet",
        sent.elapsed()
    );
    p.stop().await.expect("clean stop");
}

/// Peak resident memory (VmHWM) of a process, in MiB.
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb / 1024.0
}

/// Produces `n` small records that the timeline does not consume (project
/// events, routed on the header and never decoded).
fn produce_backlog(topic: &str, n: usize) {
    let p: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "500000")
        .set("compression.type", "lz4")
        .create()
        .expect("producer");
    let headers = rdkafka::message::OwnedHeaders::new().insert(rdkafka::message::Header {
        key: EVENT_TYPE,
        value: Some("project.settings_changed"),
    });
    let payload = [7u8; 64];
    let mut i = 0;
    while i < n {
        let key = format!("p{}", i % 64);
        let record = rdkafka::producer::BaseRecord::to(topic)
            .key(&key)
            .payload(&payload[..])
            .headers(headers.clone());
        match p.send(record) {
            Ok(()) => i += 1,
            Err((rdkafka::error::KafkaError::MessageProduction(_), _)) => {
                p.poll(Duration::from_millis(10));
            }
            Err((e, _)) => panic!("produce: {e}"),
        }
    }
    p.flush(Duration::from_secs(60)).expect("flush");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_record_backlog_keeps_memory_bounded() {
    const RECORDS: usize = 1_000_000;
    let (topic, group) = (unique("it-backlog"), unique("g"));
    create_topic(&topic, 2).await;
    let t = topic.clone();
    tokio::task::spawn_blocking(move || produce_backlog(&t, RECORDS))
        .await
        .expect("produce");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let mut cmd = ceh(&topic, &group, &db);
    let service = Service::spawn(cmd.args(["run", "--flavor", "timeline"]));
    let started = Instant::now();
    until_committed(&group, &topic, 2, Duration::from_secs(240)).await;
    let elapsed = started.elapsed();
    let peak = peak_rss_mib(service.child.id());
    let (code, log) = service.stop(Duration::from_secs(30));
    assert_eq!(code, 0, "{log}");
    eprintln!("1M-record backlog: consumed in {elapsed:?}, peak RSS {peak:.1} MiB");
    // librdkafka's prefetch (16 MiB) + the runtime's buffer (16 MiB) + the
    // process itself; 1M records held at once would be far past this.
    assert!(
        peak < 160.0,
        "peak RSS {peak:.1} MiB for a 1M-record backlog"
    );
}
