//! The intent state machine and its crash cases, on SQLite.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::*;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
enum FakeError {
    #[error("vendor answered 400: nothing applied")]
    Refused,
    #[error("vendor timed out: outcome unknown")]
    Timeout,
}

/// A vendor: `perform` answers from a script, `lookup` finds what `found` holds.
#[derive(Default)]
struct Vendor {
    script: Mutex<VecDeque<Result<ExtRef, FakeError>>>,
    found: Mutex<Option<ExtRef>>,
    performed: AtomicUsize,
    looked: AtomicUsize,
}

impl Vendor {
    fn answering(script: Vec<Result<ExtRef, FakeError>>) -> Self {
        Self {
            script: Mutex::new(script.into()),
            ..Self::default()
        }
    }
    fn performed(&self) -> usize {
        self.performed.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Effect for Vendor {
    type Error = FakeError;
    async fn perform(&self) -> Result<ExtRef, FakeError> {
        self.performed.fetch_add(1, Ordering::SeqCst);
        let next = self.script.lock().unwrap().pop_front();
        next.unwrap_or_else(|| Ok(ext("made-later")))
    }
    async fn lookup(&self) -> Result<Option<ExtRef>, FakeError> {
        self.looked.fetch_add(1, Ordering::SeqCst);
        Ok(self.found.lock().unwrap().clone())
    }
    fn not_applied(&self, err: &FakeError) -> bool {
        matches!(err, FakeError::Refused)
    }
}

fn ext(id: &str) -> ExtRef {
    ExtRef {
        id: id.into(),
        key: Some(format!("K-{id}")),
        url: None,
    }
}

fn subject() -> Subject {
    Subject {
        case_id: "c1".into(),
        org_id: "o1".into(),
        project_id: "p1".into(),
        case_key: "SEC-1".into(),
    }
}

fn policy(mode: Mode) -> Policy {
    Policy {
        mode,
        lease: Duration::from_secs(30),
    }
}

const LOOKUP: Mode = Mode::Lookup {
    window: Duration::from_secs(60),
};

async fn intents() -> (tempfile::TempDir, Intents) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("i.db").display());
    let store = Store::connect(&url, 2).await.unwrap();
    (dir, Intents::new(store.pool().clone(), "test"))
}

/// A process that died between claiming and recording the vendor's answer:
/// the row is claimed and its lease ran out `ago_ms` after the claim.
async fn crashed_claim(intents: &Intents, ago_ms: i64) {
    let key = intents.key("case", "c1", "issue");
    let then = now_ms() - ago_ms;
    assert!(
        store::insert_claim(&intents.pool, &key, &subject(), then, then + 1)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_first_run_creates_and_links_and_a_second_finds_it_linked() {
    let (_dir, intents) = intents().await;
    let key = intents.key("case", "c1", "issue");
    let vendor = Vendor::answering(vec![Ok(ext("1"))]);
    let done = intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await;
    assert_eq!(done.unwrap(), Done::Created(ext("1")));
    let row = intents.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.ext.clone(), row.subject.clone()),
        (State::Linked, Some(ext("1")), subject())
    );
    assert_eq!(
        intents.by_ext("case", "1").await.unwrap(),
        Some(row.clone())
    );
    let again = intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await;
    assert_eq!(again.unwrap(), Done::Already(row));
    assert_eq!(vendor.performed(), 1);
}

#[tokio::test]
async fn a_crash_after_the_vendor_created_is_adopted_by_lookup_never_created_twice() {
    let (_dir, intents) = intents().await;
    crashed_claim(&intents, 5_000).await;
    let key = intents.key("case", "c1", "issue");
    let vendor = Vendor::default();
    *vendor.found.lock().unwrap() = Some(ext("7"));
    let done = intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await;
    assert_eq!(done.unwrap(), Done::Adopted(ext("7")));
    assert_eq!(vendor.performed(), 0, "found by lookup: no second create");
    let row = intents.get(&key).await.unwrap().unwrap();
    assert_eq!((row.state, row.ext), (State::Linked, Some(ext("7"))));
}

#[tokio::test]
async fn an_unknown_answer_is_looked_up_next_time_and_waits_out_the_window() {
    let (_dir, intents) = intents().await;
    let key = intents.key("case", "c1", "issue");
    let vendor = Vendor::answering(vec![Err(FakeError::Timeout)]);
    let first = intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await;
    assert!(matches!(
        first,
        Err(IntentError::Vendor(FakeError::Timeout))
    ));
    let row = intents.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.lease_until),
        (State::Claimed, 0),
        "kept, lease given back"
    );
    // Search lags: not found inside the window is transient, nothing sent.
    let second = intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await;
    let Err(IntentError::Pending {
        retry_after,
        left_ms,
        ..
    }) = second
    else {
        panic!("expected pending, got {second:?}");
    };
    assert!(retry_after >= Duration::from_secs(1) && left_ms <= 60_000);
    assert_eq!(vendor.performed(), 1);
    // After the window, sent once more.
    sqlx::query("UPDATE intents SET intent_at = intent_at - 61000")
        .execute(&intents.pool)
        .await
        .unwrap();
    let third = intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await;
    assert_eq!(third.unwrap(), Done::Created(ext("made-later")));
    assert_eq!(vendor.performed(), 2);
    assert_eq!(intents.get(&key).await.unwrap().unwrap().attempts, 2);
}

