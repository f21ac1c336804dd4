use super::op::Op;
use super::rounds::{steps, Step};
use super::sql::{delete_sql, patch_sql, upsert_sql, PatchShape};
use super::*;

static T: Table = Table {
    name: "t",
    columns: &["id", "v", "body"],
    key: &["id"],
    version: "v",
    on_conflict_update: &["v", "body"],
    patchable: &[
        Patchable::row("body"),
        Patchable::own("seen_at", "seen_v"),
        Patchable::row("hits"),
        Patchable::row("peak"),
    ],
};

fn up(id: &str, v: i64, body: &str) -> RowOp {
    T.row([("body", body.into()), ("id", id.into()), ("v", v.into())])
        .unwrap()
}

fn patch(id: &str, v: i64, body: &str) -> RowOp {
    T.patch(vec![id.into()], v)
        .set("body", body)
        .only_if(Cond::Unset("seen_at"))
        .build()
        .unwrap()
}

#[test]
fn rows_are_by_column_name_and_every_mistake_is_named() {
    let op = up("a", 3, "x");
    assert_eq!(op.value("body"), Some(&Value::from("x")));
    assert_eq!((op.key(), op.version()), (vec![Value::from("a")], 3));
    let err = |r: Result<RowOp, PlanError>| r.unwrap_err().to_string();
    assert_eq!(
        err(T.row([("id", "a".into()), ("v", 1.into())])),
        "t: no value for column body"
    );
    let extra = [("id", "a".into()), ("v", 1.into()), ("body", "b".into())];
    let extra = extra.into_iter().chain([("nope", Value::Null)]);
    assert_eq!(err(T.row(extra)), "t has no column nope");
    let twice = [("id", "a".into()), ("id", "b".into())];
    assert_eq!(err(T.row(twice)), "t: column id given twice");
    let p = || T.patch(vec!["a".into()], 2);
    assert_eq!(err(p().set("v", 9).build()), "t.v is not patchable");
    assert_eq!(err(p().set("zz", 9).build()), "t has no column zz");
    assert_eq!(
        err(p().set("body", "x").only_if(Cond::Unset("zz")).build()),
        "t has no column zz"
    );
    assert_eq!(
        err(T.patch(vec![], 2).set("body", "x").build()),
        "t: a key of 0 values, the table's has 1"
    );
    assert!(matches!(
        T.delete(vec!["a".into(), "b".into()], 1),
        Err(PlanError::KeyArity {
            got: 2,
            want: 1,
            ..
        })
    ));
}

/// The statements of `ops`, as (kind, [(key, version)]).
fn plan_of(ops: &[RowOp]) -> Vec<(&'static str, Vec<(String, i64)>)> {
    let row = |values: &[Value]| match (&values[0], &values[1]) {
        (Value::Text(k), Value::Int(v)) => (k.clone(), *v),
        _ => panic!("a T row"),
    };
    let key = |k: &[Value]| match &k[0] {
        Value::Text(k) => k.clone(),
        _ => panic!("a T key"),
    };
    (steps(ops.iter()).into_iter())
        .map(|s| match s {
            Step::Upsert(_, rows) => ("upsert", rows.iter().map(|r| row(r)).collect()),
            Step::Insert(_, rows) => ("insert", rows.iter().map(|r| row(r)).collect()),
            Step::Patch(_, rows) => (
                "patch",
                rows.iter().map(|p| (key(&p.key), p.version)).collect(),
            ),
            Step::Delete(_, rows) => ("delete", rows.iter().map(|(k, v)| (key(k), *v)).collect()),
        })
        .collect()
}

#[test]
fn a_rows_ops_run_in_version_order_one_statement_per_shape_when_possible() {
    let s = |k: &str, v: i64| (k.to_string(), v);
    let ops = [
        patch("a", 7, "p"),
        up("b", 1, "y"),
        up("a", 3, "x"),
        patch("a", 6, "q"),
        patch("b", 2, "r"),
    ];
    assert_eq!(
        plan_of(&ops),
        [
            ("upsert", vec![s("a", 3), s("b", 1)]),
            ("patch", vec![s("a", 6), s("b", 2)]),
            ("patch", vec![s("a", 7)]),
        ],
        "a row twice in one statement never; in version order always"
    );
    // A tombstone of c first, then an edit and a tombstone of d: d's
    // tombstone waits for a second round (the defect of grouping by shape
    // in first-seen order: every tombstone ran before every edit).
    let tomb = |k: &str, v: i64| {
        let p = T.patch(vec![k.into()], v).set("body", "").set("seen_at", v);
        p.build().unwrap()
    };
    let ops = [
        tomb("c", 3),
        patch("d", 5, "edit"),
        tomb("d", 6),
        patch("f", 1, "x"),
    ];
    assert_eq!(
        plan_of(&ops),
        [
            ("patch", vec![s("c", 3)]),
            ("patch", vec![s("d", 5), s("f", 1)]),
            ("patch", vec![s("d", 6)]),
        ]
    );
    // Deletes come after patches in a round: no second round.
    let gone = |k: &str, v: i64| T.delete(vec![k.into()], v).unwrap();
    let ops = [gone("c", 3), patch("d", 5, "edit"), gone("d", 6)];
    assert_eq!(
        plan_of(&ops),
        [
            ("patch", vec![s("d", 5)]),
            ("delete", vec![s("c", 3), s("d", 6)]),
        ]
    );
}

