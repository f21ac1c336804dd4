//! Due timers and their claims, one statement each on PostgreSQL and SQLite
//! (sqlx Any, `$n` placeholders, ms times).
//!
//! Ownership of a partition decides who polls; the claim decides who fires
//! ([`claim_due`]: `UPDATE … WHERE state = 'pending' … RETURNING`), so two
//! pollers, or a revoked owner still finishing, never both get a timer;
//! [`due`] reads what is due without claiming it.
//! A claim is a lease: a claimer that crashed leaves a `claimed` row whose
//! `claimed_until` passes, and the next claim takes it over. What becomes of
//! a claimed timer (fired, retried later, dead, released) is in `outcome.rs`.

use std::time::Duration;

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::rows::COLUMNS;

/// Keys (or owned partitions) per statement: two parameters each, far below
/// the backends' limits.
const CHUNK: usize = 200;

/// A timer row as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Timer {
    /// The flavor that owns it.
    pub flavor: String,
    /// The case it belongs to.
    pub case_key: String,
    /// Which of the case's timers.
    pub timer_id: String,
    /// When it is due (ms).
    pub due_at: i64,
    /// `pending`, `claimed`, `fired`, `cancelled` or `dead`.
    pub state: String,
    /// The scheduling event's topic.
    pub topic: String,
    /// The scheduling event's partition.
    pub partition: i32,
    /// The scheduling event's id.
    pub event_id: String,
    /// The scheduling event's correlation id.
    pub correlation_id: String,
    /// The scheduling event's chain depth.
    pub chain_depth: i64,
    /// What the firing needs.
    pub payload: serde_json::Value,
    /// The scheduling (or last moving) event's case version.
    pub version: i64,
    /// Until when the claim holds (ms; 0 unclaimed): the claim's fence.
    pub claimed_until: i64,
    /// When it fired (ms; 0 not yet).
    pub fired_at: i64,
    /// Failed firings so far.
    pub attempts: i64,
    /// The last failure's message (empty when none).
    pub last_error: String,
    /// When its current run of failed firings began (ms; 0: none failed).
    pub failing_since: i64,
}

