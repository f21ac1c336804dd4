//! The depth check: every `depth_every`, each destination's queue is
//! counted (`delivery::depth`, one grouped read); the totals go to the
//! gauges, the rows waiting for a destination that is gone (410) become
//! dead letters with its reason, and a destination over `max_depth` raises the alert gauge and,
//! as configured, drops its oldest waiting rows to the dead letters or is
//! put in the `Full` set, whose new rows the flavor's handler refuses
//! (its events wait, their partitions paused, until the queue drains).

use std::collections::HashSet;

use crate::flavors::kit::delivery;
use crate::settings::OnFull;
use crate::telemetry::events::DeliveryTally;

use super::Deliveries;

/// Counts the queues and acts on those over depth.
pub(super) async fn check(w: &Deliveries, tally: &DeliveryTally) {
    let depths = match delivery::depth(&w.pool, w.flavor).await {
        Ok(depths) => depths,
        Err(err) => return tally.store_failed("depth", &err.to_string()),
    };
    let max = i64::try_from(w.config.max_depth).unwrap_or(i64::MAX);
    let waiting = depths.iter().map(|d| d.pending).sum();
    let disabled = depths.iter().filter(|d| d.state != "active").count();
    for d in depths.iter().filter(|d| d.state == "gone" && d.pending > 0) {
        // Rows enqueued after the 410: dead with the same reason.
        let buried = delivery::bury_queued(&w.pool, w.flavor, &d.destination, &d.reason).await;
        if let Err(err) = buried {
            tally.store_failed("bury gone", &err.to_string());
        }
    }
    let over: Vec<_> = depths.iter().filter(|d| d.pending > max).collect();
    tally.depth(waiting, over.len() as i64, disabled as i64);
    let mut full = HashSet::new();
    for d in over {
        let (flavor, destination, pending) = (w.flavor, d.destination.as_str(), d.pending);
        tracing::error!(flavor, destination, pending, max, alert = true, on_full = ?w.config.on_full, "delivery queue over depth");
        match w.config.on_full {
            OnFull::Refuse => {
                full.insert(d.destination.clone());
            }
            OnFull::DropOldest => {
                let reason = format!("dropped: queue over max_depth {max}");
                let keep = w.config.max_depth;
                let dropped =
                    delivery::bury_oldest(&w.pool, w.flavor, destination, keep, &reason).await;
                match dropped {
                    Ok(n) => tracing::error!(
                        flavor,
                        destination,
                        dropped = n,
                        "oldest deliveries dropped to the dead letters"
                    ),
                    Err(err) => tally.store_failed("drop oldest", &err.to_string()),
                }
            }
        }
    }
    w.queue.full.replace(full);
}
