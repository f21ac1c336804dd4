//! Unit tests of the webhook transport: the address table, the URL check,
//! and real POSTs to a loopback server (axum on 127.0.0.1:0).

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{HeaderMap, HeaderValue, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use tokio::io::AsyncReadExt;

use super::*;
use crate::flavors::kit::delivery::Attempt;

/// The production policy.
fn strict() -> EndpointPolicy {
    EndpointPolicy::default()
}

/// The policy of the loopback tests: http to private addresses, short
/// timeouts.
fn loopback() -> EndpointPolicy {
    EndpointPolicy {
        allow_http: true,
        allow_private: true,
        timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(500),
        ..EndpointPolicy::default()
    }
}

#[test]
fn is_public_follows_the_table() {
    let refused = [
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.255.255.255",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::10.0.0.1",
        "64:ff9b:1::1",
        "2002:7f00:1::1",
        "2002:a9fe:a9fe::1",
        "2001::1",
        "2001:db8::1",
        "3fff::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "100::1",
    ];
    for ip in refused {
        assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
    }
    let public = [
        "1.1.1.1",
        "8.8.8.8",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "169.253.255.255",
        "192.0.3.1",
        "193.0.0.1",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:0808:0808::1",
    ];
    for ip in public {
        assert!(is_public(ip.parse().unwrap()), "{ip} must be public");
    }
}

#[test]
fn check_url_refuses_internal_literals_credentials_and_other_schemes() {
    for url in [
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:10.0.0.1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://0x7f.1/",
        "https://2130706433/",
    ] {
        let err = check_url(&strict(), url).unwrap_err();
        assert!(
            matches!(err, UrlRefused::NotPublic { .. }),
            "{url}: {err:?}"
        );
    }
    let err = check_url(&strict(), "ftp://example.com/").unwrap_err();
    assert!(matches!(err, UrlRefused::Scheme { .. }), "{err:?}");
    let err = check_url(&strict(), "https://user:pw@example.com/hook?token=abcd").unwrap_err();
    assert!(matches!(err, UrlRefused::Credentials { .. }), "{err:?}");
    let text = err.to_string();
    assert!(!text.contains("pw") && !text.contains("user"), "{text}");
    assert!(!text.contains("token") && !text.contains("/hook"), "{text}");
    assert!(text.contains("https://example.com"), "{text}");
    // A token as the user name is a credential too.
    let err = check_url(&strict(), "https://tok3n@example.com/").unwrap_err();
    assert!(matches!(err, UrlRefused::Credentials { .. }) && !err.to_string().contains("tok3n"));
    assert!(matches!(
        check_url(&strict(), "not a url"),
        Err(UrlRefused::Unparseable { .. })
    ));
    assert!(check_url(&strict(), "https://example.com/hook?x=1").is_ok());
    assert!(check_url(&strict(), "https://8.8.8.8/").is_ok());
}

#[test]
fn private_literals_pass_only_when_allowed() {
    let allowed = EndpointPolicy {
        allow_private: true,
        ..strict()
    };
    assert!(check_url(&allowed, "https://127.0.0.1/").is_ok());
    assert!(check_url(&allowed, "https://[::1]/").is_ok());
    // Credentials and schemes are refused all the same.
    assert!(check_url(&allowed, "https://user:pw@127.0.0.1/").is_err());
    assert!(check_url(&allowed, "ftp://127.0.0.1/").is_err());
}

#[test]
fn http_is_refused_unless_allowed() {
    let err = check_url(&strict(), "http://example.com/").unwrap_err();
    assert!(matches!(err, UrlRefused::Scheme { .. }), "{err:?}");
    let local = EndpointPolicy {
        allow_http: true,
        ..strict()
    };
    assert!(check_url(&local, "http://example.com/").is_ok());
    assert!(check_url(&local, "https://example.com/").is_ok());
    assert!(check_url(&local, "ftp://example.com/").is_err());
    assert!(check_url(&local, "file:///etc/passwd").is_err());
}

#[test]
fn the_allow_list_matches_hosts_and_subdomains_only() {
    let policy = EndpointPolicy {
        allowed_hosts: vec!["*.example.com".into(), "hooks.acme.test".into()],
        ..strict()
    };
    for ok in [
        "https://a.example.com/",
        "https://b.a.example.com/x",
        "https://A.Example.COM/",
        "https://hooks.acme.test/",
    ] {
        assert!(check_url(&policy, ok).is_ok(), "{ok}");
    }
    for refused in [
        "https://example.org/",
        "https://evilexample.com/",
        "https://example.com/",
        "https://a.example.com.evil.org/",
        "https://x.hooks.acme.test/",
    ] {
        let err = check_url(&policy, refused).unwrap_err();
        assert!(
            matches!(err, UrlRefused::NotAllowed { .. }),
            "{refused}: {err:?}"
        );
    }
}

#[test]
fn outcomes_map_onto_the_kits_attempts() {
    let transient = Outcome::Transient {
        error: "HTTP 503".into(),
        retry_after: Some(Duration::from_secs(2)),
    };
    assert_eq!(
        DeliveryOutcome::from(transient).attempt(),
        Attempt::Transient {
            error: "HTTP 503",
            retry_after: Some(Duration::from_secs(2))
        }
    );
    let delivered = Outcome::Delivered {
        status: StatusCode::OK,
    };
    assert_eq!(
        DeliveryOutcome::from(delivered).attempt(),
        Attempt::Delivered
    );
}

/// A loopback server: `/hook` answers as `respond` says, `/other` is a
/// redirect target; each route counts its requests.
struct Server {
    base: String,
    hook: Arc<AtomicUsize>,
    other: Arc<AtomicUsize>,
}

async fn serve<F, R>(respond: F) -> Server
where
    F: Fn(HeaderMap) -> R + Clone + Send + Sync + 'static,
    R: std::future::Future<Output = axum::response::Response> + Send + 'static,
{
    let (hook, other) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (h, o) = (hook.clone(), other.clone());
    let app = Router::new()
        .route(
            "/hook",
            post(move |headers: HeaderMap| {
                h.fetch_add(1, Ordering::SeqCst);
                respond(headers)
            }),
        )
        .route(
            "/other",
            post(move || async move {
                o.fetch_add(1, Ordering::SeqCst);
                "other"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base: format!("http://127.0.0.1:{port}"),
        hook,
        other,
    }
}

/// POSTs to the server's `/hook` with a secret query and a signature.
async fn post_hook(policy: EndpointPolicy, base: &str) -> Outcome {
    let transport = WebhookTransport::new(policy).unwrap();
    let url = check_url(transport.policy(), &format!("{base}/hook?token=s3cr3t-q")).unwrap();
    let headers = [("x-signature", "sig-s3cr3t-value".to_string())];
    let outcome = transport.post(&url, &headers, b"{}".to_vec()).await;
    let text = format!("{outcome:?}");
    assert!(!text.contains("s3cr3t"), "a secret leaked: {text}");
    outcome
}

fn status(code: u16, body: &'static str) -> axum::response::Response {
    (AxumStatus::from_u16(code).unwrap(), body).into_response()
}

#[tokio::test]
async fn a_2xx_is_delivered_as_json_with_the_user_agent() {
    let server = serve(|headers: HeaderMap| async move {
        let json =
            headers.get("content-type") == Some(&HeaderValue::from_static("application/json"));
        let agent = headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let signed = headers.get("x-signature").is_some();
        let ok = json && agent.starts_with("case-event-handler/") && signed;
        status(if ok { 204 } else { 400 }, "")
    })
    .await;
    let outcome = post_hook(loopback(), &server.base).await;
    assert_eq!(
        outcome,
        Outcome::Delivered {
            status: StatusCode::NO_CONTENT
        }
    );
    assert_eq!(server.hook.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_410_is_gone() {
    let server = serve(|_| async { status(410, "endpoint removed") }).await;
    match post_hook(loopback(), &server.base).await {
        Outcome::Gone { error } => assert!(
            error.contains("410") && error.contains("endpoint removed"),
            "{error}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_500_is_transient_with_the_body_start_redacted() {
    // The endpoint echoes the signature: the error must not.
    let server = serve(|headers: HeaderMap| async move {
        let sig = headers
            .get("x-signature")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        // The signature also straddles the 200th character.
        let body = format!("boom {sig} {} {sig}", "x".repeat(170));
        (AxumStatus::INTERNAL_SERVER_ERROR, body).into_response()
    })
    .await;
    match post_hook(loopback(), &server.base).await {
        Outcome::Transient { error, retry_after } => {
            assert!(
                error.starts_with("HTTP 500") && error.contains("boom [redacted] xxx"),
                "{error}"
            );
            assert!(
                error.chars().count() <= 200 + "HTTP 500 Internal Server Error: ".len(),
                "{error}"
            );
            assert!(!error.contains("sig-"), "{error}");
            assert_eq!(retry_after, None);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_429_is_transient_with_its_retry_after() {
    let server = serve(|_| async {
        (
            AxumStatus::TOO_MANY_REQUESTS,
            [("retry-after", "7")],
            "slow down",
        )
            .into_response()
    })
    .await;
    match post_hook(loopback(), &server.base).await {
        Outcome::Transient { error, retry_after } => {
            assert!(error.contains("429"), "{error}");
            assert_eq!(retry_after, Some(Duration::from_secs(7)));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_400_is_permanent() {
    let server = serve(|_| async { status(400, "bad payload") }).await;
    match post_hook(loopback(), &server.base).await {
        Outcome::Permanent { error } => assert!(
            error.contains("400") && error.contains("bad payload"),
            "{error}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_is_transient_and_never_followed() {
    let server =
        serve(|_| async { (AxumStatus::FOUND, [("location", "/other")], "").into_response() })
            .await;
    match post_hook(loopback(), &server.base).await {
        Outcome::Transient { error, .. } => assert!(error.contains("302"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hook.load(Ordering::SeqCst), 1);
    assert_eq!(
        server.other.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

#[tokio::test]
async fn a_slow_endpoint_times_out_as_transient() {
    let server = serve(|_| async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        status(200, "")
    })
    .await;
    match post_hook(loopback(), &server.base).await {
        Outcome::Transient { error, .. } => assert!(error.contains("timed out"), "{error}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_transient() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            drop(socket);
        }
    });
    let outcome = post_hook(loopback(), &format!("http://127.0.0.1:{port}")).await;
    assert!(matches!(outcome, Outcome::Transient { .. }), "{outcome:?}");
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_before_any_request() {
    let server = serve(|_| async { status(200, "") }).await;
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let policy = EndpointPolicy {
        allow_private: false,
        ..loopback()
    };
    // The URL check passes (a name, not a literal): the resolver refuses.
    let base = format!("http://localhost:{port}");
    match post_hook(policy, &base).await {
        Outcome::Permanent { error } => {
            assert!(error.contains("resolved only to refused"), "{error}");
            assert!(error.contains("localhost"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.hook.load(Ordering::SeqCst),
        0,
        "a request reached the server"
    );
}

#[tokio::test]
async fn post_checks_the_url_again() {
    let server = serve(|_| async { status(200, "") }).await;
    let transport = WebhookTransport::new(EndpointPolicy {
        allow_private: false,
        ..loopback()
    })
    .unwrap();
    let url = Url::parse(&format!("{}/hook", server.base)).unwrap();
    match transport.post(&url, &[], Vec::new()).await {
        Outcome::Permanent { error } => assert!(error.contains("not public"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hook.load(Ordering::SeqCst), 0);
}
