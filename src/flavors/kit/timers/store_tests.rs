//! The timers' rows and store on SQLite (the PostgreSQL side and the
//! concurrency are in tests/it/timers.rs).

use std::time::Duration;

use super::*;
use crate::store::rows::{PlanError, Planned};
use crate::store::Store;

fn plan<'a>(case_key: &'a str, due_at: i64, payload: &'a serde_json::Value) -> Schedule<'a> {
    Schedule {
        flavor: "f",
        case_key,
        timer_id: "sla",
        due_at,
        topic: "cases",
        partition: 3,
        event_id: "ev1",
        correlation_id: "c",
        chain_depth: 1,
        payload,
        version: 1,
    }
}

#[test]
fn a_schedule_without_a_key_or_with_a_negative_partition_is_refused() {
    let payload = serde_json::json!(null);
    let empty = schedule(&plan("", 1, &payload));
    assert!(matches!(empty, Err(PlanError::Invalid(_))), "{empty:?}");
    let negative = schedule(&Schedule {
        partition: -1,
        ..plan("k", 1, &payload)
    });
    assert!(
        matches!(negative, Err(PlanError::Invalid(_))),
        "{negative:?}"
    );
}

#[tokio::test]
async fn scheduled_timers_come_due_are_claimed_once_and_fire_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = Store::connect(&url, 1).await.unwrap();
    let payload = serde_json::json!({ "n": 1 });
    let ops = vec![
        schedule(&plan("a", 100, &payload)).unwrap(),
        schedule(&plan("b", 200, &payload)).unwrap(),
    ];
    let batch = [Planned {
        event_id: "ev1".into(),
        ops,
    }];
    store.apply_rows("f", &batch).await.unwrap();
    let pool = store.pool();
    let owned = [("cases", 3)];
    assert!(due(pool, "f", &owned, 99, 10).await.unwrap().is_empty());
    assert!(due(pool, "f", &[("cases", 2)], 500, 10)
        .await
        .unwrap()
        .is_empty());
    let now = due(pool, "f", &owned, 500, 1).await.unwrap();
    assert_eq!(now.len(), 1, "the limit");
    assert_eq!(
        (now[0].case_key.as_str(), now[0].payload.clone()),
        ("a", payload)
    );

    let lease = Duration::from_millis(50);
    let keys = [("a", "sla"), ("b", "sla")];
    let claimed = claim(pool, "f", &keys, 150, lease).await.unwrap();
    assert_eq!(claimed.len(), 1, "b is not due at 150");
    assert_eq!(
        (claimed[0].state.as_str(), claimed[0].claimed_until),
        ("claimed", 200)
    );
    assert!(claim(pool, "f", &keys[..1], 199, lease)
        .await
        .unwrap()
        .is_empty());
    let mut conn = pool.acquire().await.unwrap();
    assert!(fired(&mut conn, &claimed[0], 160).await.unwrap());
    assert!(!fired(&mut conn, &claimed[0], 161).await.unwrap());
    drop(conn);
    assert!(claim(pool, "f", &keys[..1], 10_000, lease)
        .await
        .unwrap()
        .is_empty());

    let id = firing_id(&claimed[0]);
    assert_eq!(id, firing_id(&claimed[0].clone()));
    let later = Timer {
        due_at: 101,
        ..claimed[0].clone()
    };
    assert_ne!(id, firing_id(&later));
}
