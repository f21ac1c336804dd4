//! The database: one sqlx pool over PostgreSQL (production) or SQLite (the
//! embedded default), the migrations for both, and the processed-events ledger.
//!
//! Queries use `$N` placeholders, which both backends accept, and only the
//! column types the `Any` driver carries (TEXT, BIGINT, DOUBLE, BOOLEAN).

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod migrations;
pub mod rows;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Transaction};

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL, the production store.
    Postgres,
    /// SQLite, the embedded default.
    Sqlite,
}

/// Failures of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The event id is already in this flavor's ledger.
    #[error("event already processed by this flavor")]
    AlreadyProcessed,
    /// The flavor needs a store but none is configured.
    #[error("no store configured")]
    NotConfigured,
    /// The URL names neither PostgreSQL nor SQLite.
    #[error("unsupported store url scheme (expected postgres:// or sqlite:)")]
    UnsupportedUrl,
    /// A database error.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A pool plus the backend it talks to.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// A transaction that already holds one event's ledger row.
pub struct LedgerTx {
    tx: Transaction<'static, sqlx::Any>,
}

impl LedgerTx {
    /// The connection to write effects through.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit().await?)
    }
}

/// Why [`Store::open`] failed, with the URL's password masked.
#[derive(Debug, thiserror::Error)]
#[error("store {url}: {source}")]
pub struct OpenError {
    /// The URL with its password masked.
    pub url: String,
    /// Why.
    pub source: StoreError,
}

impl Store {
    /// A migrated SQLite store in a fresh temporary directory, for unit
    /// tests; the directory (and the database) lives as long as the guard.
    #[cfg(test)]
    pub(crate) async fn temp_sqlite(connections: u32) -> (tempfile::TempDir, Self) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Self::connect(&url, connections)
            .await
            .expect("sqlite store");
        (dir, store)
    }

    /// The store `settings` name (`store.url`, `store.max_connections`),
    /// connected and migrated: what `run` and every tool open.
    pub async fn open(settings: &crate::settings::StoreSettings) -> Result<Self, OpenError> {
        Self::connect(settings.url.expose(), settings.max_connections)
            .await
            .map_err(|source| OpenError {
                url: settings.redacted_url(),
                source,
            })
    }

    /// Connects and runs the migrations of the backend the URL names.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            // A broken connection shows up as a failed query, which retries;
            // pinging on every acquire cost a round trip per event.
            .test_before_acquire(false)
            .after_connect(move |conn, _| Box::pin(async move { tune(conn, backend).await }))
            .connect_with(options)
            .await?;
        let store = Self { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        migrations::migrator(self.backend)
            .await?
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// The pool, for reads and for flavors' own queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the store answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }

    /// Whether `flavor` already processed `event_id`.
    pub async fn seen(&self, flavor: &str, event_id: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM processed_events WHERE flavor = $1 AND event_id = $2")
                .bind(flavor)
                .bind(event_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// Records that `flavor` processed `event_id` (idempotent).
    pub async fn record(&self, flavor: &str, event_id: &str) -> Result<(), StoreError> {
        insert_ledger_row(&self.pool, flavor, event_id).await?;
        Ok(())
    }

    /// Which of `event_ids` `flavor` already processed (one query per chunk).
    pub async fn seen_many(
        &self,
        flavor: &str,
        event_ids: &[&str],
    ) -> Result<HashSet<String>, StoreError> {
        let mut seen = HashSet::new();
        for chunk in event_ids.chunks(LEDGER_CHUNK) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT event_id FROM processed_events WHERE flavor = $1 AND event_id IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query_as::<_, (String,)>(&sql).bind(flavor);
            for id in chunk {
                query = query.bind(*id);
            }
            seen.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(|(id,)| id),
            );
        }
        Ok(seen)
    }

    /// Records that `flavor` processed all of `event_ids` (idempotent; one
    /// statement per chunk).
    pub async fn record_many(&self, flavor: &str, event_ids: &[&str]) -> Result<(), StoreError> {
        let now = now_ms();
        for chunk in event_ids.chunks(LEDGER_CHUNK) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("($1, ${}, $2)", i + 3))
                .collect();
            let sql = format!(
                "INSERT INTO processed_events (flavor, event_id, processed_at) VALUES {} ON CONFLICT DO NOTHING",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(flavor).bind(now);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Opens a transaction and claims the event's ledger row in it.
    pub async fn begin_claim(&self, flavor: &str, event_id: &str) -> Result<LedgerTx, StoreError> {
        let mut tx = self.pool.begin().await?;
        if insert_ledger_row(&mut *tx, flavor, event_id).await? == 0 {
            return Err(StoreError::AlreadyProcessed);
        }
        Ok(LedgerTx { tx })
    }

    /// Deletes ledger rows and dead-letter claims (`runtime::dlq::claims`)
    /// older than `horizon`: both only matter for a record redelivered, and
    /// one older than the horizon is past the promise. Returns how many went.
    pub async fn expire_dedup_rows(&self, horizon: Duration) -> Result<u64, StoreError> {
        let cutoff = now_ms() - horizon.as_millis() as i64;
        let mut gone = 0;
        for sql in [
            "DELETE FROM processed_events WHERE processed_at < $1",
            "DELETE FROM dead_letter_claims WHERE claimed_at < $1",
        ] {
            let done = sqlx::query(sql).bind(cutoff).execute(&self.pool).await?;
            gone += done.rows_affected();
        }
        Ok(gone)
    }
}

#[async_trait::async_trait]
impl crate::telemetry::Ping for Store {
    async fn ping(&self) -> Result<(), String> {
        Store::ping(self).await.map_err(|e| e.to_string())
    }
}

/// Ledger rows per statement: far below both backends' parameter limits.
const LEDGER_CHUNK: usize = 300;

async fn insert_ledger_row<'e, E>(exec: E, flavor: &str, event_id: &str) -> Result<u64, sqlx::Error>
where
    E: Executor<'e, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "INSERT INTO processed_events (flavor, event_id, processed_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(flavor)
    .bind(event_id)
    .bind(now_ms())
    .execute(exec)
    .await?;
    Ok(done.rows_affected())
}

/// Which backend a URL names.
pub fn backend_of(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Backend::Postgres)
    } else if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

/// SQLite gets WAL and a busy timeout so concurrent writers wait instead of failing.
async fn tune(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        conn.execute(
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
        )
        .await?;
    }
    Ok(())
}

/// A duration in whole milliseconds, saturating (the store's time unit).
pub fn ms_of(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
