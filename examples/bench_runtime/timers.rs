//! `timers`: the durable timers' benchmark (Kit III-b). Seeds timers
//! straight into PostgreSQL (`generate_series`, one statement), then runs
//! the runtime with a no-op firing (the runtime marks firings in bulk) over
//! an empty topic whose partitions the timers belong to, and prints one JSON
//! line: firings, firing rate, lateness (due → fired, from the rows), CPU
//! and peak RSS.
//!
//! - `--pending N`: timers due in a day (they only sit in the table);
//! - `--due N --rate 0`: timers all due at the start (the firing rate);
//! - `--due N --rate R`: due R per second from 3 s after the start (lateness
//!   at a steady rate).
//!
//! It stops once every due timer fired, or after `--secs` (0: at SIGTERM).
//!
//! For `make soak`: `--seed-only` seeds and exits; `--no-seed` fires what
//! is there; `--log` commits each firing with a row in `fired_log` in the
//! firing's transaction (exactly once, checked from outside).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use case_event_handler::app;
use case_event_handler::handler::Processor;
use case_event_handler::runtime::policy::TimerPolicy;
use case_event_handler::runtime::Runtime;
use case_event_handler::settings::Settings;
use case_event_handler::source::kafka::{start_group, KafkaSourceConfig};
use case_event_handler::store::Store;
use case_event_handler::telemetry;

use crate::handlers::{Logged, Noop};
use crate::probe::{cpu_secs, rss_kib};

const FLAVOR: &str = "bench-timers";

/// What to seed and how long to run.
#[derive(Debug, clap::Args)]
pub struct TimerArgs {
    /// An existing (empty) topic: the timers' partitions are its.
    #[arg(long)]
    topic: String,
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    #[arg(long)]
    group: String,
    /// Timers due in a day.
    #[arg(long, default_value_t = 0)]
    pending: i64,
    /// Timers to fire.
    #[arg(long, default_value_t = 0)]
    due: i64,
    /// Due per second (0: all due at the start).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Stop after this long, done or not (0: run until SIGTERM).
    #[arg(long, default_value_t = 300)]
    secs: u64,
    /// Seed, then exit.
    #[arg(long)]
    seed_only: bool,
    /// Fire the timers already in the table.
    #[arg(long)]
    no_seed: bool,
    /// Commit each firing with its id in `fired_log`.
    #[arg(long)]
    log: bool,
}

/// Seeds, runs, measures.
pub async fn run(settings: &Settings, args: TimerArgs) -> anyhow::Result<()> {
    telemetry::init_logs(&settings.telemetry);
    let store = app::open_store(settings).await?;
    let start_ms = chrono::Utc::now().timestamp_millis();
    if !args.no_seed {
        seed(&store, &args, start_ms).await?;
    }
    if args.seed_only {
        return Ok(());
    }
    let processor = if args.log {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS fired_log (firing_id TEXT NOT NULL, at_ms BIGINT NOT NULL)",
        )
        .execute(store.pool())
        .await?;
        Processor::Single(Arc::new(Logged))
    } else {
        Processor::Single(Arc::new(Noop::default()))
    };
    let mut config = app::runtime_config(&settings.runtime_for(FLAVOR));
    let t = &settings.runtime.timers;
    config.timers = Some(TimerPolicy {
        poll_every: Duration::from_millis(t.poll_ms),
        batch: t.batch as usize,
        lease: Duration::from_millis(t.lease_ms),
        ..TimerPolicy::new(config.handler_timeout)
    });
    let runtime = Runtime {
        flavor: FLAVOR,
        processor,
        consumes: case_event_handler::flavors::kit::Consumes::all(),
        store: Some(store.clone()),
        dlq: None,
        config,
        progress: Default::default(),
    };
    let (tx, rx) = runtime.config.channels();
    let source = KafkaSourceConfig {
        properties: app::kafka::consumer_properties(settings, FLAVOR)
            .into_iter()
            .chain([("group.id".to_string(), args.group.clone())])
            .collect(),
        topics: vec![args.topic.clone()],
        drain_timeout: runtime.config.drain_timeout,
    };
    let control = start_group(&source, tx)?;
    let shutdown = CancellationToken::new();
    let cpu_start = cpu_secs();
    let started = Instant::now();
    let done_at: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    {
        let (store, stop, done, due) = (store.clone(), shutdown.clone(), done_at.clone(), args.due);
        let limit = (args.secs > 0).then(|| Duration::from_secs(args.secs));
        let watch = !args.no_seed;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let fired = match watch {
                    true => fired_count(&store).await.unwrap_or(0),
                    false => 0,
                };
                let over = limit.is_some_and(|l| started.elapsed() >= l);
                if (watch && due > 0 && fired >= due) || over {
                    let _ = done.set(Instant::now());
                    stop.cancel();
                    return;
                }
            }
        });
    }
    {
        let stop = shutdown.clone();
        tokio::spawn(async move {
            if let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            {
                term.recv().await;
                stop.cancel();
            }
        });
    }
    let summary = runtime.run(rx, control, shutdown).await;
    let cpu = cpu_secs() - cpu_start;
    let (peak_kib, rss_now) = rss_kib();
    summary.map_err(|e| anyhow::anyhow!("run failed: {e}"))?;
    let (fired, first, last, p50, p99, max) = lateness(&store).await?;
    let span_s = (last - first) as f64 / 1e3;
    let out = serde_json::json!({
        "pending": args.pending,
        "due": args.due,
        "rate": args.rate,
        "fired": fired,
        "run_s": done_at.get().map(|d| d.duration_since(started).as_secs_f64()),
        "first_to_last_fired_s": span_s,
        "fired_per_s": if span_s > 0.0 { fired as f64 / span_s } else { f64::NAN },
        "lateness_ms": { "p50": p50, "p99": p99, "max": max },
        "cpu_s": cpu,
        "peak_rss_kib": peak_kib,
        "rss_kib_at_end": rss_now,
    });
    println!("{out}");
    telemetry::shutdown();
    Ok(())
}

