//! The claim state machine on SQLite, the declaration checks, and the route
//! up to the publisher (the broker path is in tests/it/inbound.rs).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;

use super::claims::{self, Claim};
use super::*;
use crate::flavors::kit::{
    BuildCtx, BuildError, Built, ConfigOf, Consumes, EventPublisher, FlavorSpec, NoConfig,
    Produces, Style,
};
use crate::settings::{KafkaSettings, Settings};
use crate::store::{now_ms, Store};

const LEASE: Duration = Duration::from_secs(60);
const H: i64 = 3_600_000;

#[tokio::test]
async fn claims_new_duplicate_in_flight_takeover_release_and_expiry() {
    let (_dir, store) = Store::temp_sqlite(4).await;
    let pool = store.pool();
    let t = 1_000 * H;
    let claim = |id: &'static str, at: i64| claims::claim(pool, "f", id, at, LEASE);
    assert_eq!(claim("d1", t).await.unwrap(), Claim::Mine, "new");
    assert_eq!(
        claim("d1", t + 1).await.unwrap(),
        Claim::Taken { done: false },
        "in flight"
    );
    // Another flavor's delivery of the same id is its own.
    assert_eq!(
        claims::claim(pool, "g", "d1", t, LEASE).await.unwrap(),
        Claim::Mine
    );
    // The lease ran out (a crash): a copy takes it over, once.
    assert_eq!(
        claim("d1", t + 60_001).await.unwrap(),
        Claim::Mine,
        "takeover"
    );
    assert_eq!(
        claim("d1", t + 60_002).await.unwrap(),
        Claim::Taken { done: false }
    );
    claims::finish(pool, "f", "d1", t + 60_002, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        claim("d1", t + 61_000).await.unwrap(),
        Claim::Taken { done: true },
        "duplicate"
    );
    // Retention is at least 72 h (asked: zero): 71 h later still a duplicate.
    assert_eq!(
        claim("d1", t + 60_002 + 71 * H).await.unwrap(),
        Claim::Taken { done: true }
    );
    // A done row past its expiry is new again, and the sweep removes such rows.
    assert_eq!(claim("d1", t + 60_002 + 72 * H).await.unwrap(), Claim::Mine);

    // Release gives a failed claim back at once; it never deletes a done row.
    assert_eq!(claim("d2", t).await.unwrap(), Claim::Mine);
    claims::release(pool, "f", "d2").await.unwrap();
    assert_eq!(claim("d2", t + 1).await.unwrap(), Claim::Mine, "released");
    claims::finish(pool, "f", "d2", t + 1, Duration::from_secs(100 * 3600))
        .await
        .unwrap();
    claims::release(pool, "f", "d2").await.unwrap();
    assert_eq!(
        claim("d2", t + 2).await.unwrap(),
        Claim::Taken { done: true }
    );

    // Sweep: d2 is kept 100 h; the claims of g/d1 and (since 72 h) f/d1
    // were never finished and their leases ran out long ago.
    let gone = claims::sweep(pool, t + 99 * H).await.unwrap();
    assert_eq!(gone, 2, "only the stale claims");
    assert_eq!(
        claim("d2", t + 99 * H).await.unwrap(),
        Claim::Taken { done: true }
    );
    let gone = claims::sweep(pool, t + 200 * H).await.unwrap();
    assert_eq!(gone, 1, "d2, past its retention");
}

#[tokio::test]
async fn of_concurrent_claims_exactly_one_wins() {
    let (_dir, store) = Store::temp_sqlite(4).await;
    let now = now_ms();
    let tries = (0..8).map(|_| claims::claim(store.pool(), "f", "same", now, LEASE));
    let got = futures::future::join_all(tries).await;
    let mine = got.iter().filter(|c| matches!(c, Ok(Claim::Mine))).count();
    assert_eq!(mine, 1, "{got:?}");
}

