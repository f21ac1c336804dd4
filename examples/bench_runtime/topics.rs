//! Topics for the scenarios: recreated empty, filled with keyed events.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use case_event_handler::app;
use case_event_handler::event::synth::{Synth, SynthSpec};
use case_event_handler::settings::Settings;

/// Deletes `name` if it exists and creates it with `partitions`, then waits
/// until every partition has a leader.
pub async fn recreate(brokers: &str, name: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let _ = admin.delete_topics(&[name], &opts).await?;
    let probe: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    // The controller answers the deletion before a busy broker has applied
    // it: a producer that starts then is acknowledged into the old topic and
    // loses those records when the broker catches up (82,204 of 1,000,000 in
    // one run after a restart that kept data). Create only once the broker
    // itself no longer serves the name.
    while still_served(&probe, name)? {
        anyhow::ensure!(
            Instant::now() < deadline,
            "topic {name}: the broker still serves it 60 s after its deletion"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    loop {
        let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
        let result = admin.create_topics([&topic], &opts).await?;
        match result.into_iter().next() {
            Some(Ok(_)) => break,
            // Deletion is asynchronous: the name may still be taken for a moment.
            Some(Err((_, code))) if Instant::now() < deadline => {
                eprintln!("create {name}: {code}; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => anyhow::bail!("create {name}: {other:?}"),
        }
    }
    loop {
        let md = probe.fetch_metadata(Some(name), Duration::from_secs(5))?;
        let ready = md.topics().iter().any(|t| {
            t.error().is_none()
                && t.partitions().len() == partitions as usize
                && t.partitions().iter().all(|p| p.leader() >= 0)
        });
        if ready {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "topic {name} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("topic {name}: {partitions} partitions");
    Ok(())
}

/// Whether the broker's metadata still lists `name` with its partitions.
fn still_served(probe: &BaseConsumer, name: &str) -> anyhow::Result<bool> {
    let md = probe.fetch_metadata(Some(name), Duration::from_secs(5))?;
    Ok(md
        .topics()
        .iter()
        .any(|t| t.error().is_none() && !t.partitions().is_empty()))
}

/// Publishes `events` synthetic events over `keys` keys, versions in order.
pub async fn produce_keyed(
    settings: &Settings,
    topic: &str,
    events: usize,
    keys: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let spec = SynthSpec {
        cases: events.div_ceil(20),
        events_per_case: 20,
        ..SynthSpec::default()
    };
    let keys = keys.max(1);
    let stream = Synth::new(seed, spec)
        .take(events)
        .enumerate()
        .map(move |(i, mut ev)| {
            ev.case_id = format!("key-{:05}", i % keys);
            ev.aggregate_version = i as u64 + 1;
            Ok(ev)
        });
    let producer = app::kafka::producer(&settings.kafka)?;
    let sent = case_event_handler::cli::produce::publish(&producer, topic, stream, 0).await?;
    anyhow::ensure!(sent == events as u64, "published {sent} of {events}");
    Ok(())
}

/// Publishes every event at `rate` per second (0 = as fast as possible), each
/// with `occurred_at` set to the wall clock just before it is sent (scenario
/// 9 measures delivery latency from it); returns how many were acknowledged.
pub async fn publish_stamped(
    producer: &rdkafka::producer::FutureProducer,
    topic: &str,
    events: impl Iterator<Item = case_event_handler::event::CaseEvent>,
    rate: u64,
) -> anyhow::Result<u64> {
    use futures::stream::{FuturesUnordered, StreamExt};
    use futures::FutureExt;
    let started = Instant::now();
    let mut pending = FuturesUnordered::new();
    let (mut queued, mut acked) = (0u64, 0u64);
    for mut ev in events {
        if rate > 0 {
            let due = started + Duration::from_secs_f64(queued as f64 / rate as f64);
            tokio::time::sleep_until(due.into()).await;
        }
        ev.occurred_at = Some(chrono::Utc::now().into());
        let (key, value, headers) = case_event_handler::event::record_parts(&ev);
        let record = rdkafka::producer::FutureRecord::to(topic)
            .key(&key)
            .payload(&value)
            .headers(headers);
        let delivery = producer
            .send_result(record)
            .map_err(|(err, _)| anyhow::anyhow!("enqueueing event {}: {err}", ev.event_id))?;
        pending.push(delivery);
        queued += 1;
        // Settle what is already acknowledged without waiting.
        while let Some(Some(done)) = pending.next().now_or_never() {
            acked += u64::from(matches!(done, Ok(Ok(_))));
        }
    }
    while let Some(done) = pending.next().await {
        acked += u64::from(matches!(done, Ok(Ok(_))));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!("produced {queued} stamped events in {secs:.1}s ({acked} acknowledged)");
    Ok(acked)
}
