//! Databases migrated by earlier layouts and versions open with the
//! embedded migrator, their rows carried over.

use case_event_handler::store::Store;

use crate::helpers::*;

/// A PostgreSQL database migrated from the one-directory layout
/// (`sqlx::migrate!("migrations/postgres")` before `migrations/common/`)
/// opens with the embedded migrator: same versions, same checksums.
#[tokio::test]
async fn store_a_pg_database_migrated_before_common_opens_unchanged() {
    let url = fresh_pg().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let old = tempfile::tempdir().expect("tempdir");
    for dir in [root.join("common"), root.join("postgres")] {
        for entry in std::fs::read_dir(&dir).into_iter().flatten() {
            let path = entry.expect("an entry").path();
            std::fs::copy(&path, old.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.expect("pg");
    let migrator = sqlx::migrate::Migrator::new(old.path())
        .await
        .expect("resolve");
    migrator.run(&pool).await.expect("the directory migrator");
    pool.close().await;
    let store = Store::connect(&url, 1)
        .await
        .expect("the embedded migrator");
    let applied: Vec<(i64,)> =
        sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(store.pool())
            .await
            .expect("applied");
    let want: Vec<(i64,)> = migrator.iter().map(|m| (m.version,)).collect();
    assert_eq!(applied, want);
    assert!(applied.len() >= 7, "{applied:?}");
}

/// One intent row: kind, entity key, target, state, external id, stale, case key.
type IntentRow = (String, String, String, String, Option<String>, i64, String);

/// A database at migration 7 with Jira rows in its own tables: a linked
/// case with a digest, a sent and a pending comment, an inbound mark, and
/// an unresolved create.
const JIRA_ROWS_AT_V7: &str = "
INSERT INTO jira_links (case_id, project_id, case_key, org_id, state, stale, issue_id, issue_key, issue_url, intent_at, updated_at)
VALUES ('c1', 'p1', 'SEC-1', 'o1', 'linked', 1, '10001', 'OPS-1', 'https://x/browse/OPS-1', 100, 200),
       ('c2', 'p1', 'SEC-2', 'o1', 'creating', 0, NULL, NULL, NULL, 300, 300);
INSERT INTO jira_field_hashes (case_id, field, hash, updated_at)
VALUES ('c1', 'summary', 'h-summary', 210), ('c1', 'comment:cell-a', 'sent:5001', 220),
       ('c1', 'comment:cell-b', 'pending:ev-9', 230);
INSERT INTO jira_inbound_marks (issue_id, field, updated_ms) VALUES ('10001', 'priority', 777);
INSERT INTO jira_webhook_deliveries (delivery_id, issue_id, received_at, state) VALUES ('wh-1', '10001', 500, 'done');
";

/// Jira's rows are carried into the kit's tables (intents, sync_digests,
/// sync_marks, inbound_deliveries), not dropped, on both backends; the old
/// tables are gone.
#[tokio::test]
async fn store_jira_rows_carry_over_into_the_kit_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("v7.db").display());
    for url in [fresh_pg().await, sqlite] {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
        let v7 = tempfile::tempdir().expect("tempdir");
        let common = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/common");
        for entry in std::fs::read_dir(&common).expect("migrations") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.as_str() < "0008" {
                std::fs::copy(&path, v7.path().join(&name)).unwrap();
            }
        }
        let old = sqlx::migrate::Migrator::new(v7.path()).await.expect("v7");
        old.run(&pool).await.expect("migrate to 7");
        for statement in JIRA_ROWS_AT_V7.split(';').filter(|s| !s.trim().is_empty()) {
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect(statement);
        }
        pool.close().await;
        let store = Store::connect(&url, 1).await.expect("migrate on");
        let intents: Vec<IntentRow> = sqlx::query_as(
            "SELECT kind, entity_key, target, state, ext_id, stale, case_key FROM intents \
             WHERE flavor = 'jira' ORDER BY kind, entity_key",
        )
        .fetch_all(store.pool())
        .await
        .expect("intents");
        let row = |k: &str, e: &str, t: &str, s: &str, x: Option<&str>, stale: i64, ck: &str| {
            (
                k.into(),
                e.into(),
                t.into(),
                s.into(),
                x.map(str::to_string),
                stale,
                ck.into(),
            )
        };
        assert_eq!(
            intents,
            vec![
                row("case", "c1", "issue", "linked", Some("10001"), 1, "SEC-1"),
                row("case", "c2", "issue", "claimed", None, 0, "SEC-2"),
                row(
                    "comment",
                    "cell-a",
                    "10001",
                    "linked",
                    Some("5001"),
                    0,
                    "SEC-1"
                ),
                row("comment", "cell-b", "10001", "claimed", None, 0, "SEC-1"),
            ],
            "{url}"
        );
        let digests: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT entity_key, field, digest FROM sync_digests WHERE flavor = 'jira'",
        )
        .fetch_all(store.pool())
        .await
        .expect("digests");
        assert_eq!(
            digests,
            vec![("c1".into(), "summary".into(), "h-summary".into())]
        );
        let marks: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT ext_key, field, mark FROM sync_marks WHERE flavor = 'jira'")
                .fetch_all(store.pool())
                .await
                .expect("marks");
        assert_eq!(marks, vec![("10001".into(), "priority".into(), 777)]);
        let gone = sqlx::query("SELECT 1 FROM jira_links")
            .fetch_all(store.pool())
            .await;
        assert!(gone.is_err(), "the old table is dropped once carried over");
    }
}
