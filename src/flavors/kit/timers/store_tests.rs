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
    let (_dir, store) = Store::temp_sqlite(1).await;
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
    let claimed = claim_due(pool, "f", &owned, 150, 10, lease).await.unwrap();
    assert_eq!(claimed.len(), 1, "b is not due at 150");
    assert_eq!(
        (claimed[0].state.as_str(), claimed[0].claimed_until),
        ("claimed", 200)
    );
    assert!(claim_due(pool, "f", &owned, 199, 10, lease)
        .await
        .unwrap()
        .is_empty());
    let mut conn = pool.acquire().await.unwrap();
    assert!(fired(&mut conn, &claimed[0], 160).await.unwrap());
    assert!(!fired(&mut conn, &claimed[0], 161).await.unwrap());
    drop(conn);
    assert!(claim_due(pool, "f", &owned, 10_000, 10, lease)
        .await
        .unwrap()
        .iter()
        .all(|t| t.case_key != "a"));

    let id = firing_id(&claimed[0]);
    assert_eq!(id, firing_id(&claimed[0].clone()));
    let later = Timer {
        due_at: 101,
        ..claimed[0].clone()
    };
    assert_ne!(id, firing_id(&later));
}

async fn apply(store: &Store, id: &str, ops: Vec<crate::store::rows::RowOp>) {
    let batch = [Planned {
        event_id: id.into(),
        ops,
    }];
    store.apply_rows("f", &batch).await.unwrap();
}

async fn state_of(store: &Store, case_key: &str) -> (String, i64, i64, String) {
    sqlx::query_as("SELECT state, due_at, attempts, last_error FROM timers WHERE case_key = $1")
        .bind(case_key)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_cancel_arriving_after_a_newer_move_still_cancels() {
    let (_dir, store) = Store::temp_sqlite(1).await;
    let payload = serde_json::json!(null);
    apply(
        &store,
        "e1",
        vec![schedule(&plan("a", 100, &payload)).unwrap()],
    )
    .await;
    apply(
        &store,
        "e3",
        vec![move_to("f", "a", "sla", 300, 3).unwrap()],
    )
    .await;
    apply(&store, "e2", vec![cancel("f", "a", "sla", 2).unwrap()]).await;
    let (state, due_at, ..) = state_of(&store, "a").await;
    assert_eq!((state.as_str(), due_at), ("cancelled", 300));
    // A late older schedule resurrects nothing; a newer one re-arms.
    apply(
        &store,
        "e0",
        vec![schedule(&plan("a", 50, &payload)).unwrap()],
    )
    .await;
    assert_eq!(state_of(&store, "a").await.0, "cancelled");
    let newer = Schedule {
        version: 4,
        event_id: "ev4",
        ..plan("a", 400, &payload)
    };
    apply(&store, "e4", vec![schedule(&newer).unwrap()]).await;
    assert_eq!(state_of(&store, "a").await.0, "pending");
}

#[tokio::test]
async fn a_poll_claims_the_oldest_due_in_one_statement_and_outcomes_are_fenced() {
    let (_dir, store) = Store::temp_sqlite(1).await;
    let payload = serde_json::json!(null);
    let ops = ["a", "b", "c"]
        .iter()
        .zip([300, 100, 200])
        .map(|(k, due)| schedule(&plan(k, due, &payload)).unwrap())
        .collect();
    apply(&store, "e1", ops).await;
    let (pool, lease) = (store.pool(), Duration::from_secs(10));
    let owned = [("cases", 3)];
    assert!(claim_due(pool, "f", &[("cases", 1)], 1_000, 10, lease)
        .await
        .unwrap()
        .is_empty());
    let first = claim_due(pool, "f", &owned, 1_000, 2, lease).await.unwrap();
    let keys: Vec<&str> = first.iter().map(|t| t.case_key.as_str()).collect();
    assert_eq!(keys, ["b", "c"], "the oldest two");
    let rest = claim_due(pool, "f", &owned, 1_000, 10, lease)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1, "claimed ones are not claimed again");

    // b fails transiently: its claim runs out at the retry time.
    assert!(retry_later(pool, &first[0], (1_000, 1_500), "503", true)
        .await
        .unwrap());
    assert!(!retry_later(pool, &first[0], (1_000, 1_500), "503", true)
        .await
        .unwrap());
    assert_eq!(state_of(&store, "b").await.2, 1);
    assert!(claim_due(pool, "f", &owned, 1_400, 10, lease)
        .await
        .unwrap()
        .is_empty());
    let again = claim_due(pool, "f", &owned, 1_600, 10, lease)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    // c fails for good; a is given back.
    assert!(bury(pool, &first[1], "400 bad request").await.unwrap());
    let (state, _, attempts, error) = state_of(&store, "c").await;
    assert_eq!(
        (state.as_str(), attempts, error.as_str()),
        ("dead", 1, "400 bad request")
    );
    assert_eq!(release(pool, &rest).await.unwrap(), 1);
    assert_eq!(state_of(&store, "a").await.0, "pending");
    // A firing commits its effects with the fence, once.
    let firing = Firing::new(again[0].clone(), 1_700);
    assert_eq!(firing.lateness(), Duration::from_millis(1_600));
    assert!(firing.apply(&store, "f", Vec::new()).await.unwrap());
    assert!(!firing.apply(&store, "f", Vec::new()).await.unwrap());
    assert_eq!(state_of(&store, "b").await.0, "fired");
    assert!(store.seen("f", &firing.id).await.unwrap());
}

