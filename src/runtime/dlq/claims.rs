//! One dead letter per source record, across crashes and rebalances.
//!
//! A dead letter is written before its offset is committed, so a crash (or a
//! partition moving) between the two redelivers the record and would write
//! it again. Instead, the record `(flavor, topic, partition, offset)` is
//! claimed in the store first, with the DLQ partition it goes to and that
//! partition's end offset, and marked written once the broker acknowledged
//! it. A later attempt at the same record then:
//!
//! - finds it written: there is nothing to write;
//! - finds it being written by an attempt that died (or, during a rebalance,
//!   may still be running): reads the DLQ partition from the recorded end
//!   offset for a record with the same origin headers. Found: it is marked
//!   written. Not found: once the claim's lease (longer than a produce may
//!   take) has run out, the dead letter is written to the same partition.
//!
//! Fail points for the crash tests: `CEH_FAIL_POINT=dlq.after-write` aborts
//! the process after the broker acknowledged a dead letter and before the
//! claim is marked; `dlq.after-mark` after it is marked, before the offset
//! is stored.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::source::record::{Record, Tp};
use crate::source::{channels, range};
use crate::store::{now_ms, Store};

use super::headers;

/// How long a 'writing' claim of another process is left alone: longer than
/// a dead-letter produce may take (30 s).
pub const LEASE: Duration = Duration::from_secs(35);

/// What the store says about a record's dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours now: write it to `partition`.
    New,
    /// Written already.
    Written,
    /// Claimed by an earlier attempt, to `partition`, whose end offset was
    /// `from`; `age` since it was claimed; `ours` when this process claimed it.
    Writing {
        partition: i32,
        from: i64,
        age: Duration,
        ours: bool,
    },
}

/// The claims of one process.
pub struct DlqClaims {
    store: Store,
    props: BTreeMap<String, String>,
    owner: String,
    lookup: Mutex<Option<Arc<range::Lookup>>>,
}

impl DlqClaims {
    /// Claims in `store`; `props` reach the broker (metadata and DLQ reads).
    pub fn new(store: Store, props: BTreeMap<String, String>) -> Self {
        Self {
            store,
            props,
            owner: uuid::Uuid::new_v4().to_string(),
            lookup: Mutex::new(None),
        }
    }

