//! Leasing due deliveries, one statement per batch of destinations on
//! PostgreSQL and SQLite (sqlx Any, `$n` placeholders, ms times).
//!
//! [`lease_due`] guarantees:
//! - order per (destination, case): a row is leased only when no row of its
//!   (destination, case) before it (lower `seq`, then lower delivery id) is
//!   still `pending` or `leased`, and one statement leases at most the head
//!   of each; `delivered` and `dead` rows hold nothing up;
//! - isolation per destination: each destination is a branch of its own,
//!   read in due order from the `deliveries_due` index, so a destination
//!   with a deep backlog costs its own branch only, and a disabled or held
//!   destination's branch is empty (PostgreSQL checks that once, before
//!   reading rows). Rows waiting behind a retried head are out of the due
//!   range (`outcome::retry_at` moves them); rows waiting behind a head in
//!   flight are read and passed over by each lease of their destination
//!   (80 ms per lease with 18,000 of them on PostgreSQL);
//! - exclusivity: on PostgreSQL each branch locks what it picks and skips
//!   rows another leaser holds (`FOR UPDATE SKIP LOCKED`: leasers never wait
//!   on, or deadlock over, each other's rows), and the `UPDATE … RETURNING`
//!   re-checks the state; SQLite has one writer at a time. So of concurrent
//!   leasers exactly one gets a row; a lease is a fence (`leased_until`), and
//!   a leaser that crashed leaves a row whose lease runs out and is taken
//!   over by the next lease.

use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::rows::COLUMNS;

/// Destinations per statement: one parameter each, and two branches.
const CHUNK: usize = 100;

/// A delivery row as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The flavor that owns it.
    pub flavor: String,
    /// The destination instance.
    pub destination: String,
    /// The idempotency key the destination sees.
    pub delivery_id: String,
    /// The case: the ordering key.
    pub case_key: String,
    /// Its order within (destination, case).
    pub seq: i64,
    /// What the destination gets.
    pub payload: serde_json::Value,
    /// `pending`, `leased`, `delivered` or `dead`.
    pub state: String,
    /// Attempts finished so far.
    pub attempts: i64,
    /// When it is due (ms).
    pub next_at: i64,
    /// Until when the lease holds (ms; 0 unleased): the outcome's fence.
    pub leased_until: i64,
    /// The last failure (empty when none), or why it is dead.
    pub last_error: String,
    /// The enqueueing event's time (ms): the horizon runs from it.
    pub created_at: i64,
    /// When it was delivered (ms; 0 not yet).
    pub delivered_at: i64,
    /// The enqueueing event's id.
    pub event_id: String,
    /// The enqueueing event's correlation id.
    pub correlation_id: String,
    /// The enqueueing event's chain depth.
    pub chain_depth: i64,
}

/// Why deliveries could not be read, leased or updated.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryStoreError {
    /// A database error.
    #[error("deliveries: {0}")]
    Sql(#[from] sqlx::Error),
    /// A row whose payload is not JSON.
    #[error("delivery {destination}/{delivery_id}: payload: {source}")]
    Payload {
        /// The destination.
        destination: String,
        /// The delivery.
        delivery_id: String,
        /// Why.
        source: serde_json::Error,
    },
}

/// Which destinations a lease serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destinations<'a> {
    /// Every destination with rows (listed first, see [`destinations`]).
    All,
    /// These (a per-destination worker's own).
    Only(&'a [&'a str]),
}

/// Leases, until `now_ms + lease`, up to `limit` rows of `flavor` due at
/// `now_ms` (pending, or leased with a lease that ran out) on
/// `destinations`, each the head of its (destination, case), skipping
/// disabled destinations and those held past `now_ms`; returns them in due
/// order. One statement per 100 destinations (`All` lists them first).
pub async fn lease_due(
    pool: &AnyPool,
    flavor: &str,
    destinations: Destinations<'_>,
    now_ms: i64,
    limit: usize,
    lease: Duration,
) -> Result<Vec<Delivery>, DeliveryStoreError> {
    let listed;
    let names: Vec<&str> = match destinations {
        Destinations::Only(names) => names.to_vec(),
        Destinations::All => {
            listed = self::destinations(pool, flavor).await?;
            listed.iter().map(String::as_str).collect()
        }
    };
    let rooms: Vec<Room<'_>> = (names.iter())
        .map(|destination| Room { destination, limit })
        .collect();
    lease_rooms(pool, flavor, &rooms, now_ms, limit, lease).await
}

/// How many rows one destination may be leased in one statement (the
/// worker's free slots and rate tokens for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room<'a> {
    /// The destination instance.
    pub destination: &'a str,
    /// At most this many of its rows (0: none).
    pub limit: usize,
}

