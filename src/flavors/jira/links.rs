//! IO: the link table (case ↔ issue), the last-synced hashes and the webhook
//! deliveries, on PostgreSQL or SQLite (`migrations/*/0003_jira.sql`).
//!
//! Every write here commits on its own: each records an external effect that
//! already happened (or is about to), so it must survive a later failure.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, AnyPool, Row};

use crate::store::now_ms;

/// Where a link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// A create was sent (or is about to be) and its outcome is unknown.
    Creating,
    /// The issue is known.
    Linked,
}

/// One row of `jira_links`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub case_id: String,
    pub project_id: String,
    pub case_key: String,
    pub org_id: String,
    pub state: LinkState,
    pub stale: bool,
    pub issue_id: Option<String>,
    pub issue_key: Option<String>,
    pub issue_url: Option<String>,
    /// When the create intent was written (Unix ms).
    pub intent_at: i64,
}

/// An issue as Jira named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRef {
    pub id: String,
    pub key: String,
    pub url: String,
}

const COLUMNS: &str =
    "case_id, project_id, case_key, org_id, state, stale, issue_id, issue_key, issue_url, intent_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Link, sqlx::Error> {
    let state: String = row.try_get("state")?;
    Ok(Link {
        case_id: row.try_get("case_id")?,
        project_id: row.try_get("project_id")?,
        case_key: row.try_get("case_key")?,
        org_id: row.try_get("org_id")?,
        state: if state == "linked" {
            LinkState::Linked
        } else {
            LinkState::Creating
        },
        stale: row.try_get::<i64, _>("stale")? != 0,
        issue_id: row.try_get("issue_id")?,
        issue_key: row.try_get("issue_key")?,
        issue_url: row.try_get("issue_url")?,
        intent_at: row.try_get("intent_at")?,
    })
}

