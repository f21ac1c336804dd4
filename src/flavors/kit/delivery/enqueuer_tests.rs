//! The event side: one transaction for the rows and the ledger, the
//! doorbell rung, a redelivery enqueuing nothing, a refusing destination
//! deferring its events.

use std::collections::HashSet;

use super::*;
use crate::event::{fixtures, pb, Event, Payload};
use crate::handler::{BatchHandler, Ctx, ErrorClass, HandleResp};
use crate::store::rows::PlanError;
use crate::store::Store;

struct ToEach(Vec<&'static str>);

impl DeliveryPlanner for ToEach {
    fn plan(&self, event: &Event) -> Result<Vec<Wanted>, PlanError> {
        if event.case_id == "bad" {
            return Err(PlanError::Invalid("no plan for case bad".into()));
        }
        Ok((self.0.iter())
            .map(|d| Wanted {
                destination: (*d).into(),
                payload: serde_json::json!({ "v": event.aggregate_version }),
            })
            .collect())
    }
}

fn event(case: &str, version: u64) -> Event {
    let payload = Payload::CaseTitleChanged(pb::CaseTitleChanged::default());
    Event::new(fixtures::on_case(case, version, payload)).unwrap()
}

async fn pending(store: &Store, destination: &str) -> i64 {
    let all = depth(store.pool(), "f").await.unwrap();
    all.iter()
        .find(|d| d.destination == destination)
        .map_or(0, |d| d.pending)
}

#[tokio::test]
async fn rows_and_ledger_commit_together_once_and_the_doorbell_rings() {
    let (_dir, store) = Store::temp_sqlite(2).await;
    let queue = Queue::default();
    let h = Enqueuer::new(ToEach(vec!["a", "b"]), queue.clone());
    let ctx = Ctx::new("f", Some(store.clone()), 1);
    let (e1, e2, bad) = (event("c1", 1), event("c1", 2), event("bad", 1));
    let answers = h.handle_batch(&ctx, &[&e1, &e2, &bad]).await;
    assert!(matches!(answers[0], HandleResp::Success) && matches!(answers[1], HandleResp::Success));
    assert!(matches!(&answers[2], HandleResp::Discard(e) if e.message.contains("no plan")));
    assert_eq!(
        (pending(&store, "a").await, pending(&store, "b").await),
        (2, 2)
    );
    tokio::time::timeout(std::time::Duration::from_secs(1), queue.doorbell.rung())
        .await
        .expect("rung");
    let again = h.handle_batch(&ctx, &[&e1]).await;
    assert!(
        matches!(again[0], HandleResp::Skip(_)),
        "a redelivery is a duplicate: {again:?}"
    );
    assert_eq!(pending(&store, "a").await, 2, "and enqueues nothing");
}

#[tokio::test]
async fn an_event_for_a_refusing_destination_waits_deferred() {
    let (_dir, store) = Store::temp_sqlite(2).await;
    let queue = Queue::default();
    queue.full.replace(HashSet::from(["b".to_owned()]));
    let h = Enqueuer::new(ToEach(vec!["a", "b"]), queue.clone());
    let ctx = Ctx::new("f", Some(store.clone()), 1);
    let e = event("c1", 1);
    let answers = h.handle_batch(&ctx, &[&e]).await;
    match &answers[0] {
        HandleResp::Retry(err) => {
            assert_eq!(err.class, ErrorClass::Deferred);
            assert!(err.message.contains("destination b"), "{err}");
        }
        other => panic!("deferred, not {other:?}"),
    }
    assert_eq!(pending(&store, "a").await, 0, "nothing of it written");
    queue.full.replace(HashSet::new());
    let answers = h.handle_batch(&ctx, &[&e]).await;
    assert!(matches!(answers[0], HandleResp::Success), "{answers:?}");
}