/// Replaces the flavor's timers: `pending` due in a day, `due` due from
/// the start on (all at once, or `rate` per second from 3 s after it).
async fn seed(store: &Store, args: &TimerArgs, start_ms: i64) -> anyhow::Result<()> {
    let pool = store.pool();
    sqlx::query("DELETE FROM timers WHERE flavor = $1")
        .bind(FLAVOR)
        .execute(pool)
        .await?;
    let insert = "INSERT INTO timers (flavor, case_key, timer_id, due_at, state, topic, \
                  partition, event_id, version, state_version) \
                  SELECT $1, 'case-' || (g / 5), 't' || (g % 5) || '-' || $2, \
                  $3 + CAST(FLOOR($4 * g) AS BIGINT), \
                  'pending', $5, (g / 5) % $6, 'ev-' || g, 1, 1 FROM generate_series(0, $7 - 1) g";
    let day = 86_400_000_i64;
    let step_ms = if args.rate > 0.0 {
        1e3 / args.rate
    } else {
        0.0
    };
    for (what, n, first, step) in [
        ("far", args.pending, start_ms + day, 0.0),
        (
            "due",
            args.due,
            start_ms + if args.rate > 0.0 { 3_000 } else { -1_000 },
            step_ms,
        ),
    ] {
        if n == 0 {
            continue;
        }
        // A fractional step (ms): due_at = first + floor(step * g).
        sqlx::query(insert)
            .bind(FLAVOR)
            .bind(what)
            .bind(first)
            .bind(step)
            .bind(&args.topic)
            .bind(i64::from(args.partitions))
            .bind(n)
            .execute(pool)
            .await
            .with_context(|| format!("seeding {n} {what} timers"))?;
    }
    sqlx::query("ANALYZE timers").execute(pool).await?;
    Ok(())
}

async fn fired_count(store: &Store) -> anyhow::Result<i64> {
    let n = sqlx::query_scalar("SELECT COUNT(*) FROM timers WHERE flavor = $1 AND state = 'fired'")
        .bind(FLAVOR)
        .fetch_one(store.pool())
        .await?;
    Ok(n)
}

/// Fired count, first and last `fired_at`, lateness p50, p99 and max (ms).
async fn lateness(store: &Store) -> anyhow::Result<(i64, i64, i64, f64, f64, f64)> {
    let row: (i64, i64, i64, f64, f64, f64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(MIN(fired_at), 0), COALESCE(MAX(fired_at), 0), \
         COALESCE(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY fired_at - due_at) AS DOUBLE PRECISION), 0), \
         COALESCE(CAST(percentile_cont(0.99) WITHIN GROUP (ORDER BY fired_at - due_at) AS DOUBLE PRECISION), 0), \
         COALESCE(CAST(MAX(fired_at - due_at) AS DOUBLE PRECISION), 0) \
         FROM timers WHERE flavor = $1 AND state = 'fired'",
    )
    .bind(FLAVOR)
    .fetch_one(store.pool())
    .await?;
    Ok(row)
}
