//! The binary's logs: structured JSON with key/value fields, and no secret
//! ever printed — not by `config check`, a run, or a run that fails to
//! connect.

use std::process::{Command, Output};

use crate::helpers::*;

const PG_SECRET: &str = "SEKRET-pg-4711";
const SASL_SECRET: &str = "SEKRET-sasl-0815";
const OTLP_SECRET: &str = "SEKRET-otlp-1234";

/// The binary with every kind of secret configured.
fn ceh_with_secrets(store_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args(["--env", "ci"])
        .args(["--set", &format!("store.url={store_url}")])
        .args(["--set", "kafka.security.protocol=sasl_plaintext"])
        .args(["--set", "kafka.security.sasl_username=svc"])
        .args([
            "--set",
            &format!("kafka.security.sasl_password={SASL_SECRET}"),
        ])
        .args(["--set", "telemetry.otlp.endpoint=http://127.0.0.1:9"])
        .args(["--set", "telemetry.otlp.protocol=http"])
        .args([
            "--set",
            &format!("telemetry.otlp.headers.x-api-key={OTLP_SECRET}"),
        ])
        .args(["--set", "telemetry.http_addr=127.0.0.1:0"])
        .args(["--set", "telemetry.log_level=debug"])
        .args(args)
        .output()
        .expect("run the binary")
}

fn assert_no_secrets(what: &str, out: &Output) -> String {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for secret in [PG_SECRET, SASL_SECRET, OTLP_SECRET] {
        assert!(!text.contains(secret), "{what} printed {secret}:\n{text}");
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_logs_are_json_key_values_and_never_show_secrets() {
    let db = fresh_pg().await;
    let with_password = db.replacen("postgres@", &format!("postgres:{PG_SECRET}@"), 1);
    assert_ne!(
        with_password, db,
        "the dev URL names the postgres user: {db}"
    );

    let check = ceh_with_secrets(&with_password, &["config", "check"]);
    let text = assert_no_secrets("config check", &check);
    assert!(check.status.success(), "{text}");
    assert!(
        text.contains("***"),
        "secrets are masked, not dropped:\n{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.ndjson");
    let produce = Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .args([
            "produce",
            "--synthetic",
            "--cases",
            "3",
            "--events-per-case",
            "5",
            "--stdout",
        ])
        .output()
        .expect("produce");
    assert!(produce.status.success());
    std::fs::write(&events, &produce.stdout).unwrap();
    let source = format!("file:{}", events.display());

    let run = ceh_with_secrets(
        &with_password,
        &["run", "--flavor", "timeline", "--source", &source],
    );
    let text = assert_no_secrets("run", &run);
    assert!(run.status.success(), "{text}");
    assert!(text.contains("succeeded="), "{text}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&run.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let listening = lines
        .iter()
        .find(|l| l["message"] == "telemetry server listening")
        .unwrap_or_else(|| panic!("no JSON startup line:\n{text}"));
    assert_eq!(listening["level"], "INFO");
    assert!(listening["addr"]
        .as_str()
        .is_some_and(|a| a.starts_with("127.0.0.1:")));
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "event completed" && l["flavor"] == "timeline"),
        "per-event lines carry key/value fields at debug:\n{text}"
    );

    let unreachable = format!("postgres://postgres:{PG_SECRET}@127.0.0.1:1/nowhere");
    let failed = ceh_with_secrets(
        &unreachable,
        &["run", "--flavor", "timeline", "--source", &source],
    );
    let text = assert_no_secrets("a failed run", &failed);
    assert!(!failed.status.success(), "{text}");
    assert!(
        text.contains("postgres://postgres:***@127.0.0.1:1"),
        "errors name the masked URL:\n{text}"
    );
}
