//! A progress line on stderr: events done, rate and ETA.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::runtime::progress::Progress;

/// Prints progress every second until aborted.
pub fn spawn(progress: Arc<Progress>, total: u64) -> JoinHandle<()> {
    tokio::spawn(async move {
        let started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.tick().await;
        loop {
            tick.tick().await;
            eprintln!("{}", line(progress.completed(), total, started.elapsed()));
        }
    })
}

/// `1200/5000 events (24%), 600/s, ETA 6s`.
pub fn line(done: u64, total: u64, elapsed: Duration) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
    let pct = (done * 100).checked_div(total).unwrap_or(100);
    let eta = if rate > 0.0 {
        (total.saturating_sub(done)) as f64 / rate
    } else {
        f64::INFINITY
    };
    format!("{done}/{total} events ({pct}%), {rate:.0}/s, ETA {eta:.0}s")
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_shows_rate_and_eta() {
        let l = super::line(500, 1000, std::time::Duration::from_secs(5));
        assert_eq!(l, "500/1000 events (50%), 100/s, ETA 5s");
    }
}
