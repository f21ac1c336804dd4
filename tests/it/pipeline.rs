//! The consumer pipeline end to end on the real broker.

use std::sync::Arc;
use std::time::Duration;

use case_event_handler::event::synth::{Synth, SynthSpec};
use case_event_handler::handler::Processor;
use case_event_handler::runtime::policy::RuntimeConfig;

use crate::helpers::*;

/// `produce` publishes 10,000 synthetic events for 500 cases; the real consumer
/// hands all of them to a recording handler in aggregate_version order per
/// case, and the group's committed offsets reach the topic's end offsets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_then_consume_all_in_case_order_and_commit_to_the_end() {
    let topic = unique("it-produce");
    let group = unique("g");
    create_topic(&topic, 4).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .args([
            "produce",
            "--synthetic",
            "--cases",
            "500",
            "--events-per-case",
            "20",
            "--topic",
            &topic,
        ])
        .args(["--set", &format!("kafka.brokers={}", brokers())])
        .output()
        .expect("run produce");
    assert!(
        out.status.success(),
        "produce failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let seen = Recorded::default();
    let handler = Recorder {
        seen: seen.clone(),
        delay: no_delay,
    };
    let store = pg_store().await;
    let config = RuntimeConfig {
        max_in_flight: 64,
        ..RuntimeConfig::default()
    };
    let pipeline = spawn_pipeline(
        "recorder",
        Processor::Single(Arc::new(handler)),
        Some(store),
        &topic,
        config,
        group_props(&group),
    );
    seen.wait_for(10_000, Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let summary = pipeline.stop().await.expect("clean stop");

    assert_eq!(summary.succeeded, 10_000, "{summary}");
    assert_eq!(seen.total(), 10_000);
    let cases = seen.0.lock().unwrap().clone();
    assert_eq!(cases.len(), 500);
    for (case, events) in &cases {
        let versions: Vec<u64> = events.iter().map(|(v, _)| *v).collect();
        let expected: Vec<u64> = (1..=20).collect();
        assert_eq!(versions, expected, "case {case} out of order");
    }
    assert_eq!(committed(&group, &topic, 4), end_offsets(&topic, 4));
}

/// The synthetic stream the tests rely on really is 500 × 20.
#[test]
fn synthetic_stream_has_the_requested_shape() {
    let events: Vec<_> = Synth::new(
        7,
        SynthSpec {
            cases: 500,
            events_per_case: 20,
            ..SynthSpec::default()
        },
    )
    .collect();
    assert_eq!(events.len(), 10_000);
}
