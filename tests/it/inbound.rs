//! kit::inbound on the real broker and PostgreSQL: a PagerDuty-v3-style
//! route built through `BuildCtx::inbound`, each test on its own topic and
//! database. 2xx only after the broker acked; one event per delivery however
//! many copies arrive; a late copy is a duplicate, a late first delivery is
//! produced, never a 4xx.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use case_event_handler::event::CaseEvent;
use case_event_handler::flavors::kit::inbound::{
    Delivery, InboundError, Key, Keyring, Limits, PagerDutyV3, Parts, Received, Receiver,
};
use case_event_handler::flavors::kit::{
    ids, BuildCtx, ConfigOf, Consumes, EventPublisher, FlavorSpec, NoConfig, Produces, RouteSpec,
    Style,
};
use case_event_handler::settings::{KafkaSettings, Settings};
use case_event_handler::store::{now_ms, Store};
use futures::FutureExt;
use serde_json::{json, Value};

use crate::helpers::*;

static HOOK: RouteSpec = RouteSpec {
    path: "/webhooks/it-pagerduty",
    summary: "a PagerDuty-v3-style test route",
};

static ROW: FlavorSpec = FlavorSpec {
    name: "it-inbound",
    summary: "",
    style: Style::Single,
    needs_store: true,
    dependencies: &[],
    consumes: Consumes::all(),
    produces: Produces::NOTHING,
    metrics: &[],
    routes: std::slice::from_ref(&HOOK),
    tables: &[],
    reads_rules: false,
    tools: None,
    config: &ConfigOf::<NoConfig>::KIND,
    build: |_| async { unreachable!("built by hand") }.boxed(),
};

const SECRET: &[u8] = b"pd-secret";

/// One event per delivery; counts what it recorded after the acks.
struct Incidents {
    event: CaseEvent,
    published: Arc<AtomicUsize>,
}

#[async_trait]
impl Receiver for Incidents {
    type Then = String;

    async fn receive(&self, d: &Delivery<'_>) -> Result<Received<String>, InboundError> {
        let body: Value =
            serde_json::from_slice(d.body).map_err(|e| InboundError::Malformed(e.to_string()))?;
        let Some(id) = body["event"]["id"].as_str() else {
            return Ok(Received::Ignored("no event id".into()));
        };
        let mut event = self.event.clone();
        event.event_id = ids::from_parts(now_ms(), &["it-inbound", d.id]);
        Ok(Received::Publish {
            events: vec![event],
            then: id.to_string(),
        })
    }

