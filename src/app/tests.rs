use super::*;

static HOOK: crate::flavors::kit::RouteSpec = crate::flavors::kit::RouteSpec {
    path: "/webhooks/unit",
    summary: "a unit test's route",
};

fn route() -> InboundRoute {
    let router =
        axum::Router::new().route("/webhooks/unit", axum::routing::post(|| async { "ok" }));
    InboundRoute {
        spec: &HOOK,
        router,
    }
}

#[tokio::test]
async fn a_flavor_with_routes_refuses_to_run_when_its_listener_cannot_bind() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = TelemetrySettings {
        http_addr: taken.local_addr().unwrap(),
        ..TelemetrySettings::default()
    };
    let err = serve(&settings, None, vec![route()])
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(text.contains(&settings.http_addr.to_string()), "{text}");
    assert!(text.contains("/webhooks/unit"), "{text}");

    // Without routes the run goes on (logged only), as before.
    let served = serve(&settings, None, Vec::new()).await.expect("runs on");
    assert!(served.addr().is_none());

    // A free address serves the route.
    let free = TelemetrySettings {
        http_addr: "127.0.0.1:0".parse().unwrap(),
        ..TelemetrySettings::default()
    };
    let served = serve(&free, None, vec![route()]).await.expect("bound");
    assert!(served.addr().is_some());
    served.stop().await;
}

/// A file source that is never read (the runs below stop before it).
fn stdin() -> SourceSpec {
    SourceSpec::parse("stdin").expect("stdin")
}

#[tokio::test]
async fn run_loads_the_rules_first_and_refuses_invalid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "notification_rules:\n  - id: n1\n    colour: red\n";
    std::fs::write(dir.path().join("SEC.yaml"), bad).unwrap();
    let mut settings = Settings::default();
    settings.rules.dir = Some(dir.path().to_owned());
    // A store that cannot be opened: the rules are refused before it is tried.
    settings.store.url = "postgres://nobody@127.0.0.1:1/none".into();
    let spec = flavors::find("timeline").unwrap();
    let err = run(&settings, spec, stdin(), None, CancellationToken::new())
        .await
        .expect_err("invalid rules refuse the start");
    let text = format!("{err:#}");
    assert!(text.starts_with("rules directory "), "{text}");
    assert!(text.contains("colour"), "{text}");
}

#[tokio::test]
async fn a_flavor_that_reads_rules_refuses_to_run_without_rules_dir() {
    let db = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    let url = format!("sqlite://{}?mode=rwc", db.path().join("ceh.db").display());
    settings.store.url = url.into();
    let spec = flavors::find("jira").unwrap();
    let err = run(&settings, spec, stdin(), None, CancellationToken::new())
        .await
        .expect_err("jira needs the rules");
    let text = format!("{err:#}");
    assert!(text.contains("rules.dir is not configured"), "{text}");
}