static HOOK: RouteSpec = RouteSpec {
    path: "/webhooks/unit",
    summary: "a unit test's route",
};
static OTHER: RouteSpec = RouteSpec {
    path: "/webhooks/other",
    summary: "not declared",
};

fn row(build: for<'a> fn(BuildCtx<'a>) -> BoxFut<'a>) -> &'static FlavorSpec {
    Box::leak(Box::new(FlavorSpec {
        name: "inbound-unit",
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
        build,
    }))
}

type BoxFut<'a> = futures::future::BoxFuture<'a, Result<Built, BuildError>>;

/// A publisher on a broker that is not there: only for routes that never publish.
fn nowhere() -> EventPublisher {
    let kafka = KafkaSettings {
        brokers: "127.0.0.1:1".into(),
        ..KafkaSettings::default()
    };
    EventPublisher::new(
        crate::app::kafka::producer(&kafka).unwrap(),
        &kafka,
        "inbound-unit",
    )
}

/// Answers by the body: `ignore`, `malformed`, `unauthorized`, `unavailable`.
#[derive(Default)]
struct ByBody {
    calls: AtomicUsize,
}

#[async_trait]
impl Receiver for Arc<ByBody> {
    type Then = ();

    fn delivery_id(&self, headers: &axum::http::HeaderMap, _body: &[u8]) -> Option<String> {
        headers.get("x-id")?.to_str().ok().map(str::to_string)
    }

    async fn receive(&self, d: &Delivery<'_>) -> Result<Received<()>, InboundError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match d.body {
            b"malformed" => Err(InboundError::Malformed("not json".into())),
            b"unauthorized" => Err(InboundError::Unauthorized("signer".into())),
            b"unavailable" => Err(InboundError::Unavailable("db".into())),
            _ => Ok(Received::Ignored(format!(
                "signed by {}",
                d.signers.join(",")
            ))),
        }
    }
}

fn verifier() -> Box<dyn Verifier> {
    Box::new(SharedSecret::Header(
        "x-token",
        Keyring::new([Key::new("k", "tok")]),
    ))
}

#[tokio::test]
async fn the_ctx_refuses_a_route_its_row_does_not_declare_and_check_too() {
    let spec = row(|ctx| {
        async move {
            let parts = Parts {
                verifier: verifier(),
                receiver: Arc::new(ByBody::default()),
                publisher: nowhere(),
                limits: Limits::default(),
            };
            ctx.inbound(&OTHER, parts).map(|_| unreachable!())
        }
        .boxed()
    });
    let settings = Settings::default();
    let (_dir, store) = Store::temp_sqlite(4).await;
    let ctx = BuildCtx::new(spec, &settings, Some(store.clone()), None);
    let err = (spec.build)(ctx).await.err().unwrap().to_string();
    assert!(err.contains("/webhooks/other"), "{err}");

    let ctx = BuildCtx::new(spec, &settings, Some(store), None);
    let built = Built {
        processor: crate::handler::Processor::Single(Arc::new(Nothing)),
        routes: vec![InboundRoute {
            spec: &OTHER,
            router: axum::Router::new(),
        }],
        deliverer: None,
    };
    let err = built.check(spec).err().unwrap().to_string();
    assert!(err.contains("/webhooks/other"), "{err}");
    drop(ctx);
}

struct Nothing;

#[async_trait]
impl crate::handler::Handler for Nothing {
    async fn handle(
        &self,
        _: &crate::handler::Ctx,
        _: &crate::event::Event,
    ) -> crate::handler::HandleResp {
        crate::handler::HandleResp::Success
    }
}

async fn serve(store: Store, receiver: Arc<ByBody>, limits: Limits) -> String {
    let spec = row(|_| async { unreachable!() }.boxed());
    let settings = Settings::default();
    let ctx = BuildCtx::new(spec, &settings, Some(store), None);
    let parts = Parts {
        verifier: verifier(),
        receiver,
        publisher: nowhere(),
        limits,
    };
    let route = ctx.inbound(&HOOK, parts).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}{}", listener.local_addr().unwrap(), HOOK.path);
    tokio::spawn(async move { axum::serve(listener, route.router).await.unwrap() });
    url
}