/// The link of a case.
pub async fn load(pool: &AnyPool, case_id: &str) -> Result<Option<Link>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jira_links WHERE case_id = $1");
    let row = sqlx::query(&sql).bind(case_id).fetch_optional(pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// The link of an issue (by Jira issue id).
pub async fn by_issue(pool: &AnyPool, issue_id: &str) -> Result<Option<Link>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jira_links WHERE issue_id = $1");
    let row = sqlx::query(&sql)
        .bind(issue_id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Writes the 'creating' intent; false when a row already exists.
pub async fn claim_create(pool: &AnyPool, link: &Link) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO jira_links (case_id, project_id, case_key, org_id, state, stale, intent_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'creating', 0, $5, $5) ON CONFLICT DO NOTHING",
    )
    .bind(&link.case_id)
    .bind(&link.project_id)
    .bind(&link.case_key)
    .bind(&link.org_id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Restarts the lookup window of a 'creating' row before creating again.
pub async fn renew_intent(pool: &AnyPool, case_id: &str) -> Result<(), sqlx::Error> {
    let now = now_ms();
    sqlx::query(
        "UPDATE jira_links SET intent_at = $1, updated_at = $1 WHERE case_id = $2 AND state = 'creating'",
    )
    .bind(now)
    .bind(case_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Removes a 'creating' row after Jira definitely created nothing.
pub async fn drop_intent(pool: &AnyPool, case_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM jira_links WHERE case_id = $1 AND state = 'creating'")
        .bind(case_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Records the issue of a case.
pub async fn set_linked(
    pool: &AnyPool,
    case_id: &str,
    issue: &IssueRef,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jira_links SET state = 'linked', issue_id = $1, issue_key = $2, issue_url = $3, \
         updated_at = $4 WHERE case_id = $5",
    )
    .bind(&issue.id)
    .bind(&issue.key)
    .bind(&issue.url)
    .bind(now_ms())
    .bind(case_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks the link stale: the issue is gone, or the case left the project.
pub async fn mark_stale(pool: &AnyPool, case_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jira_links SET stale = 1, updated_at = $1 WHERE case_id = $2")
        .bind(now_ms())
        .bind(case_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Touches the link inside the caller's (ledger) transaction.
pub async fn touch(conn: &mut AnyConnection, case_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jira_links SET updated_at = $1 WHERE case_id = $2")
        .bind(now_ms())
        .bind(case_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The last-synced hash per field of a case.
pub async fn hashes(
    pool: &AnyPool,
    case_id: &str,
) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let rows = sqlx::query("SELECT field, hash FROM jira_field_hashes WHERE case_id = $1")
        .bind(case_id)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("field")?, r.try_get("hash")?)))
        .collect()
}

/// Remembers the last-synced hash of one field.
pub async fn set_hash(
    pool: &AnyPool,
    case_id: &str,
    field: &str,
    hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO jira_field_hashes (case_id, field, hash, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (case_id, field) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
    )
    .bind(case_id)
    .bind(field)
    .bind(hash)
    .bind(now_ms())
    .execute(pool)
    .await?;
    Ok(())
}

/// Records `updated_ms` as the newest inbound change of an issue's field,
/// unless a newer one was applied already: `true` when this one is not
/// older (a retry of the same delivery counts as not older).
pub async fn advance_inbound(
    pool: &AnyPool,
    issue_id: &str,
    field: &str,
    updated_ms: i64,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO jira_inbound_marks (issue_id, field, updated_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (issue_id, field) DO UPDATE SET updated_ms = excluded.updated_ms \
         WHERE excluded.updated_ms >= jira_inbound_marks.updated_ms \
         RETURNING issue_id",
    )
    .bind(issue_id)
    .bind(field)
    .bind(updated_ms)
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

/// How long a claimed delivery is owned by the request that claimed it;
/// after that (the service crashed mid-way) a new copy may take it over.
pub const CLAIM_LEASE_MS: i64 = 60_000;

/// The outcome of claiming a delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This request handles it.
    Mine,
    /// Handled already, or being handled by another request.
    Taken,
}

/// Claims a webhook delivery in one statement: a new delivery, or one whose
/// claim outlived its lease, is this request's; any other copy is `Taken`.
pub async fn claim_delivery(
    pool: &AnyPool,
    delivery_id: &str,
    issue_id: &str,
) -> Result<Claim, sqlx::Error> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO jira_webhook_deliveries (delivery_id, issue_id, received_at, state) \
         VALUES ($1, $2, $3, 'claimed') \
         ON CONFLICT (delivery_id) DO UPDATE SET received_at = excluded.received_at \
         WHERE jira_webhook_deliveries.state = 'claimed' AND jira_webhook_deliveries.received_at < $4 \
         RETURNING delivery_id",
    )
    .bind(delivery_id)
    .bind(issue_id)
    .bind(now)
    .bind(now - CLAIM_LEASE_MS)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some(_) => Claim::Mine,
        None => Claim::Taken,
    })
}

/// Marks a claimed delivery handled: later copies are duplicates.
pub async fn finish_delivery(pool: &AnyPool, delivery_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jira_webhook_deliveries SET state = 'done' WHERE delivery_id = $1")
        .bind(delivery_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Gives a claim back after a failure, so Jira's next copy is handled.
pub async fn release_delivery(pool: &AnyPool, delivery_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM jira_webhook_deliveries WHERE delivery_id = $1 AND state = 'claimed'")
        .bind(delivery_id)
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn intent_link_hash_and_delivery_round_trip_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("j.db").display());
        let store = Store::connect(&url, 2).await.unwrap();
        let pool = store.pool();
        let link = Link {
            case_id: "c1".into(),
            project_id: "p1".into(),
            case_key: "SEC-1".into(),
            org_id: "o1".into(),
            state: LinkState::Creating,
            stale: false,
            issue_id: None,
            issue_key: None,
            issue_url: None,
            intent_at: 0,
        };
        assert!(claim_create(pool, &link).await.unwrap());
        assert!(
            !claim_create(pool, &link).await.unwrap(),
            "one intent per case"
        );
        let got = load(pool, "c1").await.unwrap().unwrap();
        assert_eq!(got.state, LinkState::Creating);
        let issue = IssueRef {
            id: "10001".into(),
            key: "OPS-1".into(),
            url: "https://x/browse/OPS-1".into(),
        };
        set_linked(pool, "c1", &issue).await.unwrap();
        drop_intent(pool, "c1").await.unwrap();
        let got = by_issue(pool, "10001").await.unwrap().unwrap();
        assert_eq!(
            (got.state, got.issue_key.as_deref()),
            (LinkState::Linked, Some("OPS-1"))
        );
        set_hash(pool, "c1", "summary", "h1").await.unwrap();
        set_hash(pool, "c1", "summary", "h2").await.unwrap();
        assert_eq!(hashes(pool, "c1").await.unwrap()["summary"], "h2");
        mark_stale(pool, "c1").await.unwrap();
        assert!(load(pool, "c1").await.unwrap().unwrap().stale);
        assert_eq!(
            claim_delivery(pool, "d1", "10001").await.unwrap(),
            Claim::Mine
        );
        assert_eq!(
            claim_delivery(pool, "d1", "10001").await.unwrap(),
            Claim::Taken
        );
        release_delivery(pool, "d1").await.unwrap();
        assert_eq!(
            claim_delivery(pool, "d1", "10001").await.unwrap(),
            Claim::Mine
        );
        finish_delivery(pool, "d1").await.unwrap();
        assert_eq!(
            claim_delivery(pool, "d1", "10001").await.unwrap(),
            Claim::Taken
        );
        release_delivery(pool, "d1").await.unwrap(); // a finished one stays
        assert_eq!(
            claim_delivery(pool, "d1", "10001").await.unwrap(),
            Claim::Taken
        );
        // A claim older than the lease (a crash mid-way) is taken over.
        claim_delivery(pool, "d2", "10002").await.unwrap();
        let old = now_ms() - CLAIM_LEASE_MS - 1;
        sqlx::query("UPDATE jira_webhook_deliveries SET received_at = $1 WHERE delivery_id = 'd2'")
            .bind(old)
            .execute(pool)
            .await
            .unwrap();
        assert_eq!(
            claim_delivery(pool, "d2", "10002").await.unwrap(),
            Claim::Mine
        );
        // Inbound marks: newer or equal goes on, older does not.
        assert!(advance_inbound(pool, "10001", "priority", 200)
            .await
            .unwrap());
        assert!(advance_inbound(pool, "10001", "priority", 200)
            .await
            .unwrap());
        assert!(!advance_inbound(pool, "10001", "priority", 100)
            .await
            .unwrap());
        assert!(advance_inbound(pool, "10001", "summary", 100)
            .await
            .unwrap());
        assert!(advance_inbound(pool, "10001", "priority", 300)
            .await
            .unwrap());
    }
}