#[test]
fn statements_guard_each_column_by_its_own_version() {
    assert_eq!(
        upsert_sql(&T, 2),
        "INSERT INTO t (id, v, body) VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT (id) \
         DO UPDATE SET v = excluded.v, body = excluded.body WHERE t.v < excluded.v"
    );
    // A replace leaves a column with a newer guard of its own (and the guard).
    static OWN: Table = Table {
        name: "o",
        columns: &["id", "v", "seen_at", "seen_v"],
        key: &["id"],
        version: "v",
        on_conflict_update: &["v", "seen_at", "seen_v"],
        patchable: &[Patchable::own("seen_at", "seen_v")],
    };
    let when = "CASE WHEN o.seen_v IS NULL OR o.seen_v < excluded.seen_v";
    assert_eq!(
        upsert_sql(&OWN, 1),
        format!(
            "INSERT INTO o (id, v, seen_at, seen_v) VALUES ($1, $2, $3, $4) ON CONFLICT (id) \
             DO UPDATE SET v = excluded.v, seen_at = {when} THEN excluded.seen_at ELSE o.seen_at END, \
             seen_v = {when} THEN excluded.seen_v ELSE o.seen_v END WHERE o.v < excluded.v"
        )
    );
    let op = T
        .patch(vec!["a".into()], 4)
        .set("body", "b")
        .set("seen_at", 9);
    let Op::Patch(p) = op.only_if(Cond::Unset("seen_at")).build().unwrap().0 else {
        panic!("a patch")
    };
    let cond = "(t.seen_at IS NULL OR t.seen_v > v.column2)";
    let g = |c: &str| format!("(t.{c} IS NULL OR t.{c} < v.column2) AND {cond}");
    assert_eq!(
        patch_sql(&PatchShape::of(&p), 1),
        format!(
            "UPDATE t SET body = CASE WHEN {} THEN v.column3 ELSE t.body END, \
             seen_at = CASE WHEN {} THEN v.column4 ELSE t.seen_at END, \
             v = CASE WHEN {} THEN v.column2 ELSE t.v END, \
             seen_v = CASE WHEN {} THEN v.column2 ELSE t.seen_v END \
             FROM (VALUES ($1, $2, $3, $4)) AS v WHERE t.id = v.column1 RETURNING t.id",
            g("v"),
            g("seen_v"),
            g("v"),
            g("seen_v")
        )
    );
    let op = T.patch(vec!["a".into()], 4).add("hits", -1).max("peak", 7);
    let Op::Patch(p) = op.build().unwrap().0 else {
        panic!("a patch")
    };
    assert_eq!(
        patch_sql(&PatchShape::of(&p), 1),
        "UPDATE t SET hits = COALESCE(t.hits, 0) + v.column3, \
         peak = CASE WHEN (t.v IS NULL OR t.v < v.column2) AND (t.peak IS NULL OR t.peak < v.column4) \
         THEN v.column4 ELSE t.peak END, \
         v = CASE WHEN (t.v IS NULL OR t.v < v.column2) THEN v.column2 ELSE t.v END \
         FROM (VALUES ($1, $2, $3, $4)) AS v WHERE t.id = v.column1 RETURNING t.id",
        "an increment has no version guard, a max keeps the row's"
    );
    assert_eq!(
        delete_sql(&T, 2),
        "DELETE FROM t WHERE EXISTS (SELECT 1 FROM (VALUES ($1, $2), ($3, $4)) AS v \
         WHERE t.id = v.column1 AND t.v <= v.column2)"
    );
}

