//! The sender against a real SMTP server, Mailpit (`scripts/services.sh up
//! mailpit`; address from `SMTP_HOST`/`SMTP_PORT`/`MAILPIT_URL`, default
//! 127.0.0.1:1025 and http://127.0.0.1:8025). A missing Mailpit fails these
//! tests. Every test sends to its own unique recipient and reads back by it
//! (`GET /api/v1/search?query=to:…`). Mailpit's chaos triggers are global to
//! the server, so every test here holds [`CHAOS`]: shared by the plain sends,
//! exclusive while a trigger is set.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::RwLock;

use super::*;

/// Read by the tests that send normally, written by the one that sets chaos triggers.
static CHAOS: LazyLock<RwLock<()>> = LazyLock::new(|| RwLock::new(()));

const PASSWORD: &str = "hunter2-smtp-password";

fn smtp_host() -> String {
    std::env::var("SMTP_HOST").unwrap_or_else(|_| "127.0.0.1".into())
}

fn smtp_port() -> u16 {
    std::env::var("SMTP_PORT").map_or(1025, |p| p.parse().expect("SMTP_PORT is a port"))
}

fn mailpit_url() -> String {
    std::env::var("MAILPIT_URL").unwrap_or_else(|_| "http://127.0.0.1:8025".into())
}

fn config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: smtp_host(),
        port,
        tls: Tls::None,
        username: Some("ceh".into()),
        password: Some(PASSWORD.into()),
        from: "Case Events <cases@ceh.example>".into(),
        timeout: Duration::from_secs(10),
    }
}

fn sender() -> EmailSender {
    EmailSender::new(config(smtp_port())).expect("a sender")
}

/// A recipient no other test (or earlier run) uses.
fn recipient(what: &str) -> String {
    format!("{what}-{}@ceh.example", uuid::Uuid::new_v4().simple())
}

