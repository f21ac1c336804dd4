//! Every op and set kind on both backends, on test-only tables: timers
//! (schedule = upsert, move = patch, cancel = delete) and counters
//! (insert if absent, then add; max and set-if-null under the row's guard).

use case_event_handler::store::rows::{Patchable, PlanError, Planned, RowOp, Table, Value};
use case_event_handler::store::Store;

use crate::helpers::*;

static TIMERS: Table = Table {
    name: "timers_it",
    columns: &["timer_key", "due_at", "version"],
    key: &["timer_key"],
    version: "version",
    on_conflict_update: &["due_at", "version"],
    patchable: &[Patchable::row("due_at")],
};

static COUNTS: Table = Table {
    name: "counts_it",
    columns: &["bucket", "version", "n"],
    key: &["bucket"],
    version: "version",
    on_conflict_update: &[],
    patchable: &[
        Patchable::row("n"),
        Patchable::row("peak"),
        Patchable::own("first_by", "first_v"),
    ],
};

const SCHEMA: [&str; 2] = [
    "CREATE TABLE timers_it (timer_key TEXT PRIMARY KEY, due_at BIGINT NOT NULL, \
     version BIGINT NOT NULL)",
    "CREATE TABLE counts_it (bucket TEXT PRIMARY KEY, version BIGINT NOT NULL, n BIGINT, \
     peak BIGINT, first_by TEXT, first_v BIGINT)",
];

fn plan(id: &str, ops: Vec<Result<RowOp, PlanError>>) -> Planned {
    Planned {
        event_id: id.into(),
        ops: ops.into_iter().map(Result::unwrap).collect(),
    }
}

fn schedule(key: &str, due: i64, v: i64) -> Result<RowOp, PlanError> {
    TIMERS.row([
        ("timer_key", key.into()),
        ("due_at", due.into()),
        ("version", v.into()),
    ])
}

fn moved(key: &str, due: i64, v: i64) -> Result<RowOp, PlanError> {
    TIMERS.patch(vec![key.into()], v).set("due_at", due).build()
}

fn cancel(key: &str, v: i64) -> Result<RowOp, PlanError> {
    TIMERS.delete(vec![key.into()], v)
}

fn hit(id: &str, v: i64, by: &str) -> Planned {
    let zero = [
        ("bucket", "b".into()),
        ("version", 0.into()),
        ("n", 0.into()),
    ];
    plan(
        id,
        vec![
            COUNTS.insert_absent(zero),
            (COUNTS.patch(vec!["b".into()], v))
                .add("n", 1)
                .max("peak", v * 10)
                .set_if_null("first_by", by)
                .build(),
        ],
    )
}

async fn every_kind(store: Store) {
    for statement in SCHEMA {
        sqlx::query(statement).execute(store.pool()).await.unwrap();
    }
    let batch = [
        plan("t1", vec![schedule("sla", 100, 1), schedule("nag", 50, 1)]),
        plan("t2", vec![moved("sla", 200, 2), cancel("nag", 2)]),
        plan("t3", vec![schedule("old", 10, 1), moved("sla", 300, 3)]),
    ];
    store.apply_rows("kinds", &batch).await.unwrap();
    // Stale ops of a newer row change nothing; a cancel removes an older one.
    let late = [
        plan("t0", vec![moved("sla", 1, 1), cancel("sla", 2)]),
        plan("t4", vec![cancel("old", 4)]),
    ];
    store.apply_rows("kinds", &late).await.unwrap();
    let timers: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT timer_key, due_at, version FROM timers_it ORDER BY timer_key")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(timers, vec![("sla".into(), 300, 3)]);

    store
        .apply_rows("kinds", &[hit("h5", 5, "ann"), hit("h6", 6, "bob")])
        .await
        .unwrap();
    let again = [
        hit("h3", 3, "cid"),
        hit("h6", 6, "bob"),
        hit("h7", 7, "dan"),
    ];
    store.apply_rows("kinds", &again).await.unwrap();
    let row: (i64, i64, i64, String, i64) =
        sqlx::query_as("SELECT version, n, peak, first_by, first_v FROM counts_it")
            .fetch_one(store.pool())
            .await
            .unwrap();
    // Adds count every event once, late or not; max and set-if-null keep
    // their guards (the late h3 is older than the row: its max and its
    // set-if-null are dropped).
    assert_eq!(row, (7, 4, 70, "ann".into(), 7));
    let bad = COUNTS.row([
        ("bucket", Value::from("b")),
        ("version", "x".into()),
        ("n", 0.into()),
    ]);
    assert!(matches!(bad, Err(PlanError::Invalid(_))), "{bad:?}");
}

#[tokio::test]
async fn rows_postgres_every_op_and_set_kind() {
    every_kind(pg_store().await).await;
}

#[tokio::test]
async fn rows_sqlite_every_op_and_set_kind() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("kinds.db").display()
    );
    every_kind(Store::connect(&url, 1).await.expect("sqlite store")).await;
}