#[test]
fn parked_patches_of_the_old_format_are_read_or_dropped() {
    let old = parked::decode(
        &T,
        r#"["a"]"#,
        5,
        r#"["body"]"#,
        r#"["x"]"#,
        Some("t.seen_at IS NULL".into()),
    )
    .expect("the old format");
    assert_eq!(old.cond, Some(Cond::Unset("seen_at")));
    assert_eq!(old.sets, vec![("body", op::Set::Value("x".into()))]);
    let new = parked::decode(
        &T,
        r#"["a"]"#,
        5,
        r#"[{"column":"hits","set":"add"}]"#,
        "[2]",
        Some(r#"{"unset":"seen_at"}"#.into()),
    );
    assert_eq!(new.expect("new").sets, vec![("hits", op::Set::Add(2))]);
    let raw_sql = Some("t.body <> ''".to_string());
    assert!(parked::decode(&T, r#"["a"]"#, 5, r#"["body"]"#, r#"["x"]"#, raw_sql).is_none());
    assert!(parked::decode(&T, r#"["a"]"#, 5, r#"["v"]"#, "[1]", None).is_none());
}

/// A timers-like table (Kit III-b): schedule, move and cancel are row ops,
/// applied in the batch's transaction like any other.
static TIMERS: Table = Table {
    name: "timers_test",
    columns: &["timer_key", "due_at", "version", "fired"],
    key: &["timer_key"],
    version: "version",
    on_conflict_update: &["due_at", "version", "fired"],
    patchable: &[Patchable::row("due_at"), Patchable::row("fired")],
};

#[tokio::test]
async fn timers_schedule_move_and_cancel_as_row_ops() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = Store::connect(&url, 1).await.unwrap();
    sqlx::query(
        "CREATE TABLE timers_test (timer_key TEXT PRIMARY KEY, due_at BIGINT NOT NULL, \
         version BIGINT NOT NULL, fired BIGINT)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let schedule = |key: &str, due: i64, v: i64| {
        let row = [("timer_key", key.into()), ("due_at", due.into())];
        TIMERS.row(
            row.into_iter()
                .chain([("version", v.into()), ("fired", Value::Int(0))]),
        )
    };
    let moved =
        |key: &str, due: i64, v: i64| TIMERS.patch(vec![key.into()], v).set("due_at", due).build();
    let plan = |id: &str, ops: Vec<Result<RowOp, PlanError>>| Planned {
        event_id: id.into(),
        ops: ops.into_iter().map(Result::unwrap).collect(),
    };
    let batch = [
        plan("e1", vec![schedule("sla", 100, 1), schedule("nag", 50, 1)]),
        plan(
            "e2",
            vec![moved("sla", 200, 2), TIMERS.delete(vec!["nag".into()], 2)],
        ),
        plan(
            "e3",
            vec![TIMERS.patch(vec!["sla".into()], 3).add("fired", 1).build()],
        ),
    ];
    store.apply_rows("timers", &batch).await.unwrap();
    // A stale move and a stale cancel of a newer schedule change nothing.
    let late = [plan(
        "e0",
        vec![moved("sla", 10, 1), TIMERS.delete(vec!["sla".into()], 1)],
    )];
    store.apply_rows("timers", &late).await.unwrap();
    let rows: Vec<(String, i64, i64, i64)> =
        sqlx::query_as("SELECT timer_key, due_at, version, fired FROM timers_test")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows, vec![("sla".to_string(), 200, 2, 1)]);
}

/// A counter row (analytic-like): made if absent, then incremented; a late
/// event's +1 counts (no version guard), a replayed one does not (ledger).
static COUNTS: Table = Table {
    name: "counts_test",
    columns: &["bucket", "version", "n"],
    key: &["bucket"],
    version: "version",
    on_conflict_update: &[],
    patchable: &[Patchable::row("n"), Patchable::row("peak")],
};

#[tokio::test]
async fn counters_count_late_events_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let store = Store::connect(&url, 1).await.unwrap();
    sqlx::query(
        "CREATE TABLE counts_test (bucket TEXT PRIMARY KEY, version BIGINT NOT NULL, \
         n BIGINT, peak BIGINT)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let bump = |id: &str, v: i64, by: i64| Planned {
        event_id: id.into(),
        ops: vec![
            (COUNTS.insert_absent([
                ("bucket", "b".into()),
                ("version", 0.into()),
                ("n", 0.into()),
            ]))
            .unwrap(),
            COUNTS
                .patch(vec!["b".into()], v)
                .add("n", by)
                .max("peak", v * 10)
                .build()
                .unwrap(),
        ],
    };
    store
        .apply_rows("c", &[bump("e5", 5, 1), bump("e6", 6, 1)])
        .await
        .unwrap();
    store
        .apply_rows(
            "c",
            &[bump("e3", 3, 1), bump("e6", 6, 1), bump("e7", 7, -1)],
        )
        .await
        .unwrap();
    let row: (i64, i64, i64) = sqlx::query_as("SELECT version, n, peak FROM counts_test")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        row,
        (7, 2, 70),
        "+1 +1 +1(late) -1, the replayed e6 once; max guarded"
    );
}
