//! Live configuration: the config files are watched (polled for changes) and
//! SIGHUP reloads them. A valid new configuration updates flags, maintenance
//! windows, breaker and rate limits and retry budgets in place; an invalid one is
//! rejected with a log line naming every bad key, and the old one stays.
//! Settings that cannot change live (Kafka, store, telemetry address, flavor
//! sections) are reported as needing a restart.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::runtime_config;
use crate::resilience::breaker;
use crate::runtime::live::Live;
use crate::settings::{self, LoadOptions, Settings};

/// Watches the files behind `opts` and applies reloads to `live`.
pub fn spawn(
    opts: LoadOptions,
    current: Settings,
    flavor: &'static str,
    live: Arc<Live>,
    every: Duration,
    shutdown: CancellationToken,
) {
    tokio::spawn(async move {
        let mut current = current;
        let files = watched_files(&opts);
        let mut stamps = stamps(&files);
        let mut hup = hangup();
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let now = stamps_of(&files);
                    if now == stamps { continue; }
                    stamps = now;
                }
                _ = recv(&mut hup) => tracing::info!("SIGHUP: reloading configuration"),
                _ = shutdown.cancelled() => return,
            }
            reload(&opts, &mut current, flavor, &live);
        }
    });
}

/// Loads, validates and applies; keeps the old configuration on failure.
pub fn reload(opts: &LoadOptions, current: &mut Settings, flavor: &'static str, live: &Live) {
    let next = match settings::load(opts) {
        Ok(next) => next,
        Err(err) => {
            live.rejected();
            tracing::error!(error = %err, "configuration reload rejected; the previous configuration stays in force");
            return;
        }
    };
    for section in needs_restart(current, &next) {
        tracing::warn!(section, "changed setting needs a restart to take effect");
    }
    apply(&next, flavor, live);
    tracing::info!("configuration reloaded");
    *current = next;
}

/// Installs the live parts of `settings`.
pub fn apply(settings: &Settings, flavor: &'static str, live: &Live) {
    for (dependency, config) in &settings.breakers {
        breaker::registry().configure(dependency, config.clone());
    }
    crate::resilience::rate_limit::registry().configure(&settings.rate_limits);
    let retry = runtime_config(&settings.runtime_for(flavor)).retry;
    live.apply(settings.flags(), &settings.windows(), retry);
}

/// Sections whose change only a restart applies.
fn needs_restart(old: &Settings, new: &Settings) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.kafka != new.kafka {
        out.push("kafka");
    }
    if old.store != new.store {
        out.push("store");
    }
    if old.telemetry != new.telemetry {
        out.push("telemetry");
    }
    if old.flavors != new.flavors {
        out.push("flavors");
    }
    if old.rules != new.rules {
        // The rules directory's own content reloads live (src/rules/watch.rs).
        out.push("rules (the directory's files reload live)");
    }
    let without_retry = |s: &Settings| {
        let mut r = s.runtime.clone();
        r.retry = Default::default();
        r
    };
    if without_retry(old) != without_retry(new) {
        out.push("runtime (only retry applies live)");
    }
    out
}

fn watched_files(opts: &LoadOptions) -> Vec<PathBuf> {
    let mut files = vec![
        opts.config_dir.join("base.yaml"),
        opts.config_dir.join(format!("{}.yaml", opts.env)),
    ];
    files.extend(opts.extra_file.clone());
    files
}

type Stamps = Vec<Option<(SystemTime, u64)>>;

fn stamps(files: &[PathBuf]) -> Stamps {
    stamps_of(files)
}

fn stamps_of(files: &[PathBuf]) -> Stamps {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        })
        .collect()
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

#[cfg(unix)]
fn hangup() -> Hangup {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
}

#[cfg(not(unix))]
fn hangup() -> Hangup {
    None
}

#[cfg(unix)]
async fn recv(h: &mut Hangup) {
    match h {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn recv(_: &mut Hangup) {
    std::future::pending().await
}
