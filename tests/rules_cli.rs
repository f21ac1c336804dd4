//! `rules check` and `rules list` on the built binary (no services needed).

use std::process::{Command, Output};

fn ceh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CEH_ENV")
        .args(args)
        .output()
        .expect("run the binary")
}

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
