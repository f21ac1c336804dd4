//! Durable timers firing on real Kafka and PostgreSQL (Kit III-b): 2,000
//! timers over 4 partitions, some cancelled and some moved, fire exactly
//! once each, none for a cancelled or moved-from due time, with one replica,
//! across a kill -9 of the replica firing them, and across a rebalance to a
//! second replica mid-run. Each test has its own topic, group and database.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use case_event_handler::event::Event;
use case_event_handler::flavors::kit::timers::{schedule, Firing, Schedule, SystemClock};
use case_event_handler::handler::{Ctx, HandleResp, Handler, Processor};
use case_event_handler::runtime::policy::{RuntimeConfig, TimerPolicy};
use case_event_handler::store::rows::{Planned, RowOp};
use case_event_handler::store::{Store, StoreError};

use crate::helpers::*;

mod lanes;
mod replicas;
mod seed;

pub const FLAVOR: &str = "timer_firing_it";
pub const PARTITIONS: i32 = 4;
pub const CASES: usize = 400;
pub const PER_CASE: usize = 5;
/// The env var that turns `replica_child` into a replica (topic|group|db).
pub const CHILD: &str = "CEH_TIMER_FIRING_CHILD";

/// Fires by writing its id into `fired_log` in the firing's transaction.
pub struct Firer {
    pub replica: &'static str,
}

#[async_trait]
impl Handler for Firer {
    async fn handle(&self, _: &Ctx, _: &Event) -> HandleResp {
        HandleResp::Success
    }

    async fn fire(&self, ctx: &Ctx, firing: &Firing) -> HandleResp {
        let mut tx = match ctx.begin_firing(firing).await {
            Ok(tx) => tx,
            Err(err) => return HandleResp::classify(Err(err.into())),
        };
        let insert = sqlx::query(
            "INSERT INTO fired_log (firing_id, case_key, timer_id, replica) VALUES ($1, $2, $3, $4)",
        )
        .bind(&firing.id)
        .bind(&firing.timer.case_key)
        .bind(&firing.timer.timer_id)
        .bind(self.replica)
        .execute(tx.conn())
        .await;
        if let Err(err) = insert {
            return HandleResp::classify(Err(StoreError::from(err).into()));
        }
        HandleResp::classify(ctx.commit(tx).await.map_err(Into::into))
    }
}

/// Claims of 3 s: a killed replica's claims are taken over soon.
pub const SHORT_LEASE: Duration = Duration::from_secs(3);

pub fn config() -> RuntimeConfig {
    config_with(SHORT_LEASE)
}

pub fn config_with(lease: Duration) -> RuntimeConfig {
    RuntimeConfig {
        handler_timeout: Duration::from_secs(2),
        timers: Some(TimerPolicy {
            clock: Arc::new(SystemClock),
            poll_every: Duration::from_millis(100),
            batch: 200,
            lease,
        }),
        ..test_config()
    }
}

pub fn replica(
    name: &'static str,
    (store, topic, group): (&Store, &str, &str),
    lease: Duration,
) -> Pipeline {
    let firer = Processor::Single(Arc::new(Firer { replica: name }));
    let store = Some(store.clone());
    let config = config_with(lease);
    spawn_pipeline(FLAVOR, firer, store, topic, config, group_props(group))
}

pub async fn prepared(prefix: &str) -> (Store, String, String) {
    let store = Store::connect(&fresh_pg().await, 16).await.expect("store");
    sqlx::query(
        "CREATE TABLE fired_log (firing_id TEXT NOT NULL, case_key TEXT NOT NULL, \
         timer_id TEXT NOT NULL, replica TEXT NOT NULL)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let topic = unique(prefix);
    create_topic(&topic, PARTITIONS).await;
    (store, topic.clone(), format!("{topic}-g"))
}

pub async fn fired_count(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM fired_log")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Waits until `n` firings are logged (at most `within`).
pub async fn wait_fired(store: &Store, n: usize, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let count = fired_count(store).await as usize;
        if count >= n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} of {n} timers fired within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One timer of `case_key` due at `due_at` on partition `partition`.
pub fn one_timer(
    topic: &str,
    case_key: &str,
    timer_id: &str,
    due_at: i64,
    partition: i32,
) -> RowOp {
    schedule(&Schedule {
        flavor: FLAVOR,
        case_key,
        timer_id,
        due_at,
        topic,
        partition,
        event_id: "ev-one",
        correlation_id: "",
        chain_depth: 0,
        payload: &serde_json::Value::Null,
        version: 1,
    })
    .unwrap()
}

/// Applies `ops` as one event's plan.
pub async fn apply(store: &Store, ops: Vec<RowOp>) {
    let plan = Planned {
        event_id: "seed".into(),
        ops,
    };
    store.apply_rows(FLAVOR, &[plan]).await.unwrap();
}