#[tokio::test]
async fn a_live_lease_holds_off_a_second_worker() {
    let (_dir, intents) = intents().await;
    let key = intents.key("case", "c1", "issue");
    let now = now_ms();
    store::insert_claim(&intents.pool, &key, &subject(), now, now + 20_000)
        .await
        .unwrap();
    let vendor = Vendor::default();
    let done = intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await;
    let Err(err @ IntentError::InFlight { .. }) = done else {
        panic!("expected in flight, got {done:?}");
    };
    assert!(err.retry_after().unwrap() > Duration::from_secs(10));
    assert_eq!(vendor.performed() + vendor.looked.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_refusal_drops_the_intent_so_the_next_run_starts_afresh() {
    let (_dir, intents) = intents().await;
    let key = intents.key("case", "c1", "issue");
    let vendor = Vendor::answering(vec![Err(FakeError::Refused), Ok(ext("2"))]);
    let first = intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await;
    assert!(matches!(
        first,
        Err(IntentError::Vendor(FakeError::Refused))
    ));
    assert_eq!(intents.get(&key).await.unwrap(), None, "dropped");
    let second = intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await;
    assert_eq!(second.unwrap(), Done::Created(ext("2")));
    assert_eq!(
        vendor.looked.load(Ordering::SeqCst),
        0,
        "no lookup for a fresh claim"
    );
}

#[tokio::test]
async fn without_lookup_a_hidden_outcome_ends_unknown_and_is_not_resent_when_so_configured() {
    let (_dir, intents) = intents().await;
    crashed_claim(&intents, 5_000).await;
    let key = intents.key("case", "c1", "issue");
    let mode = Mode::NoLookup {
        resend_unknown: false,
    };
    let vendor = Vendor::default();
    for _ in 0..2 {
        let done = intents.run(&key, &subject(), &policy(mode), &vendor).await;
        let Ok(Done::Unknown(row)) = done else {
            panic!("expected unknown, got {done:?}");
        };
        assert_eq!(row.state, State::Unknown);
    }
    assert_eq!(vendor.performed(), 0);
    let row = intents.get(&key).await.unwrap().unwrap();
    assert_eq!(row.state, State::Unknown);
}

#[tokio::test]
async fn without_lookup_a_hidden_outcome_is_resent_once_when_so_configured() {
    let (_dir, intents) = intents().await;
    crashed_claim(&intents, 5_000).await;
    let key = intents.key("case", "c1", "issue");
    let mode = Mode::NoLookup {
        resend_unknown: true,
    };
    let vendor = Vendor::answering(vec![Ok(ext("9"))]);
    let done = intents.run(&key, &subject(), &policy(mode), &vendor).await;
    assert_eq!(done.unwrap(), Done::Created(ext("9")));
    let again = intents.run(&key, &subject(), &policy(mode), &vendor).await;
    assert!(matches!(again, Ok(Done::Already(_))));
    assert_eq!(vendor.performed(), 1, "one resend, then linked");
    assert_eq!(intents.get(&key).await.unwrap().unwrap().attempts, 2);
}

#[tokio::test]
async fn with_an_idempotency_key_a_hidden_outcome_is_sent_again_at_once() {
    let (_dir, intents) = intents().await;
    crashed_claim(&intents, 5_000).await;
    let key = intents.key("case", "c1", "issue");
    let vendor = Vendor::answering(vec![Ok(ext("dedup-1"))]);
    let done = intents
        .run(&key, &subject(), &policy(Mode::IdempotencyKey), &vendor)
        .await;
    assert_eq!(done.unwrap(), Done::Created(ext("dedup-1")));
    assert_eq!(vendor.looked.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn stale_marks_and_keys_are_per_flavor() {
    let (_dir, intents) = intents().await;
    let key = intents.key("case", "c1", "issue");
    let vendor = Vendor::answering(vec![Ok(ext("1"))]);
    intents
        .run(&key, &subject(), &policy(LOOKUP), &vendor)
        .await
        .unwrap();
    intents.mark_stale(&key).await.unwrap();
    assert!(intents.get(&key).await.unwrap().unwrap().stale);
    let other = Intents::new(intents.pool.clone(), "other");
    assert_eq!(
        other.get(&other.key("case", "c1", "issue")).await.unwrap(),
        None
    );
    assert_eq!(other.by_ext("case", "1").await.unwrap(), None);
}
