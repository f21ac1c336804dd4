//! Dead letters: exhausted retries, invalid records, the circuit that stops
//! a consumer from emptying its topic into the dead-letter topic.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use case_event_handler::handler::{HandleResp, HandlerError, Processor};
use case_event_handler::runtime::dlq::headers;
use case_event_handler::runtime::policy::OnExhausted;
use case_event_handler::runtime::RunError;

use super::Scripted;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_dead_letter_with_all_headers() {
    let (topic, group) = (unique("it-exhaust"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(13, 3, 2);
    publish(&topic, &events).await;
    static POISON: Mutex<String> = Mutex::new(String::new());
    *POISON.lock().unwrap() = events[1].event_id.clone();
    let (handler, attempts) = Scripted::new(|e, _| {
        if *POISON.lock().unwrap() == e.event_id {
            HandleResp::Retry(HandlerError::transient("downstream 503"))
        } else {
            HandleResp::Success
        }
    });
    let p = spawn_pipeline(
        "exhaust",
        Processor::Single(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        test_config(),
        group_props(&group),
    );
    let dlq = format!("{topic}.dlq.exhaust");
    eventually("all offsets committed", Duration::from_secs(60), || {
        committed(&group, &topic, 1)[&0] == events.len() as i64
    })
    .await;
    let summary = p.stop().await.expect("clean stop");
    assert_eq!(summary.dead_lettered("retries-exhausted"), 1, "{summary}");
    assert_eq!(attempts.lock().unwrap()[&events[1].event_id], vec![1, 2, 3]);
    let dead = read_all(&dlq).await;
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    let h = |k: &str| String::from_utf8(d.header(k).expect(k).to_vec()).unwrap();
    assert_eq!(h(headers::REASON), "retries-exhausted");
    assert_eq!(h(headers::TOPIC), topic);
    assert_eq!(h(headers::PARTITION), "0");
    assert_eq!(h(headers::OFFSET), "1");
    assert_eq!(h(headers::FLAVOR), "exhaust");
    assert_eq!(h(headers::ATTEMPTS), "3");
    assert!(h(headers::ERROR).contains("downstream 503"));
    assert!(!h(headers::TIMESTAMP).is_empty());
    assert_eq!(
        d.key.as_deref(),
        Some(events[1].case_id.as_bytes()),
        "original key kept"
    );
    assert_eq!(
        case_event_handler::event::decode(&d.payload).unwrap(),
        events[1],
        "original bytes kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_retries_under_crash_stop_uncommitted_and_the_restart_handles_it() {
    let (topic, group) = (unique("it-crash"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(14, 1, 4);
    publish(&topic, &events).await;
    let mut config = test_config();
    config.retry.on_exhausted = OnExhausted::Crash;
    let (failing, _) = Scripted::new(|e, _| {
        if e.aggregate_version == 3 {
            HandleResp::Retry(HandlerError::transient("db down"))
        } else {
            HandleResp::Success
        }
    });
    let store = pg_store().await;
    let p = spawn_pipeline(
        "crash",
        Processor::Single(Arc::new(failing)),
        Some(store.clone()),
        &topic,
        config.clone(),
        group_props(&group),
    );
    let err = tokio::time::timeout(Duration::from_secs(60), p.task)
        .await
        .expect("stops by itself")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, RunError::RetriesExhausted { offset: 2, .. }),
        "{err}"
    );
    assert_eq!(
        committed(&group, &topic, 1)[&0],
        2,
        "offset of the failed event stays uncommitted"
    );
    let (healed, attempts) = Scripted::new(|_, _| HandleResp::Success);
    let p = spawn_pipeline(
        "crash",
        Processor::Single(Arc::new(healed)),
        Some(store),
        &topic,
        config,
        group_props(&group),
    );
    eventually("restart finishes", Duration::from_secs(60), || {
        committed(&group, &topic, 1)[&0] == 4
    })
    .await;
    p.stop().await.expect("clean stop");
    let seen = attempts.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        2,
        "the restart handles exactly the two events from the failed one on: {seen:?}"
    );
    assert!(seen.contains_key(&events[2].event_id) && seen.contains_key(&events[3].event_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_truncated_protobuf_are_dead_lettered_as_invalid_and_the_rest_handled() {
    let (topic, group) = (unique("it-poison"), unique("g"));
    create_topic(&topic, 1).await;
    let events = synth(15, 2, 3);
    publish(&topic, &events[..2]).await;
    publish_raw(&topic, "k1", b"\xff\xfe garbage, not protobuf").await;
    let whole = prost::Message::encode_to_vec(&events[2]);
    publish_raw(&topic, "k2", &whole[..whole.len() / 2]).await;
    publish(&topic, &events[2..]).await;
    let seen = Recorded::default();
    let p = spawn_pipeline(
        "poison",
        Processor::Single(Arc::new(Recorder {
            seen: seen.clone(),
            delay: no_delay,
        })),
        Some(pg_store().await),
        &topic,
        test_config(),
        group_props(&group),
    );
    seen.wait_for(events.len(), Duration::from_secs(60)).await;
    eventually("all committed", Duration::from_secs(30), || {
        committed(&group, &topic, 1)[&0] == 8
    })
    .await;
    let summary = p.stop().await.expect("clean stop");
    assert_eq!(summary.dead_lettered("invalid"), 2, "{summary}");
    let dead = read_all(&format!("{topic}.dlq.poison")).await;
    assert_eq!(dead.len(), 2);
    for d in &dead {
        assert_eq!(d.header(headers::REASON), Some(&b"invalid"[..]));
        assert!(!d.header(headers::ERROR).unwrap().is_empty());
    }
    // The two dead letters are written by independent attempts: their order in the
    // dead-letter topic is not promised, so match them by content.
    let mut payloads: Vec<&[u8]> = dead.iter().map(|d| d.payload.as_ref()).collect();
    payloads.sort();
    let mut expected: Vec<&[u8]> =
        vec![b"\xff\xfe garbage, not protobuf", &whole[..whole.len() / 2]];
    expected.sort();
    assert_eq!(
        payloads, expected,
        "each poison record is dead-lettered once, as sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dlq_circuit_stops_the_consumer_instead_of_emptying_the_topic() {
    let (topic, group) = (unique("it-circuit"), unique("g"));
    create_topic(&topic, 1).await;
    let poison = (0..80).map(|i| (format!("k{i}"), b"not an event".to_vec()));
    publish_raws(&topic, poison).await;
    let mut config = test_config();
    config.dlq.window = 50;
    config.dlq.min_events = 20;
    config.dlq.max_ratio = 0.5;
    let (handler, _) = Scripted::new(|_, _| HandleResp::Success);
    let p = spawn_pipeline(
        "circuit",
        Processor::Single(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        config,
        group_props(&group),
    );
    let err = tokio::time::timeout(Duration::from_secs(60), p.task)
        .await
        .expect("stops by itself")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, RunError::DlqCircuitOpen { .. }), "{err}");
    let dead = read_all(&format!("{topic}.dlq.circuit")).await.len();
    assert!(
        (20..80).contains(&dead),
        "stopped after {dead} dead letters, not all 80"
    );
    assert!(committed(&group, &topic, 1)[&0] < 80);
}
