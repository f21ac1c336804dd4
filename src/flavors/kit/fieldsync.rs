//! Field-sync state of two-way integrations (integrations.md §7.3, §7.4),
//! on generic tables (`migrations/common/20261207214000_effect_state.sql`):
//!
//! - **digests** (`sync_digests`): per (flavor, entity, field) the digest of
//!   the value last synced either way. Outbound skips a write whose digest
//!   is recorded (no-op suppression); inbound drops a change whose digest is
//!   recorded (the echo of our own write).
//! - **marks** (`sync_marks`): per (flavor, external object, field) the
//!   newest inbound change applied, as the vendor's ordering key (Jira's
//!   `updated` in ms, ServiceNow's `sys_mod_count`): an older delivery never
//!   overrides a newer one.

use std::collections::BTreeMap;

use sqlx::{AnyPool, Row};

use crate::store::now_ms;

/// One field's value as synced: its name and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    pub field: String,
    pub digest: String,
}

/// The field-sync state of one flavor.
#[derive(Debug, Clone)]
pub struct FieldSync {
    pool: AnyPool,
    flavor: &'static str,
}

impl FieldSync {
    /// The state `flavor` keeps in the store behind `pool`.
    pub fn new(pool: AnyPool, flavor: &'static str) -> Self {
        Self { pool, flavor }
    }

    /// The last-synced digest per field of `entity`.
    pub async fn digests(&self, entity: &str) -> Result<BTreeMap<String, String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT field, digest FROM sync_digests WHERE flavor = $1 AND entity_key = $2",
        )
        .bind(self.flavor)
        .bind(entity)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("field")?, r.try_get("digest")?)))
            .collect()
    }

    /// Records the digests of fields just synced, in one transaction.
    pub async fn record(&self, entity: &str, synced: &[Synced]) -> Result<(), sqlx::Error> {
        if synced.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        for s in synced {
            sqlx::query(
                "INSERT INTO sync_digests (flavor, entity_key, field, digest, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (flavor, entity_key, field) \
                 DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
            )
            .bind(self.flavor)
            .bind(entity)
            .bind(&s.field)
            .bind(&s.digest)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Records `mark` as the newest inbound change of `ext_key`'s `field`
    /// unless a newer one was applied: `true` when this one is not older (a
    /// retry of the same delivery counts as not older).
    pub async fn advance(
        &self,
        ext_key: &str,
        field: &str,
        mark: i64,
    ) -> Result<bool, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO sync_marks (flavor, ext_key, field, mark, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (flavor, ext_key, field) DO UPDATE SET mark = excluded.mark, \
             updated_at = excluded.updated_at WHERE excluded.mark >= sync_marks.mark \
             RETURNING field",
        )
        .bind(self.flavor)
        .bind(ext_key)
        .bind(field)
        .bind(mark)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn synced(field: &str, digest: &str) -> Synced {
        Synced {
            field: field.into(),
            digest: digest.into(),
        }
    }

    #[tokio::test]
    async fn digests_are_per_flavor_entity_and_field_and_the_last_one_wins() {
        let (_dir, store) = Store::temp_sqlite(2).await;
        let jira = FieldSync::new(store.pool().clone(), "jira");
        let snow = FieldSync::new(store.pool().clone(), "snow-sync");
        jira.record("c1", &[synced("summary", "h1"), synced("priority", "p1")])
            .await
            .unwrap();
        jira.record("c1", &[synced("summary", "h2")]).await.unwrap();
        snow.record("c1", &[synced("summary", "s1")]).await.unwrap();
        let got = jira.digests("c1").await.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got["summary"].as_str(), got["priority"].as_str()),
            ("h2", "p1")
        );
        assert_eq!(snow.digests("c1").await.unwrap()["summary"], "s1");
        assert!(jira.digests("c2").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn marks_move_forward_only_and_a_repeat_is_not_older() {
        let (_dir, store) = Store::temp_sqlite(2).await;
        let marks = FieldSync::new(store.pool().clone(), "jira");
        assert!(marks.advance("10001", "priority", 200).await.unwrap());
        assert!(marks.advance("10001", "priority", 200).await.unwrap());
        assert!(!marks.advance("10001", "priority", 100).await.unwrap());
        assert!(marks.advance("10001", "summary", 100).await.unwrap());
        assert!(marks.advance("10001", "priority", 300).await.unwrap());
        let other = FieldSync::new(store.pool().clone(), "snow-sync");
        assert!(other.advance("10001", "priority", 1).await.unwrap());
    }
}