#[tokio::test]
async fn the_route_verifies_claims_and_maps_every_failure_to_one_status() {
    let (_dir, store) = Store::temp_sqlite(4).await;
    let receiver = Arc::new(ByBody::default());
    let limits = Limits {
        body_bytes: 64,
        ..Limits::default()
    };
    let url = serve(store.clone(), receiver.clone(), limits).await;
    let http = reqwest::Client::new();
    let post = |id: &str, token: &str, body: &'static [u8]| {
        let mut req = http.post(&url).body(body);
        if !token.is_empty() {
            req = req.header("x-token", token);
        }
        req.header("x-id", id).send()
    };
    let status = |r: &reqwest::Response| r.status().as_u16();

    let r = post("a", "", b"ignore").await.unwrap();
    assert_eq!(status(&r), 401, "unsigned");
    let r = post("a", "bad", b"ignore").await.unwrap();
    assert_eq!(status(&r), 401, "bad secret");
    let r = post("a", "tok", &[b'x'; 65]).await.unwrap();
    assert_eq!(status(&r), 413, "too large");
    assert_eq!(
        receiver.calls.load(Ordering::SeqCst),
        0,
        "nothing read them"
    );

    let r = post("a", "tok", b"ignore").await.unwrap();
    assert_eq!(status(&r), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ignored");
    assert_eq!(body["reason"], "signed by k");
    let r = post("a", "tok", b"ignore").await.unwrap();
    assert_eq!(status(&r), 200);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "duplicate"
    );
    assert_eq!(receiver.calls.load(Ordering::SeqCst), 1);

    for (id, body, want) in [
        ("m", &b"malformed"[..], 400),
        ("u", b"unauthorized", 401),
        ("x", b"unavailable", 503),
    ] {
        let r = post(id, "tok", body).await.unwrap();
        assert_eq!(status(&r), want, "{id}");
        if want == 503 {
            assert!(r.headers().contains_key("retry-after"));
        }
        // Released: the next copy is handled again, not a duplicate.
        let again = claims::claim(store.pool(), "inbound-unit", id, now_ms(), LEASE).await;
        assert_eq!(again.unwrap(), Claim::Mine, "{id} released");
    }

    // Another request holds a live lease: 503 with Retry-After, never 4xx.
    claims::claim(store.pool(), "inbound-unit", "busy", now_ms(), LEASE)
        .await
        .unwrap();
    let r = post("busy", "tok", b"ignore").await.unwrap();
    assert_eq!(status(&r), 503);
    assert_eq!(
        r.headers()["retry-after"],
        RETRY_AFTER_S.to_string().as_str()
    );

    // A very long id is kept as its digest: still one delivery.
    let long = "L".repeat(500);
    assert_eq!(status(&post(&long, "tok", b"ignore").await.unwrap()), 200);
    let r = post(&long, "tok", b"ignore").await.unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "duplicate"
    );

    // Without an id, the body's SHA-256 is the id.
    let r = http
        .post(&url)
        .header("x-token", "tok")
        .body("ignore")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "ignored"
    );
    let r = http
        .post(&url)
        .header("x-token", "tok")
        .body("ignore")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["status"],
        "duplicate"
    );

    let text = crate::telemetry::metrics::render();
    let n = |result: &str| {
        crate::telemetry::metrics::find(
            &text,
            "ceh_inbound_deliveries_total",
            &[
                ("flavor", "inbound-unit"),
                ("route", HOOK.path),
                ("result", result),
            ],
        )
        .unwrap_or_default()
    };
    assert!(n("unsigned") >= 1.0 && n("bad_signature") >= 1.0 && n("too_large") >= 1.0);
    assert!(n("duplicate") >= 2.0 && n("in_flight") >= 1.0 && n("unavailable") >= 1.0);
}
