//! `webhook sign` and `webhook verify`, the receivers' debugging tools,
//! against the Standard Webhooks spec's test vector
//! (tests/specs/standard-webhooks/test-vectors.json).

use std::path::Path;
use std::process::{Command, Output};

fn vector() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/specs/standard-webhooks/test-vectors.json");
    let text = std::fs::read_to_string(path).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all["vectors"][0].clone()
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["webhook"])
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn webhook_sign_reproduces_the_spec_vector() {
    let v = vector();
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, v["payload"].as_str().unwrap()).unwrap();
    let ts = v["timestamp"].to_string();
    let out = cli(&[
        "sign",
        "--secret",
        v["secret"].as_str().unwrap(),
        "--file",
        body.to_str().unwrap(),
        "--id",
        v["msg_id"].as_str().unwrap(),
        "--timestamp",
        &ts,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    let want = format!("webhook-signature: {}", v["signature"].as_str().unwrap());
    assert!(printed.lines().any(|l| l == want), "{printed}");
    assert!(
        printed.contains(&format!("webhook-timestamp: {ts}")),
        "{printed}"
    );
}

#[test]
fn webhook_verify_accepts_the_spec_vector_and_refuses_a_changed_body_or_a_stale_one() {
    let v = vector();
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    let headers = dir.path().join("headers.txt");
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{}\n", v["secret"].as_str().unwrap())).unwrap();
    let ts = v["timestamp"].as_i64().unwrap();
    // A rotation: an unknown signature first, the vector's second.
    std::fs::write(
        &headers,
        format!(
            "webhook-id: {}\nwebhook-timestamp: {ts}\nwebhook-signature: v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {}\n",
            v["msg_id"].as_str().unwrap(),
            v["signature"].as_str().unwrap()
        ),
    )
    .unwrap();
    let verify = |payload: &str, now: i64| {
        std::fs::write(&body, payload).unwrap();
        cli(&[
            "verify",
            "--secret-file",
            secret_file.to_str().unwrap(),
            "--file",
            body.to_str().unwrap(),
            "--headers",
            headers.to_str().unwrap(),
            "--now",
            &now.to_string(),
        ])
    };
    let payload = v["payload"].as_str().unwrap();
    let ok = verify(payload, ts + 10);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("valid"));

    let changed = verify(&payload.replace("test_user", "admin"), ts + 10);
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed));
    assert!(text(&changed).contains("invalid"), "{}", text(&changed));

    let stale = verify(payload, ts + 3_600);
    assert_eq!(stale.status.code(), Some(1), "{}", text(&stale));
    assert!(text(&stale).contains("tolerance"), "{}", text(&stale));
}
