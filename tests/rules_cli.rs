//! `rules check`, `list`, `explain` and `diff` on the built binary (no services needed).

use std::process::Command;

mod common;

use common::ceh;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn rules_check_accepts_the_example_directory() {
    let out = ceh(&["rules", "check", "examples/rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("2 projects"), "{stdout}");
}

#[test]
fn rules_check_prints_every_problem_with_a_caret_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "notification_rules:\n  - id: urgent\n    query: \"status:open priority:P9\"\n    \
               triggers: [CASE_CREATED]\n    recipients: [{HTTP: {name: soc}}]\n";
    std::fs::write(dir.path().join("SEC.yaml"), bad).unwrap();
    let secret = "webhooks:\n  - name: soc\n    url: https://soc.example.com/h\n    secret: whsec_c2VjcmV0\n";
    std::fs::write(dir.path().join("OPS.yaml"), secret).unwrap();
    let out = ceh(&["rules", "check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let expected = [
        "SEC.yaml:3:34: rule `urgent`: notification_rules[0].query: invalid query: `P9` is not a valid value for `priority`",
        "3 |     query: \"status:open priority:P9\"\n  |                                  ^",
        "SEC.yaml:5:32: rule `urgent`: notification_rules[0].recipients[0].HTTP.name: no webhook endpoint named `soc`",
        "OPS.yaml:4:13: rule `soc`: webhooks[0].secret: looks like a webhook signing secret",
    ];
    for e in expected {
        assert!(stdout.contains(e), "missing {e:?} in:\n{stdout}");
    }
    assert!(
        !stdout.contains("whsec_c2VjcmV0"),
        "the secret is masked:\n{stdout}"
    );
    assert!(
        text(&out.stderr).contains("3 problems"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn rules_check_without_a_directory_says_how_to_give_one() {
    let out = ceh(&["rules", "check"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("rules.dir"),
        "{}",
        text(&out.stderr)
    );
    let configured = ceh(&["rules", "check", "--set", "rules.dir=examples/rules"]);
    assert_eq!(
        configured.status.code(),
        Some(0),
        "{}",
        text(&configured.stderr)
    );
}

#[test]
fn rules_list_shows_one_line_per_rule() {
    let out = ceh(&["rules", "list", "--project", "OPS", "examples/rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "PROJECT\tKIND\tID\tENABLED\tVERSION");
    assert_eq!(lines.len(), 2, "{stdout}");
    let fields: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(fields[..4], ["OPS", "notification", "ops-created", "true"]);
    assert_eq!(fields[4].len(), 12, "a SHA-256 prefix: {stdout}");
    let all = text(&ceh(&["rules", "list", "examples/rules"]).stdout);
    assert!(
        all.contains("SEC\tnotification\tclosed-digest\tfalse\t"),
        "{all}"
    );
    assert!(all.contains("SEC\tsla\tp1-ack\ttrue\t"), "{all}");
}

/// `GET /metrics` on the running binary's telemetry server.
fn metrics(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    conn.write_all(request.as_bytes()).ok()?;
    let mut body = String::new();
    conn.read_to_string(&mut body).ok()?;
    Some(body)
}

/// The version of `project`'s rules in force, from `ceh_rules_version_info`.
fn version_in_force(text: &str, project: &str) -> Option<String> {
    let prefix = format!("ceh_rules_version_info{{project=\"{project}\",version=\"");
    let line = text.lines().find(|l| l.starts_with(&prefix))?;
    Some(line[prefix.len()..].split('"').next()?.to_owned())
}

/// Polls the metrics until `done` says yes (or 30 s pass).
fn wait_for(port: u16, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = metrics(port).unwrap_or_default();
        if done(&text) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn a_running_flavor_rejects_an_invalid_edit_and_keeps_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let file = rules.join("SEC.yaml");
    let rule = "notification_rules:\n  - id: n1\n    triggers: [CASE_CREATED]\n    \
                recipients: [{EMAIL: {email: a@example.com}}]\n";
    std::fs::write(&file, rule).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let sets = [
        format!(
            "store.url=sqlite://{}?mode=rwc",
            dir.path().join("t.db").display()
        ),
        format!("telemetry.http_addr=127.0.0.1:{port}"),
        format!("rules.dir={}", rules.display()),
        "rules.reload_secs=1".to_owned(),
    ];
    let mut args = vec!["run", "--flavor", "timeline", "--source", "stdin"];
    for set in &sets {
        args.extend(["--set", set.as_str()]);
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CEH_ENV")
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the binary");

    let before = wait_for(port, "the rules", |t| version_in_force(t, "SEC").is_some());
    let first = version_in_force(&before, "SEC").unwrap();
    std::fs::write(&file, format!("{rule}    colour: red\n")).unwrap();
    let rejected = |t: &str| {
        case_event_handler::telemetry::metrics::find(
            t,
            "ceh_rules_loads_total",
            &[("result", "rejected")],
        )
        .is_some_and(|n| n >= 1.0)
    };
    let after = wait_for(port, "the rejection", rejected);
    assert_eq!(
        version_in_force(&after, "SEC"),
        Some(first.clone()),
        "the previous rules stay"
    );
    std::fs::write(&file, rule.replace("a@example", "b@example")).unwrap();
    let last = wait_for(port, "the valid edit", |t| {
        version_in_force(t, "SEC").is_some_and(|v| v != first)
    });
    assert!(rejected(&last));

    drop(child.stdin.take()); // end of input: the run drains and exits
    let out = child.wait_with_output().unwrap();
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("rules reload rejected; the previous rules stay in force"),
        "{log}"
    );
    assert!(
        log.contains("notification_rules[0].colour"),
        "each problem by path: {log}"
    );
    assert!(log.contains("rules reloaded"), "{log}");
}

const SEC_7: &str = "examples/events/sec-7-created.json";

#[test]
fn rules_explain_says_why_a_rule_fired() {
    let out = ceh(&[
        "rules",
        "explain",
        "urgent-to-slack",
        "--event",
        SEC_7,
        "--rules",
        "examples/rules",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let expected = [
        "rule SEC/urgent-to-slack (notification rule, version ",
        "verdict: FIRED: trigger matched, query matched, no maintenance window holds it (throttle not evaluated offline)",
        "  match    CASE_CREATED",
        "  no match ATTRIBUTE_VALUE_CHANGED priority changed",
        "query: priority:(P1 OR P2) -status:closed -> true",
        "    true  priority:(P1 OR P2)    (priority is P1)",
        "      false status:closed    (status is Open, open, SG_OPEN)",
        "throttle: throttle needs the live store",
        "  weekly-patching: open no, matches the case yes",
        "flags: feature flags are the running service's configuration: not evaluated offline",
    ];
    for e in expected {
        assert!(stdout.contains(e), "missing {e:?} in:\n{stdout}");
    }
}

#[test]
fn rules_explain_json_says_why_a_rule_did_not_fire() {
    let out = ceh(&[
        "rules",
        "explain",
        "page-owning-team",
        "--event",
        SEC_7,
        "--rules",
        "examples/rules",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["kind"], "escalation");
    assert_eq!(json["verdict"]["fired"], false);
    assert_eq!(
        json["verdict"]["reason"],
        "query does not match the case: team:* is false (team has no value)"
    );
    let parts = &json["queries"][0]["root"]["parts"];
    assert_eq!(parts[0]["term"], "priority:>=P2");
    assert_eq!(parts[0]["holds"], true);
    assert_eq!(parts[0]["seen"], serde_json::json!(["P1"]));
    assert_eq!(parts[1]["term"], "team:*");
    assert_eq!(parts[1]["seen"], serde_json::json!([]));
    assert_eq!(
        json["edge"]["before"],
        "no prior state: the first observation of this case"
    );
    assert_eq!(json["edge"]["edge"], "level");
    assert_eq!(json["throttle"], serde_json::Value::Null);
    assert_eq!(json["flags"]["evaluated"], false);
}

#[test]
fn rules_explain_fails_clearly_on_an_unknown_rule_or_event() {
    let args = |rule: &'static str, event: &'static str| {
        [
            "rules",
            "explain",
            rule,
            "--event",
            event,
            "--rules",
            "examples/rules",
        ]
    };
    let out = ceh(&args("nope", SEC_7));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no rule `nope`"),
        "{}",
        text(&out.stderr)
    );
    let out = ceh(&args("urgent-to-slack", "examples/events/missing.json"));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("reading the event examples/events/missing.json"),
        "{stderr}"
    );
    let out = ceh(&args("urgent-to-slack", "examples/rules/OPS.yaml"));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("not one valid event as JSON"), "{stderr}");
}

#[test]
fn rules_diff_prints_the_firings_a_changed_query_changes() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["OPS.yaml", "SEC.yaml"] {
        let text = std::fs::read_to_string(format!("examples/rules/{name}")).unwrap();
        let text = text.replace(
            "query: \"priority:(P1 OR P2) -status:closed\"",
            "query: \"priority:P1 -status:closed\"",
        );
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let new = dir.path().to_str().unwrap();
    let events = "examples/events/sec.ndjson";
    let args = ["rules", "diff", "--rules", new, "--events", events];
    let out = ceh(&[&args[..], &["--current", "examples/rules"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let expected = [
        "rules diff: 3 events, 2 cases; current examples/rules (version ",
        "edge state per (rule, case) is seeded by each case's first event in the range",
        "never read from the live table",
        "1 firing differs:",
        "SEC/urgent-to-slack\tcase SEC-8\tevent 0193f0a0-0000-7000-8000-0000000000e2 (case.created)\tfired -> not fired: query does not match the case: priority:P1 is false (priority is P2)",
    ];
    for e in expected {
        assert!(stdout.contains(e), "missing {e:?} in:\n{stdout}");
    }
    let json = ceh(&[&args[..], &["--current", "examples/rules", "--json"]].concat());
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(json["differences"][0]["rule"], "urgent-to-slack");
    assert_eq!(json["differences"][0]["old"], true);
    assert_eq!(json["differences"][0]["new"], false);
    let configured = ceh(&[&args[..], &["--set", "rules.dir=examples/rules"]].concat());
    assert!(text(&configured.stdout).contains("1 firing differs:"));
    let same = ceh(&[
        "rules",
        "diff",
        "--rules",
        "examples/rules",
        "--events",
        events,
        "--current",
        "examples/rules",
    ]);
    assert!(
        text(&same.stdout).contains("no firings differ"),
        "{}",
        text(&same.stdout)
    );
}

#[test]
fn rules_explain_a_case_replays_its_earlier_events_from_a_file() {
    let case = "0193f0a0-0000-7000-8000-000000000008";
    let args = [
        "rules",
        "explain",
        "page-secops",
        "--case",
        case,
        "--events",
        "examples/events/sec.ndjson",
        "--rules",
        "examples/rules",
    ];
    let out = ceh(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let expected = [
        "event 0193f0a0-0000-7000-8000-0000000000e3 case.priority_changed on case SEC-8",
        "verdict: FIRED: trigger matched, query matched, rising edge",
        "  before: not matched at case version 1, fired 0 time(s)",
        "edge state replayed from the case's 1 earlier event(s) in the range",
    ];
    for e in expected {
        assert!(stdout.contains(e), "missing {e:?} in:\n{stdout}");
    }
    let at = ceh(&[&args[..], &["--at", "2026-12-01T10:01:00Z"]].concat());
    assert!(text(&at.stdout).contains(
        "verdict: NOT FIRED: query does not match the case: priority:P1 is false (priority is P2)"
    ));
}