/// Why a timer could not be read or claimed.
#[derive(Debug, thiserror::Error)]
pub enum TimerStoreError {
    /// A database error.
    #[error("timers: {0}")]
    Sql(#[from] sqlx::Error),
    /// A row whose payload is not JSON.
    #[error("timer {case_key}/{timer_id}: payload: {source}")]
    Payload {
        /// The case.
        case_key: String,
        /// The timer.
        timer_id: String,
        /// Why.
        source: serde_json::Error,
    },
    /// A row whose partition is not a Kafka partition.
    #[error("timer {case_key}/{timer_id}: partition {partition}")]
    Partition {
        /// The case.
        case_key: String,
        /// The timer.
        timer_id: String,
        /// The stored value.
        partition: i64,
    },
}

/// The pending timers of `flavor` due at `now_ms` on the `owned`
/// `(topic, partition)`s, oldest first, at most `limit`; claims whose lease
/// ran out count as pending (their claimer crashed). Timers due while the
/// service was down are due at its first poll.
pub async fn due(
    pool: &AnyPool,
    flavor: &str,
    owned: &[(&str, i32)],
    now_ms: i64,
    limit: usize,
) -> Result<Vec<Timer>, TimerStoreError> {
    let limit_sql = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut found = Vec::new();
    for chunk in owned.chunks(CHUNK) {
        let sql = format!(
            "SELECT {cols} FROM timers WHERE flavor = $1 AND due_at <= $2 \
             AND (state = 'pending' OR (state = 'claimed' AND claimed_until < $2)) \
             AND ({owned}) ORDER BY due_at, case_key, timer_id LIMIT ${last}",
            cols = COLUMNS.join(", "),
            owned = pairs("topic", "partition", chunk.len(), 3),
            last = 3 + 2 * chunk.len(),
        );
        let mut query = sqlx::query(&sql).bind(flavor).bind(now_ms);
        for (topic, partition) in chunk {
            query = query.bind(*topic).bind(i64::from(*partition));
        }
        query = query.bind(limit_sql);
        for row in query.fetch_all(pool).await? {
            found.push(timer(&row)?);
        }
    }
    // Several chunks: the oldest `limit` of their union.
    found.sort_by(|a, b| {
        (a.due_at, &a.case_key, &a.timer_id).cmp(&(b.due_at, &b.case_key, &b.timer_id))
    });
    found.truncate(limit);
    Ok(found)
}

/// Claims, in one statement, the oldest `limit` timers of `flavor` due at
/// `now_ms` on the `owned` partitions (pending, or claimed with a lease that
/// ran out) until `now_ms + lease`; returns them, oldest first. This is the
/// runtime's poll: ownership decides who polls, and the `UPDATE`'s re-check
/// under the row lock decides who fires. Each partition and state is its own
/// branch, read in due order from the `timers_due` index, so a poll costs
/// what it claims, not the table's size.
pub async fn claim_due(
    pool: &AnyPool,
    flavor: &str,
    owned: &[(&str, i32)],
    now_ms: i64,
    limit: usize,
    lease: Duration,
) -> Result<Vec<Timer>, TimerStoreError> {
    let lease_ms = crate::store::ms_of(lease);
    let until = now_ms.saturating_add(lease_ms.max(1));
    let mut claimed = Vec::new();
    for chunk in owned.chunks(CHUNK) {
        let room = limit.saturating_sub(claimed.len());
        if room == 0 {
            break;
        }
        let sql = format!(
            "UPDATE timers SET state = 'claimed', claimed_until = $1 \
             WHERE flavor = $2 AND due_at <= $3 \
             AND (state = 'pending' OR (state = 'claimed' AND claimed_until < $3)) \
             AND (case_key, timer_id) IN (SELECT case_key, timer_id FROM ({branches}) AS due \
             ORDER BY due_at, case_key, timer_id LIMIT $4) RETURNING {cols}",
            branches = due_branches(chunk.len(), 5),
            cols = COLUMNS.join(", "),
        );
        let mut query = (sqlx::query(&sql).bind(until).bind(flavor)).bind(now_ms);
        query = query.bind(i64::try_from(room).unwrap_or(i64::MAX));
        for (topic, partition) in chunk {
            query = query.bind(*topic).bind(i64::from(*partition));
        }
        for row in query.fetch_all(pool).await? {
            match timer(&row) {
                Ok(t) => claimed.push(t),
                Err(TimerStoreError::Sql(e)) => return Err(e.into()),
                Err(unreadable) => bury_unreadable(pool, flavor, until, &unreadable).await?,
            }
        }
    }
    claimed.sort_by(|a, b| {
        (a.due_at, &a.case_key, &a.timer_id).cmp(&(b.due_at, &b.case_key, &b.timer_id))
    });
    Ok(claimed)
}

/// A claimed row that cannot be read as a timer (its payload is not JSON,
/// its partition no Kafka partition) ends `dead` with the reason, and is
/// logged: it would otherwise be claimed again, and fail, at every poll.
async fn bury_unreadable(
    pool: &AnyPool,
    flavor: &str,
    claimed_until: i64,
    why: &TimerStoreError,
) -> Result<(), TimerStoreError> {
    let (TimerStoreError::Payload {
        case_key, timer_id, ..
    }
    | TimerStoreError::Partition {
        case_key, timer_id, ..
    }) = why
    else {
        return Ok(());
    };
    tracing::error!(flavor, case_key, timer_id, error = %why, "timer unreadable: it ends dead");
    sqlx::query(
        "UPDATE timers SET state = 'dead', claimed_until = 0, last_error = $1 \
         WHERE flavor = $2 AND case_key = $3 AND timer_id = $4 AND state = 'claimed' \
         AND claimed_until = $5",
    )
    .bind(why.to_string())
    .bind(flavor)
    .bind(case_key)
    .bind(timer_id)
    .bind(claimed_until)
    .execute(pool)
    .await?;
    Ok(())
}

/// Two index-ordered branches per partition (pending; claimed with a lease
/// that ran out), each at most `$4` rows, for `n` `(topic, partition)`
/// pairs bound from placeholder `offset`.
fn due_branches(n: usize, offset: usize) -> String {
    let mut branches = Vec::with_capacity(2 * n);
    for i in 0..n {
        let (t, p) = (offset + 2 * i, offset + 2 * i + 1);
        let head = format!(
            "SELECT case_key, timer_id, due_at FROM timers \
             WHERE flavor = $2 AND topic = ${t} AND partition = ${p}"
        );
        branches.push(format!(
            "SELECT * FROM ({head} AND state = 'pending' AND due_at <= $3 \
             ORDER BY due_at LIMIT $4) AS p{i}"
        ));
        branches.push(format!(
            "SELECT * FROM ({head} AND state = 'claimed' AND due_at <= $3 \
             AND claimed_until < $3 ORDER BY due_at LIMIT $4) AS c{i}"
        ));
    }
    branches.join(" UNION ALL ")
}

/// `((a = $o AND b = $o+1) OR …)` for `n` pairs from placeholder `offset`.
fn pairs(a: &str, b: &str, n: usize, offset: usize) -> String {
    (0..n)
        .map(|i| {
            let p = offset + 2 * i;
            format!("({a} = ${p} AND {b} = ${})", p + 1)
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn timer(row: &AnyRow) -> Result<Timer, TimerStoreError> {
    let case_key: String = row.try_get("case_key")?;
    let timer_id: String = row.try_get("timer_id")?;
    let payload: String = row.try_get("payload")?;
    let payload = serde_json::from_str(&payload).map_err(|source| TimerStoreError::Payload {
        case_key: case_key.clone(),
        timer_id: timer_id.clone(),
        source,
    })?;
    let stored: i64 = row.try_get("partition")?;
    let Ok(partition) = i32::try_from(stored) else {
        return Err(TimerStoreError::Partition {
            case_key,
            timer_id,
            partition: stored,
        });
    };
    Ok(Timer {
        flavor: row.try_get("flavor")?,
        due_at: row.try_get("due_at")?,
        state: row.try_get("state")?,
        topic: row.try_get("topic")?,
        partition,
        event_id: row.try_get("event_id")?,
        correlation_id: row.try_get("correlation_id")?,
        chain_depth: row.try_get("chain_depth")?,
        payload,
        version: row.try_get("version")?,
        claimed_until: row.try_get("claimed_until")?,
        fired_at: row.try_get("fired_at")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        failing_since: row.try_get("failing_since")?,
        case_key,
        timer_id,
    })
}
