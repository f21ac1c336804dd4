//! Operations on the real broker: maintenance windows on a fast-forwarded
//! clock, circuit breakers around a failing dependency, live config reloads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use case_event_handler::app::live as reloader;
use case_event_handler::event::Event;
use case_event_handler::handler::{Ctx, HandleResp, Handler, HandlerError, Processor};
use case_event_handler::http::{Dependency, DependencySpec};
use case_event_handler::resilience::breaker::{self, BreakerConfig, State};
use case_event_handler::resilience::flags::Flags;
use case_event_handler::resilience::maintenance::{ManualClock, Window, WindowConfig};
use case_event_handler::runtime::live::Live;
use case_event_handler::settings::{self, LoadOptions};
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn window(yaml: &str) -> Window {
    let c: WindowConfig = serde_yaml::from_str(yaml).unwrap();
    Window::try_from(&c).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_window_stops_consumption_until_its_end_and_a_skip_window_skips_and_counts() {
    let (topic, group) = (unique("it-maint"), unique("g"));
    create_topic(&topic, 1).await;
    let clock = ManualClock::new(at("2026-12-01T01:00:00Z"));
    let mut config = test_config();
    let live = Arc::new(Live::new(
        "maint",
        vec![],
        clock.clone(),
        config.retry.clone(),
    ));
    let windows = [
        window(
            "{name: upgrade, mode: pause, start: 2026-12-01T02:00:00Z, end: 2026-12-01T03:00:00Z}",
        ),
        window("{name: quiet, mode: skip, start: 2026-12-01T05:00:00Z, end: 2026-12-01T06:00:00Z}"),
    ];
    live.apply(Flags::default(), &windows, config.retry.clone());
    config.live = Some(live);
    let seen = Recorded::default();
    let handler = Recorder {
        seen: seen.clone(),
        delay: no_delay,
    };
    let p = spawn_pipeline(
        "maint",
        Processor::Single(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        config,
        group_props(&group),
    );
    let events = synth(31, 3, 5);
    clock.set(at("2026-12-01T02:30:00Z"));
    publish(&topic, &events[..10]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        seen.total(),
        0,
        "nothing handled while the pause window is open"
    );
    assert!(committed(&group, &topic, 1)[&0] <= 0);
    clock.set(at("2026-12-01T03:00:01Z"));
    seen.wait_for(10, Duration::from_secs(30)).await;
    clock.set(at("2026-12-01T05:30:00Z"));
    publish(&topic, &events[10..]).await;
    eventually("skips committed", Duration::from_secs(30), || {
        committed(&group, &topic, 1)[&0] == 15
    })
    .await;
    let summary = p.stop().await.expect("clean stop");
    assert_eq!(
        seen.total(),
        10,
        "events inside the skip window were not handled"
    );
    assert_eq!(summary.skipped("maintenance:quiet"), 5, "{summary}");
    assert_eq!(summary.succeeded, 10, "{summary}");
}

/// Calls the flaky dependency once per event.
struct CallsDependency {
    dep: Dependency,
    url: String,
}

#[async_trait]
impl Handler for CallsDependency {
    async fn handle(&self, _: &Ctx, event: &Event) -> HandleResp {
        let req = self
            .dep
            .client()
            .post(&self.url)
            .body(event.event_id.clone());
        HandleResp::classify(
            self.dep
                .send(req, None)
                .await
                .map(|_| ())
                .map_err(HandlerError::from),
        )
    }
}

/// A dependency that answers 503 while `failing`, 200 after; records the ids it accepted.
async fn flaky_server(
    failing: Arc<AtomicBool>,
    accepted: Arc<Mutex<Vec<String>>>,
    refused: Arc<AtomicUsize>,
) -> String {
    use axum::http::StatusCode;
    let app = axum::Router::new().route(
        "/call",
        axum::routing::post(move |body: String| {
            let (failing, accepted, refused) = (failing.clone(), accepted.clone(), refused.clone());
            async move {
                if failing.load(AtomicOrdering::SeqCst) {
                    refused.fetch_add(1, AtomicOrdering::SeqCst);
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    accepted.lock().unwrap().push(body);
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/call")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_returning_503_opens_its_breaker_and_everything_is_handled_after_recovery() {
    let (topic, group) = (unique("it-breaker"), unique("g"));
    create_topic(&topic, 2).await;
    let name: &'static str = Box::leak(unique("flaky").into_boxed_str());
    breaker::registry().configure(
        name,
        BreakerConfig {
            window: 10,
            min_volume: 5,
            failure_ratio: 0.5,
            cool_down_ms: 300,
        },
    );
    let (failing, accepted, refused) = (
        Arc::new(AtomicBool::new(true)),
        Arc::default(),
        Arc::new(AtomicUsize::new(0)),
    );
    let url = flaky_server(failing.clone(), Arc::clone(&accepted), refused.clone()).await;
    let mut config = test_config();
    config.retry.max_attempts = 1_000;
    config.retry.max = Duration::from_millis(100);
    config.live = Some(Arc::new(Live::new(
        "breaker",
        vec![name],
        Arc::new(case_event_handler::resilience::maintenance::SystemClock),
        config.retry.clone(),
    )));
    let handler = CallsDependency {
        dep: {
            let spec = Box::leak(Box::new(DependencySpec::new(name, "a flaky test server")));
            Dependency::new(spec, &spec.http(None)).unwrap()
        },
        url,
    };
    let p = spawn_pipeline(
        "breaker",
        Processor::Single(Arc::new(handler)),
        Some(pg_store().await),
        &topic,
        config,
        group_props(&group),
    );
    let events = synth(32, 10, 3);
    publish(&topic, &events).await;
    let saw_open = Arc::new(AtomicBool::new(false));
    let watch = {
        let saw_open = saw_open.clone();
        tokio::spawn(async move {
            loop {
                if breaker::registry()
                    .states()
                    .iter()
                    .any(|(d, s)| d == name && *s == State::Open)
                {
                    saw_open.store(true, AtomicOrdering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(4)).await;
    let refused_while_down = refused.load(AtomicOrdering::SeqCst);
    failing.store(false, AtomicOrdering::SeqCst);
    eventually("all committed", Duration::from_secs(60), || {
        committed(&group, &topic, 2) == end_offsets(&topic, 2)
    })
    .await;
    watch.abort();
    let summary = p.stop().await.expect("clean stop");
    assert!(
        saw_open.load(AtomicOrdering::SeqCst),
        "the breaker never opened"
    );
    assert_eq!(summary.succeeded, 30, "{summary}");
    let mut ids = accepted.lock().unwrap().clone();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        30,
        "every event reached the dependency after recovery"
    );
    // Without a breaker, 30 events retrying every ≤100 ms for 4 s would send
    // over a thousand calls; the open breaker lets only probes through.
    assert!(
        refused_while_down < 300,
        "{refused_while_down} calls reached the failing dependency"
    );
}

/// Records the value of one flag per event.
struct FlagProbe(Arc<Mutex<Vec<bool>>>);

#[async_trait]
impl Handler for FlagProbe {
    async fn handle(&self, ctx: &Ctx, event: &Event) -> HandleResp {
        self.0.lock().unwrap().push(ctx.flag("ops.flag", event));
        HandleResp::Success
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_the_config_file_turns_a_flag_off_and_an_invalid_edit_is_rejected() {
    let (topic, group) = (unique("it-live"), unique("g"));
    create_topic(&topic, 1).await;
    let dir = tempfile::tempdir().unwrap();
    for f in ["base.yaml", "ci.yaml"] {
        std::fs::copy(
            format!("{}/config/{f}", env!("CARGO_MANIFEST_DIR")),
            dir.path().join(f),
        )
        .unwrap();
    }
    let extra = dir.path().join("live.yaml");
    std::fs::write(&extra, "features:\n  ops.flag: true\n").unwrap();
    let opts = LoadOptions {
        config_dir: dir.path().to_path_buf(),
        env: "ci".into(),
        extra_file: Some(extra.clone()),
        overrides: vec![format!("kafka.brokers={}", brokers())],
        env_vars: vec![],
    };
    let settings = settings::load(&opts).expect("valid config");
    let mut config = test_config();
    let live = Arc::new(Live::fixed("live", config.retry.clone()));
    reloader::apply(&settings, "live", &live);
    config.live = Some(live.clone());
    let stop = CancellationToken::new();
    reloader::spawn(
        opts,
        settings,
        "live",
        live.clone(),
        Duration::from_millis(100),
        stop.clone(),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let p = spawn_pipeline(
        "live",
        Processor::Single(Arc::new(FlagProbe(seen.clone()))),
        Some(pg_store().await),
        &topic,
        config,
        group_props(&group),
    );
    let events = synth(33, 3, 5);
    publish(&topic, &events[..5]).await;
    eventually("first five", Duration::from_secs(30), || {
        seen.lock().unwrap().len() == 5
    })
    .await;
    std::fs::write(&extra, "features:\n  ops.flag: false\n").unwrap();
    eventually("reload applied", Duration::from_secs(10), || {
        live.reloads().0 >= 2
    })
    .await;
    publish(&topic, &events[5..10]).await;
    eventually("next five", Duration::from_secs(30), || {
        seen.lock().unwrap().len() == 10
    })
    .await;
    std::fs::write(&extra, "features:\n  ops.flag: {percentage: 500}\n").unwrap();
    eventually("invalid reload rejected", Duration::from_secs(10), || {
        live.reloads().1 >= 1
    })
    .await;
    publish(&topic, &events[10..]).await;
    eventually("last five", Duration::from_secs(30), || {
        seen.lock().unwrap().len() == 15
    })
    .await;
    stop.cancel();
    p.stop().await.expect("clean stop");
    let seen = seen.lock().unwrap().clone();
    assert!(seen[..5].iter().all(|on| *on), "flag on at first: {seen:?}");
    assert!(
        seen[5..].iter().all(|on| !on),
        "flag off after the edit, and the invalid edit changed nothing: {seen:?}"
    );
}
