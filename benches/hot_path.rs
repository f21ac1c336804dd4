//! Micro-benchmarks of the per-event hot path: decode, route, outcome
//! bookkeeping (offset watermark, per-key lanes), and the per-event telemetry
//! (span + completion). They catch regressions in the CPU the runtime spends
//! per event; they assert nothing.
//!
//! `cargo bench --bench hot_path` (part of `make bench`; figures in
//! BENCHMARKS.md). Inputs are realistic synthetic events (`event::synth`),
//! encoded and wrapped in records exactly as `produce` publishes them.

use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use prost::Message;
use std::hint::black_box;

use case_event_handler::event::synth::{Synth, SynthSpec};
use case_event_handler::event::{self, CaseEvent};
use case_event_handler::runtime::decode_record;
use case_event_handler::runtime::offsets::OffsetTracker;
use case_event_handler::runtime::scheduler::KeyQueues;
use case_event_handler::settings::{LogFormat, TelemetrySettings};
use case_event_handler::source::record::{Record, Tp, CONTENT_TYPE, EVENT_TYPE, PROTOBUF};
use case_event_handler::telemetry::{self, events::EventCompleted, trace};

/// Distinct sample events, cycled through so that caches see variety.
const SAMPLES: usize = 1024;

fn events() -> Vec<CaseEvent> {
    let spec = SynthSpec {
        cases: SAMPLES / 16,
        events_per_case: 16,
        ..SynthSpec::default()
    };
    Synth::new(1, spec).take(SAMPLES).collect()
}

fn record_of(tp: &Tp, offset: i64, ev: &CaseEvent) -> Record {
    Record {
        tp: tp.clone(),
        offset,
        key: Some(Bytes::from(ev.case_id.clone())),
        payload: Bytes::from(ev.encode_to_vec()),
        headers: vec![
            (EVENT_TYPE.to_string(), Bytes::from(ev.event_type.clone())),
            (
                CONTENT_TYPE.to_string(),
                Bytes::from_static(PROTOBUF.as_bytes()),
            ),
        ],
        timestamp_ms: Some(0),
    }
}

fn hot_path(c: &mut Criterion) {
    let tp = Tp::new("case-events", 0);
    let evs = events();
    let records: Vec<Record> = evs
        .iter()
        .enumerate()
        .map(|(i, ev)| record_of(&tp, i as i64, ev))
        .collect();
    let payloads: Vec<Bytes> = records.iter().map(|r| r.payload.clone()).collect();
    let mean = payloads.iter().map(Bytes::len).sum::<usize>() / payloads.len();
    eprintln!("hot_path: {SAMPLES} synthetic events, mean protobuf size {mean} bytes");

    let mut g = c.benchmark_group("per_event");
    g.throughput(Throughput::Elements(1));

    let mut i = 0usize;
    g.bench_function("event::decode", |b| {
        b.iter(|| {
            i = (i + 1) % SAMPLES;
            black_box(event::decode(black_box(&payloads[i])).ok())
        })
    });

    let mut i = 0usize;
    g.bench_function("runtime::decode_record", |b| {
        b.iter(|| {
            i = (i + 1) % SAMPLES;
            black_box(decode_record(black_box(&records[i])).ok())
        })
    });

    let timeline = case_event_handler::flavors::timeline::SPEC.consumes;
    let mut i = 0usize;
    g.bench_function("route (timeline consumes)", |b| {
        b.iter(|| {
            i = (i + 1) % SAMPLES;
            black_box(timeline.wants_name(black_box(&evs[i].event_type)))
        })
    });

    // In-order completion (a no-op handler): the watermark moves every event.
    let mut tracker = OffsetTracker::default();
    let mut o = 0i64;
    g.bench_function("OffsetTracker begin+complete (in order)", |b| {
        b.iter(|| {
            tracker.begin(&tp, o, 1000);
            let mark = tracker.complete(&tp, o);
            o += 1;
            black_box(mark)
        })
    });

    // 256 in flight: each new offset completes the one taken 256 earlier.
    let mut tracker = OffsetTracker::default();
    for o in 0..256 {
        tracker.begin(&tp, o, 1000);
    }
    let mut o = 256i64;
    g.bench_function("OffsetTracker begin+complete (256 in flight)", |b| {
        b.iter(|| {
            tracker.begin(&tp, o, 1000);
            let mark = tracker.complete(&tp, o - 256);
            o += 1;
            black_box(mark)
        })
    });

    // An idle lane: offer starts the job, finish frees the lane.
    let keys: Vec<Bytes> = evs.iter().map(|e| Bytes::from(e.case_id.clone())).collect();
    let mut lanes: KeyQueues<u64> = KeyQueues::default();
    let mut i = 0usize;
    g.bench_function("KeyQueues offer+finish (idle lane)", |b| {
        b.iter(|| {
            i = (i + 1) % SAMPLES;
            let lane = (tp.clone(), keys[i].clone());
            let started = lanes.offer(lane.clone(), i as u64);
            black_box((started, lanes.finish(&lane)))
        })
    });

    // A busy lane: the second job waits and is handed out by the first's finish.
    let mut lanes: KeyQueues<u64> = KeyQueues::default();
    let mut i = 0usize;
    g.bench_function("KeyQueues offer+finish (busy lane, 2 jobs)", |b| {
        b.iter(|| {
            i = (i + 1) % SAMPLES;
            let lane = (tp.clone(), keys[i].clone());
            let first = lanes.offer(lane.clone(), 1);
            let second = lanes.offer(lane.clone(), 2);
            let next = lanes.finish(&lane);
            let last = lanes.finish(&lane);
            black_box((first, second, next, last))
        })
    });

    // The whole per-event path of the dispatcher minus the task and telemetry:
    // decode, route, take in, schedule, complete, free the lane.
    let mut tracker = OffsetTracker::default();
    let mut lanes: KeyQueues<usize> = KeyQueues::default();
    let mut i = 0usize;
    let mut o = 0i64;
    g.bench_function("decode+route+bookkeeping", |b| {
        b.iter_batched(
            || {
                i = (i + 1) % SAMPLES;
                o += 1;
                let mut r = records[i].clone();
                r.offset = o;
                r
            },
            |record| {
                tracker.begin(&record.tp, record.offset, record.size());
                let event = decode_record(&record).expect("valid sample");
                if timeline.wants_name(&event.event_type) {
                    let lane = (record.tp.clone(), record.key.clone().unwrap_or_default());
                    black_box(lanes.offer(lane.clone(), 0));
                    black_box(lanes.finish(&lane));
                }
                black_box(tracker.complete(&record.tp, record.offset))
            },
            BatchSize::SmallInput,
        )
    });

    // Last, because it installs the process-wide subscriber: the per-event span
    // and completion telemetry as the service runs them (JSON logs at info plus
    // the OpenTelemetry layer, `telemetry::init_logs` with production-like
    // defaults). Nothing is printed at info; the cost is in the span's fields.
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let _entered = rt.enter();
    telemetry::init_logs(&TelemetrySettings {
        log_format: LogFormat::Json,
        ..TelemetrySettings::default()
    });
    let mut i = 0usize;
    g.bench_function("event span + completion telemetry", |b| {
        b.iter(|| {
            i = (i + 1) % SAMPLES;
            let r = &records[i];
            let span = trace::event_span("bench", r.at(), &r.headers, Some(&evs[i]));
            EventCompleted::new("bench", r.at(), None, &span).emit();
            black_box(span)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = hot_path
}
criterion_main!(benches);
