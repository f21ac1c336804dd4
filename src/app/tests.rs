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