#[tokio::test]
async fn firings_are_marked_in_bulk_each_under_its_own_claim() {
    let (_dir, store) = Store::temp_sqlite(1).await;
    let payload = serde_json::json!(null);
    let ops = ["a", "b", "c"]
        .iter()
        .map(|k| schedule(&plan(k, 100, &payload)).unwrap())
        .collect();
    apply(&store, "e1", ops).await;
    let (pool, lease) = (store.pool(), Duration::from_secs(10));
    let mut claimed = claim_due(pool, "f", &[("cases", 3)], 500, 10, lease)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    // c was re-scheduled since its claim: its mark is refused.
    let newer = Schedule {
        version: 2,
        ..plan("c", 900, &payload)
    };
    apply(&store, "e2", vec![schedule(&newer).unwrap()]).await;
    claimed[1].claimed_until += 1; // b's claim is not this one
    assert_eq!(fired_many(pool, &claimed, 600).await.unwrap(), 1);
    let states: Vec<String> = sqlx::query_scalar("SELECT state FROM timers ORDER BY case_key")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(states, ["fired", "claimed", "pending"]);
}

#[tokio::test]
async fn an_unreadable_timer_ends_dead_instead_of_failing_every_poll() {
    let (_dir, store) = Store::temp_sqlite(1).await;
    let payload = serde_json::json!(null);
    let ops = ["a", "b"]
        .iter()
        .map(|k| schedule(&plan(k, 100, &payload)).unwrap())
        .collect();
    apply(&store, "e1", ops).await;
    let pool = store.pool();
    sqlx::query("UPDATE timers SET payload = 'not json' WHERE case_key = 'a'")
        .execute(pool)
        .await
        .unwrap();
    let lease = Duration::from_secs(10);
    let claimed = claim_due(pool, "f", &[("cases", 3)], 500, 10, lease)
        .await
        .unwrap();
    let keys: Vec<&str> = claimed.iter().map(|t| t.case_key.as_str()).collect();
    assert_eq!(keys, ["b"], "the readable one still fires");
    let (state, _, _, error) = state_of(&store, "a").await;
    assert_eq!(state, "dead");
    assert!(error.contains("payload"), "{error}");
    let later = claim_due(pool, "f", &[("cases", 3)], 20_000, 10, lease);
    assert!(later.await.unwrap().iter().all(|t| t.case_key != "a"));
}