    async fn published(&self, _d: &Delivery<'_>, _then: String) -> Result<(), InboundError> {
        self.published.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct Hook {
    url: String,
    topic: String,
    store: Store,
    published: Arc<AtomicUsize>,
    http: reqwest::Client,
}

async fn hook() -> Hook {
    let topic = unique("it-inbound");
    create_topic(&topic, 1).await;
    let kafka = KafkaSettings {
        brokers: brokers(),
        produce_topic: topic.clone(),
        ..KafkaSettings::default()
    };
    let publisher = EventPublisher::new(producer(), &kafka, "it-inbound");
    let store = own_pg().await;
    let mut event = synth(77, 1, 1).remove(0);
    event.event_id.clear();
    event.correlation_id.clear();
    event.trace = None;
    event.actor = None;
    let published = Arc::new(AtomicUsize::new(0));
    let incidents = Incidents {
        event,
        published: published.clone(),
    };
    let settings = Settings::default();
    let ctx = BuildCtx::new(&ROW, &settings, Some(store.clone()), None);
    let parts = Parts {
        verifier: Box::new(PagerDutyV3 {
            keys: Keyring::new([Key::new("pd", SECRET)]),
        }),
        receiver: incidents,
        publisher,
        limits: Limits {
            body_bytes: 4096,
            ..Limits::default()
        },
    };
    let route = ctx.inbound(&HOOK, parts).expect("declared");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{}", listener.local_addr().unwrap(), HOOK.path);
    tokio::spawn(async move { axum::serve(listener, route.router).await.unwrap() });
    Hook {
        url,
        topic,
        store,
        published,
        http: reqwest::Client::new(),
    }
}

/// A fresh database, created without migrating the server's admin database
/// (which may hold another branch's migrations); ours run on the new one.
async fn own_pg() -> Store {
    let server = database_url();
    let name = unique("ceh_in").replace('-', "_");
    let admin = sqlx::PgPool::connect(&server).await.expect("PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create database");
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    Store::connect(&format!("{base}/{name}"), 16)
        .await
        .expect("store")
}

fn incident(id: &str, occurred_at: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let body = json!({"event": {
        "id": id,
        "event_type": "incident.acknowledged",
        "resource_type": "incident",
        "occurred_at": occurred_at.to_rfc3339(),
        "agent": null,
        "data": {"id": "PGR0VU2", "type": "incident", "status": "acknowledged"}
    }});
    serde_json::to_vec(&body).unwrap()
}

impl Hook {
    async fn post(&self, webhook_id: &str, body: &[u8], signature: Option<String>) -> (u16, Value) {
        let mut req = (self.http.post(&self.url))
            .header("x-webhook-id", webhook_id)
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(sig) = signature {
            req = req.header("x-pagerduty-signature", sig);
        }
        let r = req.send().await.expect("answered");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn signed(&self, webhook_id: &str, body: &[u8]) -> (u16, Value) {
        let sig = PagerDutyV3::sign(&[b"rotated-out", SECRET], body);
        self.post(webhook_id, body, Some(sig)).await
    }

    async fn events(&self) -> usize {
        read_all(&self.topic).await.len()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_refuses_unsigned_tampered_and_oversized_and_a_replay_is_a_duplicate() {
    let h = hook().await;
    let body = incident("e1", chrono::Utc::now());
    let (status, _) = h.post("w1", &body, None).await;
    assert_eq!(status, 401, "unsigned");
    let sig = PagerDutyV3::sign(&[SECRET], &body);
    let (status, _) = h
        .post("w1", br#"{"event":{"id":"forged"}}"#, Some(sig))
        .await;
    assert_eq!(status, 401, "tampered");
    let big = vec![b' '; 5000];
    let (status, _) = h.signed("w-big", &big).await;
    assert_eq!(status, 413, "oversized");
    assert_eq!(h.events().await, 0, "nothing refused reached the topic");

    let (status, reply) = h.signed("w1", &body).await;
    assert_eq!(
        (status, &reply["status"]),
        (200, &json!("produced")),
        "{reply}"
    );
    assert_eq!(reply["events"], 1);
    // 2xx came after the broker's ack: the event is on the topic now.
    assert_eq!(h.events().await, 1);
    let (status, reply) = h.signed("w1", &body).await;
    assert_eq!(
        (status, &reply["status"]),
        (200, &json!("duplicate")),
        "{reply}"
    );
    assert_eq!(h.events().await, 1, "the replay produced nothing");
    assert_eq!(h.published.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_concurrent_copies_of_a_delivery_produce_one_event() {
    let h = hook().await;
    let body = incident("e-conc", chrono::Utc::now());
    let copies = (0..5).map(|_| h.signed("w-conc", &body));
    let answers = futures::future::join_all(copies).await;
    let produced = answers
        .iter()
        .filter(|(s, r)| *s == 200 && r["status"] == "produced")
        .count();
    assert_eq!(produced, 1, "{answers:?}");
    for (status, reply) in &answers {
        // The others: a duplicate, or in flight (503, delivered again later).
        let ok = matches!(*status, 200 | 503);
        assert!(ok, "never a 4xx: {status} {reply}");
    }
    // Their retries, after the first finished, are duplicates.
    let (status, reply) = h.signed("w-conc", &body).await;
    assert_eq!((status, &reply["status"]), (200, &json!("duplicate")));
    assert_eq!(h.events().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_pagerduty_copies_are_duplicates_and_late_first_deliveries_are_produced() {
    let h = hook().await;
    let body = incident("e-late", chrono::Utc::now() - chrono::Duration::hours(47));
    let (status, _) = h.signed("w-late", &body).await;
    assert_eq!(status, 200);
    // As if that claim finished 47 h ago (kept 72 h from then).
    let hour = 3_600_000;
    let done_at = now_ms() - 47 * hour;
    sqlx::query(
        "UPDATE inbound_deliveries SET claimed_at = $1, expires_at = $2 \
         WHERE flavor = 'it-inbound' AND delivery_id = 'w-late' AND state = 'done'",
    )
    .bind(done_at)
    .bind(done_at + 72 * hour)
    .execute(h.store.pool())
    .await
    .unwrap();
    let (status, reply) = h.signed("w-late", &body).await;
    assert_eq!(
        (status, &reply["status"]),
        (200, &json!("duplicate")),
        "{reply}"
    );
    assert_eq!(h.events().await, 1);

    // A first delivery whose event is 47 h old (PagerDuty still retrying):
    // no timestamp to be stale, so it is produced.
    let old = incident("e-old", chrono::Utc::now() - chrono::Duration::hours(47));
    let (status, reply) = h.signed("w-old", &old).await;
    assert_eq!(
        (status, &reply["status"]),
        (200, &json!("produced")),
        "{reply}"
    );
    assert_eq!(h.events().await, 2);
}