/// Like [`lease_due`], with a limit per destination: each destination
/// gets at most its room, and all together at most `limit`.
pub async fn lease_rooms(
    pool: &AnyPool,
    flavor: &str,
    rooms: &[Room<'_>],
    now_ms: i64,
    limit: usize,
    lease: Duration,
) -> Result<Vec<Delivery>, DeliveryStoreError> {
    let rooms: Vec<&Room<'_>> = rooms.iter().filter(|r| r.limit > 0).collect();
    let lease_ms = crate::store::ms_of(lease);
    let until = now_ms.saturating_add(lease_ms.max(1));
    let mut conn = pool.acquire().await?;
    let skip_locked = conn.backend_name() == "PostgreSQL";
    let mut leased = Vec::new();
    for chunk in rooms.chunks(CHUNK) {
        let room = limit.saturating_sub(leased.len());
        if room == 0 {
            break;
        }
        let sql = lease_sql(chunk.len(), skip_locked);
        let mut query = (sqlx::query(&sql).bind(until).bind(flavor)).bind(now_ms);
        query = query.bind(count(room));
        for r in chunk {
            query = query.bind(r.destination).bind(count(r.limit.min(room)));
        }
        for row in query.fetch_all(&mut *conn).await? {
            leased.push(delivery(&row)?);
        }
    }
    leased.sort_by(|a, b| {
        (a.next_at, &a.destination, &a.delivery_id).cmp(&(
            b.next_at,
            &b.destination,
            &b.delivery_id,
        ))
    });
    Ok(leased)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The lease statement for `n` destinations: `$1` the lease's end, `$2`
/// the flavor, `$3` now, `$4` the limit, then per destination its name and
/// its own limit (`$5, $6`, `$7, $8`, …; public so that tests can EXPLAIN
/// it). With `skip_locked` (PostgreSQL) each branch
/// locks the rows it picks and passes over rows another leaser holds: two
/// leasers never wait on each other's rows (without it, their updates lock
/// rows in different orders and deadlock); SQLite has one writer at a time.
pub fn lease_sql(n: usize, skip_locked: bool) -> String {
    format!(
        "UPDATE deliveries SET state = 'leased', leased_until = $1 \
         WHERE flavor = $2 \
         AND ((state = 'pending' AND next_at <= $3) \
         OR (state = 'leased' AND leased_until < $3)) \
         AND (destination, delivery_id) IN (SELECT destination, delivery_id \
         FROM ({branches}) AS due ORDER BY next_at, destination, delivery_id LIMIT $4) \
         RETURNING {cols}",
        branches = due_branches(n, 5, skip_locked),
        cols = COLUMNS.join(", "),
    )
}

/// The destinations of `flavor` that have rows, in name order: one index
/// probe per destination (a loose scan of `deliveries_order`), not a scan
/// of the rows.
pub async fn destinations(pool: &AnyPool, flavor: &str) -> Result<Vec<String>, DeliveryStoreError> {
    let sql = "WITH RECURSIVE d(destination) AS ( \
         SELECT MIN(destination) FROM deliveries WHERE flavor = $1 \
         UNION ALL SELECT (SELECT MIN(destination) FROM deliveries \
         WHERE flavor = $1 AND destination > d.destination) FROM d \
         WHERE d.destination IS NOT NULL) \
         SELECT destination FROM d WHERE destination IS NOT NULL";
    let rows = sqlx::query(sql).bind(flavor).fetch_all(pool).await?;
    let mut names = Vec::with_capacity(rows.len());
    for row in rows {
        names.push(row.try_get::<String, _>(0)?);
    }
    Ok(names)
}

/// Two index-ordered branches per destination (pending and due; leased with
/// a lease that ran out), together at most the destination's own limit of
/// heads of their (destination, case), for `n` destinations bound in
/// (name, limit) pairs from placeholder `offset`.
fn due_branches(n: usize, offset: usize, skip_locked: bool) -> String {
    let lock = if skip_locked {
        " FOR UPDATE OF r SKIP LOCKED"
    } else {
        ""
    };
    let mut branches = Vec::with_capacity(n);
    for i in 0..n {
        let (d, room) = (offset + 2 * i, offset + 2 * i + 1);
        let head = format!(
            "SELECT r.destination, r.delivery_id, r.next_at FROM deliveries AS r \
             WHERE r.flavor = $2 AND r.destination = ${d}"
        );
        let open = format!(
            "NOT EXISTS (SELECT 1 FROM delivery_destinations AS s \
             WHERE s.flavor = $2 AND s.destination = ${d} \
             AND (s.state <> 'active' OR s.hold_until > $3)) \
             AND NOT EXISTS (SELECT 1 FROM deliveries AS e \
             WHERE e.flavor = $2 AND e.destination = ${d} AND e.case_key = r.case_key \
             AND (e.seq < r.seq OR (e.seq = r.seq AND e.delivery_id < r.delivery_id)) \
             AND e.state IN ('pending', 'leased'))"
        );
        let pending = format!(
            "SELECT * FROM ({head} AND r.state = 'pending' AND r.next_at <= $3 \
             AND {open} ORDER BY r.next_at LIMIT ${room}{lock}) AS p{i}"
        );
        let lapsed = format!(
            "SELECT * FROM ({head} AND r.state = 'leased' AND r.leased_until < $3 \
             AND {open} ORDER BY r.next_at LIMIT ${room}{lock}) AS l{i}"
        );
        branches.push(format!(
            "SELECT * FROM (SELECT * FROM ({pending} UNION ALL {lapsed}) AS u{i} \
             ORDER BY next_at LIMIT ${room}) AS d{i}"
        ));
    }
    branches.join(" UNION ALL ")
}

pub(super) fn delivery(row: &AnyRow) -> Result<Delivery, DeliveryStoreError> {
    let destination: String = row.try_get("destination")?;
    let delivery_id: String = row.try_get("delivery_id")?;
    let payload: String = row.try_get("payload")?;
    let payload = serde_json::from_str(&payload).map_err(|source| DeliveryStoreError::Payload {
        destination: destination.clone(),
        delivery_id: delivery_id.clone(),
        source,
    })?;
    Ok(Delivery {
        flavor: row.try_get("flavor")?,
        case_key: row.try_get("case_key")?,
        seq: row.try_get("seq")?,
        payload,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        next_at: row.try_get("next_at")?,
        leased_until: row.try_get("leased_until")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
        event_id: row.try_get("event_id")?,
        correlation_id: row.try_get("correlation_id")?,
        chain_depth: row.try_get("chain_depth")?,
        destination,
        delivery_id,
    })
}