    fn lookup(&self) -> Result<Arc<range::Lookup>, String> {
        let mut slot = self.lookup.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lookup) = slot.as_ref() {
            return Ok(lookup.clone());
        }
        let lookup = Arc::new(range::Lookup::new(&self.props).map_err(|e| e.to_string())?);
        *slot = Some(lookup.clone());
        Ok(lookup)
    }

    /// Where a dead letter of `source_partition` goes in `dlq_topic` (the
    /// same partition number modulo the DLQ's partitions; 0 before the topic
    /// exists) and that partition's end offset now.
    pub async fn placement(
        &self,
        dlq_topic: &str,
        source_partition: i32,
    ) -> Result<(i32, i64), String> {
        let lookup = self.lookup()?;
        let topic = dlq_topic.to_string();
        let blocking = move || {
            let count = lookup.partitions(&topic).map(|p| p.len()).unwrap_or(0) as i32;
            let partition = if count > 0 {
                source_partition.rem_euclid(count)
            } else {
                0
            };
            let end = lookup
                .watermarks(&Tp::new(&topic, partition))
                .map_or(0, |(_, high)| high);
            (partition, end)
        };
        tokio::task::spawn_blocking(blocking)
            .await
            .map_err(|e| format!("DLQ placement: {e}"))
    }

    /// Claims `record`'s dead letter for `flavor`, or says who has it.
    pub async fn claim(
        &self,
        flavor: &str,
        record: &Record,
        dlq_topic: &str,
        (partition, from): (i32, i64),
    ) -> Result<Claim, String> {
        let db = |e: sqlx::Error| format!("claiming the dead letter: {e}");
        let inserted = sqlx::query(
            "INSERT INTO dead_letter_claims (flavor, topic, part, record_offset, dlq_topic, \
             dlq_partition, dlq_from, state, owner, claimed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'writing', $8, $9) \
             ON CONFLICT (flavor, topic, part, record_offset) DO NOTHING RETURNING flavor",
        )
        .bind(flavor)
        .bind(record.tp.topic.as_ref())
        .bind(record.tp.partition)
        .bind(record.offset)
        .bind(dlq_topic)
        .bind(partition)
        .bind(from)
        .bind(&self.owner)
        .bind(now_ms())
        .fetch_optional(self.store.pool())
        .await
        .map_err(db)?;
        if inserted.is_some() {
            return Ok(Claim::New);
        }
        let (state, partition, from, owner, at): (String, i32, i64, String, i64) = sqlx::query_as(
            "SELECT state, dlq_partition, dlq_from, owner, claimed_at FROM dead_letter_claims \
             WHERE flavor = $1 AND topic = $2 AND part = $3 AND record_offset = $4",
        )
        .bind(flavor)
        .bind(record.tp.topic.as_ref())
        .bind(record.tp.partition)
        .bind(record.offset)
        .fetch_one(self.store.pool())
        .await
        .map_err(db)?;
        Ok(match state.as_str() {
            "written" => Claim::Written,
            _ => Claim::Writing {
                partition,
                from,
                age: Duration::from_millis((now_ms() - at).max(0) as u64),
                ours: owner == self.owner,
            },
        })
    }

    /// Marks `record`'s dead letter written.
    pub async fn written(&self, flavor: &str, record: &Record) -> Result<(), String> {
        sqlx::query(
            "UPDATE dead_letter_claims SET state = 'written', owner = $5 \
             WHERE flavor = $1 AND topic = $2 AND part = $3 AND record_offset = $4",
        )
        .bind(flavor)
        .bind(record.tp.topic.as_ref())
        .bind(record.tp.partition)
        .bind(record.offset)
        .bind(&self.owner)
        .execute(self.store.pool())
        .await
        .map_err(|e| format!("marking the dead letter written: {e}"))?;
        Ok(())
    }

    /// Whether `dlq_topic`/`partition` holds, from offset `from` on, a dead
    /// letter of `record` by `flavor`.
    pub async fn find(
        &self,
        flavor: &str,
        record: &Record,
        dlq_topic: &str,
        (partition, from): (i32, i64),
    ) -> Result<bool, String> {
        let tp = Tp::new(dlq_topic, partition);
        let lookup = self.lookup()?;
        let probe = tp.clone();
        let watermarks = tokio::task::spawn_blocking(move || lookup.watermarks(&probe))
            .await
            .map_err(|e| e.to_string())?;
        let Ok((low, high)) = watermarks else {
            return Ok(false); // no such topic yet: nothing was written
        };
        let start = from.max(low);
        if start >= high {
            return Ok(false);
        }
        let ranges = vec![range::Range {
            tp,
            start,
            end: high,
        }];
        let (tx, mut rx) = channels(1024);
        let _reader = range::start(&self.props, ranges, None, tx).map_err(|e| e.to_string())?;
        let (partition, offset) = (record.tp.partition.to_string(), record.offset.to_string());
        let wanted: [(&str, &[u8]); 4] = [
            (headers::TOPIC, record.tp.topic.as_bytes()),
            (headers::PARTITION, partition.as_bytes()),
            (headers::OFFSET, offset.as_bytes()),
            (headers::FLAVOR, flavor.as_bytes()),
        ];
        while let Some(chunk) = rx.next_chunk().await {
            let same = |r: &Record| wanted.iter().all(|(k, v)| r.header(k) == Some(*v));
            if chunk.iter().any(same) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Aborts the process here when `CEH_FAIL_POINT` names this point (tests).
pub fn fail_point(name: &str) {
    static POINT: OnceLock<Option<String>> = OnceLock::new();
    let point = POINT.get_or_init(|| std::env::var("CEH_FAIL_POINT").ok());
    if point.as_deref() == Some(name) {
        eprintln!("fail point {name}: aborting");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(offset: i64) -> Record {
        Record {
            tp: Tp::new("t", 2),
            offset,
            key: None,
            payload: Default::default(),
            headers: Vec::new(),
            timestamp_ms: None,
        }
    }

    #[tokio::test]
    async fn a_record_is_claimed_once_and_then_reported_as_written() {
        let store = Store::connect("sqlite::memory:", 1).await.expect("sqlite");
        let mine = DlqClaims::new(store.clone(), BTreeMap::new());
        let theirs = DlqClaims::new(store, BTreeMap::new());
        let r = record(7);
        let claim = |c: &'static str| (c, (1, 40));
        let (topic, at) = claim("t.dlq.f");
        assert_eq!(mine.claim("f", &r, topic, at).await, Ok(Claim::New));
        let again = theirs.claim("f", &r, topic, (0, 99)).await.unwrap();
        assert!(
            matches!(again, Claim::Writing { partition: 1, from: 40, ours: false, age } if age < LEASE),
            "{again:?}"
        );
        let own = mine.claim("f", &r, topic, at).await.unwrap();
        assert!(matches!(own, Claim::Writing { ours: true, .. }), "{own:?}");
        assert_eq!(
            mine.claim("other-flavor", &r, topic, at).await,
            Ok(Claim::New)
        );
        mine.written("f", &r).await.unwrap();
        assert_eq!(theirs.claim("f", &r, topic, at).await, Ok(Claim::Written));
        assert_eq!(
            theirs.claim("f", &record(8), topic, at).await,
            Ok(Claim::New)
        );
    }

    #[tokio::test]
    async fn claims_older_than_the_ledger_horizon_expire_with_the_ledger() {
        let store = Store::connect("sqlite::memory:", 1).await.expect("sqlite");
        let claims = DlqClaims::new(store.clone(), BTreeMap::new());
        let (old, fresh) = (record(1), record(2));
        for r in [&old, &fresh] {
            assert_eq!(claims.claim("f", r, "t.dlq", (0, 0)).await, Ok(Claim::New));
            claims.written("f", r).await.unwrap();
        }
        let two_hours_ago = now_ms() - 2 * 3600 * 1000;
        sqlx::query("UPDATE dead_letter_claims SET claimed_at = $1 WHERE record_offset = 1")
            .bind(two_hours_ago)
            .execute(store.pool())
            .await
            .unwrap();
        let gone = store.expire_dedup_rows(Duration::from_secs(3600)).await;
        assert_eq!(gone.unwrap(), 1);
        assert_eq!(
            claims.claim("f", &fresh, "t.dlq", (0, 0)).await,
            Ok(Claim::Written)
        );
        assert_eq!(
            claims.claim("f", &old, "t.dlq", (0, 0)).await,
            Ok(Claim::New)
        );
    }
}
