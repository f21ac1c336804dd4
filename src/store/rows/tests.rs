use super::sql::{patch_sql, upsert_sql, PatchGroup};
use super::*;

static T: Table = Table {
    name: "t",
    columns: &["id", "v", "body"],
    key: &["id"],
    version: "v",
    on_conflict_update: &["v", "body"],
};

fn up(id: &str, v: i64, body: &str) -> RowOp {
    RowOp::Upsert {
        table: &T,
        values: vec![id.into(), v.into(), body.into()],
    }
}

fn patch(id: &str, v: i64, body: &str) -> RowOp {
    RowOp::Patch {
        table: &T,
        key: vec![id.into()],
        version: v,
        set: vec![("body", body.into())],
        only_if: Some("t.body <> ''"),
    }
}

#[test]
fn ops_on_one_row_collapse_to_the_highest_version_in_any_order() {
    let ops = [
        up("a", 3, "x"),
        up("b", 1, "y"),
        up("a", 5, "z"),
        up("a", 4, "w"),
    ];
    let (upserts, patches) = collapse(ops.iter());
    assert!(patches.is_empty());
    assert_eq!(upserts.len(), 1, "one statement for the table");
    let rows = &upserts[0].1;
    assert_eq!(rows.len(), 2, "one row per key");
    assert_eq!(
        rows[0],
        &[Value::from("a"), Value::Int(5), Value::from("z")][..]
    );
    assert_eq!(
        rows[1],
        &[Value::from("b"), Value::Int(1), Value::from("y")][..]
    );
}

#[test]
fn patches_group_by_columns_and_keep_the_newest_per_row() {
    let ops = [patch("a", 7, "p"), patch("a", 6, "q"), patch("b", 2, "r")];
    let (_, patches) = collapse(ops.iter());
    assert_eq!(patches.len(), 1);
    let rows = &patches[0].1;
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].version, rows[0].values[0]), (7, &Value::from("p")));
}

#[test]
fn statements_guard_every_write_by_version() {
    let sql = upsert_sql(&T, 2);
    assert_eq!(
        sql,
        "INSERT INTO t (id, v, body) VALUES ($1, $2, $3), ($4, $5, $6) ON CONFLICT (id) \
         DO UPDATE SET v = excluded.v, body = excluded.body WHERE t.v < excluded.v"
    );
    let group = PatchGroup {
        table: &T,
        columns: vec!["body"],
        only_if: Some("t.body <> ''"),
    };
    assert_eq!(
        patch_sql(&group, 2),
        "UPDATE t SET v = v.column2, body = v.column3 FROM (VALUES ($1, $2, $3), ($4, $5, $6)) AS v \
         WHERE t.id = v.column1 AND t.v < v.column2 AND (t.body <> '') RETURNING t.id"
    );
}