/// Mailpit's API, failing the test when it does not answer.
async fn api(method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let url = format!("{}/api/v1/{path}", mailpit_url());
    let mut request = reqwest::Client::new().request(method, &url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap_or_else(|e| {
        panic!("Mailpit does not answer at {url} ({e}); start it: scripts/services.sh up mailpit")
    });
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.expect("Mailpit answers JSON")
}

/// The stored messages to `to`, waiting up to 10 s for at least `count`.
async fn messages_to(to: &str, count: usize) -> Vec<Value> {
    let path = format!("search?query=to:{to}");
    for _ in 0..100 {
        let found = api(reqwest::Method::GET, &path, None).await["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("Mailpit holds fewer than {count} messages to {to} after 10 s")
}

/// Sets one of Mailpit's chaos triggers ("Recipient", "Authentication") to
/// answer `code` every time; the others are reset. `None` resets them all.
async fn chaos(trigger: Option<(&str, u16)>) {
    let body = match trigger {
        Some((key, code)) => json!({ key: {"ErrorCode": code, "Probability": 100} }),
        None => json!({}),
    };
    api(reqwest::Method::PUT, "chaos", Some(body)).await;
}

#[tokio::test]
async fn a_message_arrives_multipart_with_its_message_id() {
    let _shared = CHAOS.read().await;
    let to = recipient("arrives");
    let id = message_id("CASE-1", "evt-1", &to);
    let outcome = sender()
        .send(
            &to,
            "Case CASE-1 opened",
            "plain body",
            "<p>html body</p>",
            &id,
        )
        .await;
    assert_eq!(outcome, SendOutcome::Sent);

    let listed = messages_to(&to, 1).await;
    assert_eq!(listed.len(), 1);
    let mid = listed[0]["ID"].as_str().expect("an ID");
    let message = api(reqwest::Method::GET, &format!("message/{mid}"), None).await;
    assert_eq!(message["Subject"], "Case CASE-1 opened");
    assert_eq!(message["To"][0]["Address"], to.as_str());
    assert_eq!(message["From"]["Address"], "cases@ceh.example");
    assert_eq!(
        message["MessageID"]
            .as_str()
            .map(|m| m.trim_matches(['<', '>'])),
        Some(id.trim_matches(['<', '>']))
    );
    assert_eq!(message["Text"].as_str().map(str::trim), Some("plain body"));
    assert!(message["HTML"]
        .as_str()
        .is_some_and(|h| h.contains("<p>html body</p>")));

    let headers = api(
        reqwest::Method::GET,
        &format!("message/{mid}/headers"),
        None,
    )
    .await;
    let content_type = headers["Content-Type"][0].as_str().unwrap_or_default();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    assert_eq!(headers["Message-Id"][0].as_str(), Some(id.as_str()));
    assert!(headers.get("List-Unsubscribe").is_none());
}

/// SMTP has no idempotency: a resend after a crash is a second message. The
/// shared Message-ID is what lets a mail client thread or drop it.
#[tokio::test]
async fn the_same_message_id_twice_is_stored_twice() {
    let _shared = CHAOS.read().await;
    let to = recipient("twice");
    let id = message_id("CASE-2", "evt-2", &to);
    let sender = sender();
    for _ in 0..2 {
        assert_eq!(
            sender.send(&to, "again", "text", "<b>html</b>", &id).await,
            SendOutcome::Sent
        );
    }
    let listed = messages_to(&to, 2).await;
    assert_eq!(listed.len(), 2);
    for message in &listed {
        assert_eq!(
            message["MessageID"]
                .as_str()
                .map(|m| m.trim_matches(['<', '>'])),
            Some(id.trim_matches(['<', '>']))
        );
    }
}

/// Chaos steps in sequence, holding the lock exclusively; the triggers are
/// reset before anything is asserted, so a failure leaves Mailpit clean.
#[tokio::test]
async fn chaos_4xx_is_transient_5xx_is_permanent_and_no_password_leaks() {
    let _exclusive = CHAOS.write().await;
    let to = recipient("chaos");
    let id = message_id("CASE-3", "evt-3", &to);
    let mut outcomes = Vec::new();
    for trigger in [
        Some(("Recipient", 451)),
        Some(("Recipient", 550)),
        Some(("Authentication", 535)),
        None,
    ] {
        chaos(trigger).await;
        // A new sender each time: a pooled connection would skip AUTH.
        outcomes.push(
            sender()
                .send(&to, "chaos", "text", "<i>html</i>", &id)
                .await,
        );
    }
    chaos(None).await;
    eprintln!("chaos outcomes: {outcomes:#?}");

    let codes = ["451", "550", "535"];
    for (outcome, code) in outcomes.iter().zip(codes) {
        let error = match outcome {
            SendOutcome::Transient { error } if code.starts_with('4') => error,
            SendOutcome::Permanent { error } if code.starts_with('5') => error,
            _ => panic!("chaos {code} gave {outcome:?}"),
        };
        assert!(error.contains(code), "{error}");
        assert!(!error.contains(PASSWORD), "{error}");
    }
    assert_eq!(outcomes[3], SendOutcome::Sent);
    let stored = messages_to(&to, 1).await;
    assert_eq!(stored.len(), 1, "only the send after the reset is stored");
}

#[tokio::test]
async fn an_invalid_recipient_is_permanent() {
    let outcome = sender()
        .send("not an address", "s", "t", "<p>h</p>", "<x@y>")
        .await;
    assert!(
        matches!(&outcome, SendOutcome::Permanent { error } if error.contains("invalid recipient")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_closed_port_is_transient() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").port()
    };
    let mut config = config(port);
    config.host = "127.0.0.1".into();
    let outcome = EmailSender::new(config)
        .expect("a sender")
        .send("a@ceh.example", "s", "t", "<p>h</p>", "<x@y>")
        .await;
    assert!(
        matches!(&outcome, SendOutcome::Transient { .. }),
        "{outcome:?}"
    );
    assert!(!format!("{outcome:?}").contains(PASSWORD));
}

#[test]
fn message_ids_are_deterministic_and_hide_the_address() {
    let id = message_id("CASE-1", "evt-1", "Alice@Example.com");
    assert_eq!(id, message_id("CASE-1", "evt-1", " Alice@example.COM "));
    assert_ne!(id, message_id("CASE-1", "evt-1", "bob@example.com"));
    assert_ne!(id, message_id("CASE-1", "evt-2", "Alice@Example.com"));
    assert_ne!(id, message_id("CASE-2", "evt-1", "Alice@Example.com"));
    // The parts are length-prefixed: moving text between them changes the id.
    assert_ne!(message_id("ab", "c", "x@y"), message_id("a", "bc", "x@y"));
    assert!(
        id.starts_with('<') && id.ends_with("@case-event-handler>"),
        "{id}"
    );
    assert!(!id.to_lowercase().contains("alice") && !id.contains("example"));
    assert_eq!(id.len(), "<@case-event-handler>".len() + 32);
}

#[test]
fn a_sender_is_not_built_outside_a_runtime() {
    assert!(matches!(
        EmailSender::new(config(1025)),
        Err(EmailError::NoRuntime)
    ));
}

#[tokio::test]
async fn configs_are_checked_when_the_sender_is_built() {
    let mut bad_from = config(1025);
    bad_from.from = "not a mailbox".into();
    assert!(matches!(
        EmailSender::new(bad_from),
        Err(EmailError::InvalidFrom { .. })
    ));
    let mut half = config(1025);
    half.username = None;
    assert!(matches!(
        EmailSender::new(half),
        Err(EmailError::HalfCredentials)
    ));
    for tls in [Tls::StartTls, Tls::Implicit] {
        let mut secure = config(587);
        secure.host = "smtp.example.com".into();
        secure.tls = tls;
        assert!(EmailSender::new(secure).is_ok(), "{tls:?}");
    }
}

#[tokio::test]
async fn error_texts_have_the_password_masked() {
    let text = sender().redacted(&format!("535 bad credentials ceh/{PASSWORD} refused"));
    assert_eq!(text, format!("535 bad credentials ceh/{MASK} refused"));
}
