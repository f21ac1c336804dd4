//! The benchmark handlers: no-op and deterministic sleep.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use case_event_handler::event::Event;
use case_event_handler::flavors::kit::timers::Firing;
use case_event_handler::handler::{Ctx, HandleResp, Handler};

/// Does nothing; notes when it was first called.
#[derive(Default)]
pub struct Noop {
    pub first: OnceLock<Instant>,
}

#[async_trait]
impl Handler for Noop {
    async fn handle(&self, _ctx: &Ctx, _event: &Event) -> HandleResp {
        self.first.get_or_init(Instant::now);
        HandleResp::Success
    }

    async fn fire(&self, _ctx: &Ctx, _firing: &Firing) -> HandleResp {
        self.first.get_or_init(Instant::now);
        HandleResp::Success
    }
}

/// Commits each firing with its id in `fired_log`, in the firing's
/// transaction (the soak counts them from outside).
pub struct Logged;

#[async_trait]
impl Handler for Logged {
    async fn handle(&self, _ctx: &Ctx, _event: &Event) -> HandleResp {
        HandleResp::Success
    }

    async fn fire(&self, ctx: &Ctx, firing: &Firing) -> HandleResp {
        let mut tx = match ctx.begin_firing(firing).await {
            Ok(tx) => tx,
            Err(err) => return HandleResp::classify(Err(err.into())),
        };
        let insert = sqlx::query("INSERT INTO fired_log (firing_id, at_ms) VALUES ($1, $2)")
            .bind(&firing.id)
            .bind(firing.now_ms)
            .execute(tx.conn())
            .await;
        if let Err(err) = insert {
            let err = case_event_handler::store::StoreError::from(err);
            return HandleResp::classify(Err(err.into()));
        }
        HandleResp::classify(ctx.commit(tx).await.map_err(Into::into))
    }
}

/// Sleeps a deterministic 0..=max_us per event and checks per-key order.
pub struct Sleepy {
    pub max_us: u64,
    pub tokio_timer: bool,
    pub first: OnceLock<Instant>,
    pub requested_us: AtomicU64,
    pub actual_us: AtomicU64,
    /// Last `aggregate_version` (sequence) handled per key, and order violations.
    pub order: Mutex<(HashMap<String, u64>, u64)>,
}

#[async_trait]
impl Handler for Sleepy {
    async fn handle(&self, _ctx: &Ctx, event: &Event) -> HandleResp {
        self.first.get_or_init(Instant::now);
        {
            let mut order = self.order.lock().expect("order lock");
            let last = order
                .0
                .insert(event.case_id.clone(), event.aggregate_version);
            if last.is_some_and(|l| l >= event.aggregate_version) {
                order.1 += 1;
            }
        }
        let us = sleep_us(&event.event_id, self.max_us);
        let pause = Duration::from_micros(us);
        let t = Instant::now();
        if self.tokio_timer {
            tokio::time::sleep(pause).await;
        } else {
            // Precise to ~0.1 ms, like the Java experiment's Thread.sleep;
            // tokio's timer rounds every sleep up to the next millisecond.
            let _ = tokio::task::spawn_blocking(move || std::thread::sleep(pause)).await;
        }
        let took = t.elapsed().as_micros() as u64;
        self.requested_us.fetch_add(us, Ordering::Relaxed);
        self.actual_us.fetch_add(took, Ordering::Relaxed);
        HandleResp::Success
    }
}

/// Uniform in 0..=max_us, from the event id (SipHash with fixed keys).
fn sleep_us(event_id: &str, max_us: u64) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    event_id.hash(&mut h);
    h.finish() % (max_us + 1)
}
