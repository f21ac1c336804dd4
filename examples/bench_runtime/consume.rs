//! `consume`: one measured run of the runtime over a pre-filled topic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use case_event_handler::app;
use case_event_handler::flavors;
use case_event_handler::handler::Processor;
use case_event_handler::runtime::Runtime;
use case_event_handler::settings::Settings;
use case_event_handler::source::kafka::{start_group, KafkaSourceConfig};
use case_event_handler::source::{SourceControl, SourceMsg};
use case_event_handler::telemetry;

use crate::handlers::{Noop, Sleepy};
use crate::probe::{cpu_secs, end_offsets, percentile, rss_kib};
use crate::watch::{Watch, WatchState};
use crate::{ConsumeArgs, HandlerKind};

/// Runs the runtime until every offset is stored, then prints one JSON line.
pub async fn run(settings: &Settings, args: ConsumeArgs, started: Instant) -> anyhow::Result<()> {
    telemetry::init_logs(&settings.telemetry);
    let flavor: &'static str = match args.handler {
        HandlerKind::Timeline => "timeline",
        _ => "bench",
    };
    let noop = Arc::new(Noop::default());
    let sleepy = Arc::new(Sleepy {
        max_us: args.sleep_max_us,
        tokio_timer: args.tokio_timer,
        first: OnceLock::new(),
        requested_us: AtomicU64::new(0),
        actual_us: AtomicU64::new(0),
        order: Mutex::new((HashMap::new(), 0)),
    });
    let runtime = match args.handler {
        HandlerKind::Noop | HandlerKind::Sleep => {
            let processor = if args.handler == HandlerKind::Noop {
                Processor::Single(noop.clone())
            } else {
                Processor::Single(sleepy.clone())
            };
            Runtime {
                flavor,
                processor,
                consumes: case_event_handler::flavors::kit::Consumes::all(),
                store: None,
                dlq: None,
                config: app::runtime_config(&settings.runtime_for(flavor)),
                progress: Default::default(),
            }
        }
        HandlerKind::Timeline => {
            let spec = flavors::find("timeline")?;
            let store = app::open_store(settings).await?;
            app::build_runtime(settings, spec, store, true, None)
                .await?
                .runtime
        }
    };
    let (targets, records) = end_offsets(settings, &args.topic)?;
    let expect = if args.latency {
        Some(args.expect.context("--latency needs --expect")?)
    } else {
        anyhow::ensure!(records > 0, "topic {} is empty", args.topic);
        None
    };

    let (tx, rx) = runtime.config.channels();
    let first_record: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let state = Arc::new(Mutex::new(WatchState {
        targets: targets.clone(),
        expect,
        ..WatchState::default()
    }));
    let source_tx = if args.latency {
        // A forwarding hop that notes each record's Kafka timestamp before the
        // dispatcher sees the record (so before its offset can be stored).
        let (mid_tx, mut mid_rx) = tx.relay();
        let out = tx.clone();
        let (first, notes) = (first_record.clone(), state.clone());
        tokio::spawn(async move {
            while let Some(msg) = mid_rx.recv().await {
                if let SourceMsg::Records(chunk) = &msg {
                    first.get_or_init(Instant::now);
                    let mut s = notes.lock().expect("watch lock");
                    for r in chunk {
                        let ts = r.timestamp_ms.unwrap_or(0);
                        s.pending
                            .entry(r.tp.partition)
                            .or_default()
                            .push_back((r.offset, ts));
                    }
                }
                if out.send(msg).is_err() {
                    break;
                }
            }
        });
        mid_tx
    } else {
        tx.clone()
    };
    if std::env::var_os("BENCH_TRACE_CHANNEL").is_some() {
        // Diagnostics: how full the source → runtime channel is, and how many
        // offset stores happened so far, every 5 ms.
        let (probe, st) = (tx.credit.clone(), state.clone());
        let progress = runtime.progress.clone();
        tokio::spawn(async move {
            let t0 = Instant::now();
            loop {
                let queued = probe.taken();
                let stores = st.lock().map_or(0, |s| s.stores);
                eprintln!(
                    "channel {:>8.3} s {queued} stores {stores} completed {}",
                    t0.elapsed().as_secs_f64(),
                    progress.completed()
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
    drop(tx);
    let config = KafkaSourceConfig {
        properties: app::kafka::consumer_properties(settings, flavor)
            .into_iter()
            .chain([("group.id".to_string(), args.group.clone())])
            .collect(),
        topics: vec![args.topic.clone()],
        drain_timeout: runtime.config.drain_timeout,
    };
    let shutdown = CancellationToken::new();
    let kafka = start_group(&config, source_tx)?;
    let watch = Arc::new(Watch {
        inner: kafka,
        done: shutdown.clone(),
        state: state.clone(),
    });
    let ready: Arc<OnceLock<(Instant, f64)>> = Arc::new(OnceLock::new());
    {
        let (w, ready, stop) = (watch.clone(), ready.clone(), shutdown.clone());
        let max_secs = args.max_secs;
        tokio::spawn(async move {
            while w.assigned().is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let _ = ready.set((Instant::now(), cpu_secs()));
            println!("READY");
            if let Some(secs) = max_secs {
                tokio::time::sleep(Duration::from_secs(secs)).await;
                eprintln!("--max-secs {secs} reached");
                stop.cancel();
            }
        });
    }
    {
        let (stop, secs) = (shutdown.clone(), args.timeout_secs);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            eprintln!("timeout after {secs} s");
            stop.cancel();
        });
    }
    let progress = runtime.progress.clone();
    let stopped_at: Arc<OnceLock<(Instant, u64)>> = Arc::new(OnceLock::new());
    {
        // When --max-secs cuts a run short: when, and how many events were complete.
        let (stop, at, progress) = (shutdown.clone(), stopped_at.clone(), progress.clone());
        tokio::spawn(async move {
            stop.cancelled().await;
            let _ = at.set((Instant::now(), progress.completed()));
        });
    }
    let summary = runtime.run(rx, watch.clone(), shutdown).await;
    let ended = Instant::now();
    let cpu_end = cpu_secs();
    let (peak_kib, rss_kib_now) = rss_kib();
    let summary = summary.map_err(|e| anyhow::anyhow!("run failed: {e}"))?;

    let s = watch.state.lock().expect("watch lock");
    let first = match args.handler {
        HandlerKind::Noop => noop.first.get().copied(),
        HandlerKind::Sleep => sleepy.first.get().copied(),
        HandlerKind::Timeline => first_record.get().copied(),
    }
    .or(s.first_store);
    let since = |t: Option<Instant>| t.map(|t| t.duration_since(started).as_secs_f64());
    let done_at = s.done_at;
    let completed = done_at.is_some();
    // A run cut short by --max-secs is measured up to the cut, over the
    // events complete by then.
    let (end_at, events) = match (done_at, expect, stopped_at.get()) {
        (Some(at), Some(_), _) => (Some(at), s.latencies.len() as u64),
        (Some(at), None, _) => (Some(at), records as u64),
        (None, Some(_), _) => (None, s.latencies.len() as u64),
        (None, None, Some(&(at, n))) => (Some(at), n),
        (None, None, None) => (None, progress.completed()),
    };
    let processing = match (first, end_at) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => f64::NAN,
    };
    let (ready_at, cpu_ready) = ready.get().copied().unwrap_or((started, 0.0));
    if let Some(path) = &args.latency_out {
        let mut text = String::with_capacity(s.latencies.len() * 24);
        for (ts, ms) in &s.latencies {
            text.push_str(&format!("{ts}\t{ms:.3}\n"));
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut lat: Vec<f64> = s.latencies.iter().map(|(_, ms)| *ms).collect();
    lat.sort_by(f64::total_cmp);
    let lat = &lat;
    let order = sleepy.order.lock().expect("order lock");
    let out = serde_json::json!({
        "handler": format!("{:?}", args.handler).to_lowercase(),
        "topic": args.topic,
        "completed": completed,
        "events": events,
        "succeeded": summary.succeeded,
        "skipped": summary.skipped,
        "dead_lettered": summary.dead_lettered,
        "offset_stores": s.stores,
        "ready_s": ready_at.duration_since(started).as_secs_f64(),
        "first_record_s": since(first),
        "done_s": since(done_at),
        "end_s": ended.duration_since(started).as_secs_f64(),
        "processing_s": processing,
        "processing_plus_close_s": first.map(|a| ended.duration_since(a).as_secs_f64()),
        "events_per_s": events as f64 / processing,
        "cpu_total_s": cpu_end,
        "cpu_after_ready_s": cpu_end - cpu_ready,
        "peak_rss_kib": peak_kib,
        "rss_kib_at_end": rss_kib_now,
        "sleep_requested_s": sleepy.requested_us.load(Ordering::Relaxed) as f64 / 1e6,
        "sleep_actual_s": sleepy.actual_us.load(Ordering::Relaxed) as f64 / 1e6,
        "order_violations": order.1,
        "latency_ms": if lat.is_empty() { serde_json::Value::Null } else { serde_json::json!({
            "n": lat.len(),
            "p50": percentile(lat, 0.50),
            "p90": percentile(lat, 0.90),
            "p99": percentile(lat, 0.99),
            "p999": percentile(lat, 0.999),
            "max": lat.last().copied().unwrap_or(f64::NAN),
        })},
    });
    println!("{out}");
    telemetry::shutdown();
    anyhow::ensure!(
        completed || args.max_secs.is_some(),
        "the run ended before every offset was stored"
    );
    Ok(())
}
