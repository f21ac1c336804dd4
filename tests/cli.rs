//! The binary's command line, end to end (no services needed).

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::ceh;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_unknown_flavor_fails_and_lists_the_valid_ones() {
    let out = ceh(&["run", "--flavor", "nope"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("unknown flavor 'nope'"), "{err}");
    for f in case_event_handler::flavors::valid_names() {
        assert!(err.contains(f), "{f} missing from: {err}");
    }
}

#[test]
fn a_bare_invocation_needs_a_flavor_and_takes_it_or_a_subcommand_not_both() {
    let out = ceh(&["--flavor", "nope"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown flavor 'nope'"),
        "{}",
        stderr(&out)
    );
    let both = ceh(&["--flavor", "timeline", "run", "--flavor", "timeline"]);
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    assert!(stderr(&both).contains("either"), "{}", stderr(&both));
    let neither = ceh(&["--source", "kafka"]);
    assert_eq!(neither.status.code(), Some(2));
    assert!(
        stderr(&neither).contains("--flavor"),
        "{}",
        stderr(&neither)
    );
}

#[test]
fn flavors_lists_the_registry() {
    let out = ceh(&["flavors"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for f in case_event_handler::flavors::FLAVORS {
        assert!(text.contains(f.name) && text.contains(f.summary), "{text}");
        let block = text
            .split("\n\n")
            .find(|b| b.starts_with(&format!("{}\n", f.name)))
            .unwrap_or_else(|| panic!("no block for {}: {text}", f.name));
        let consumes = format!("consumes:     {}", f.consumes.describe());
        let produces = format!("produces:     {}", f.produces.describe());
        assert!(block.contains(&consumes), "{block}");
        assert!(block.contains(&produces), "{block}");
    }
    assert!(
        text.contains("case.created") && text.contains("external_ticket.changed (origin jira)"),
        "{text}"
    );
}

#[test]
fn flavors_into_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .arg("flavors")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let status = child.wait().expect("exit");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!err.contains("panicked"), "{err}");
    assert!(status.success(), "{status:?}: {err}");
}

#[test]
fn config_check_names_the_path_of_an_unknown_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "kafka:\n  brokers: h:9092\n  bogus_key: 1\n").unwrap();
    let out = ceh(&["config", "check", "--config", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("kafka.bogus_key"), "{}", stderr(&out));
}

#[test]
fn config_check_names_every_bad_value() {
    let out = ceh(&[
        "config",
        "check",
        "--set",
        "runtime.max_in_flight=0",
        "--set",
        "runtime.ordering=sideways",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("runtime.max_in_flight"), "{err}");
    assert!(err.contains("runtime.ordering"), "{err}");
}

#[test]
fn config_check_prints_effective_values_with_secrets_masked() {
    let out = ceh(&[
        "config",
        "check",
        "--set",
        "store.url=postgres://ceh:hunter2@db:5432/ceh",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("max_in_flight"), "{text}");
    assert!(
        !text.contains("hunter2") && !stderr(&out).contains("hunter2"),
        "secret leaked: {text}"
    );
}

/// The embedded default: timeline over an NDJSON file into SQLite, then show a case.
#[test]
fn timeline_over_a_file_into_sqlite_then_show() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.ndjson");
    let out = ceh(&[
        "produce",
        "--synthetic",
        "--cases",
        "3",
        "--events-per-case",
        "8",
        "--stdout",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(&events, &out.stdout).unwrap();
    let first: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let case_key = first["caseKey"].as_str().expect("caseKey").to_string();
    let db = format!(
        "store.url=sqlite://{}?mode=rwc",
        dir.path().join("t.db").display()
    );
    let src = format!("file:{}", events.display());
    let run = ceh(&[
        "run", "--flavor", "timeline", "--source", &src, "--set", &db,
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stderr(&run).contains("succeeded=24"), "{}", stderr(&run));
    let show = ceh(&["timeline", "show", &case_key, "--set", &db]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.starts_with(&case_key), "{text}");
    assert!(text.contains("created"), "{text}");
    // The design's own invocation, without `run`, is the same run.
    let again = ceh(&["--flavor", "timeline", "--source", &src, "--set", &db]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("skipped[duplicate]=24"),
        "a rerun adds nothing: {}",
        stderr(&again)
    );
    assert!(Path::new(&dir.path().join("t.db")).exists());
}

#[test]
fn the_production_example_is_valid_and_flavor_sections_are_checked() {
    let env = [
        ("CEH__KAFKA__BROKERS", "kafka-0:9093"),
        ("CEH__KAFKA__SECURITY__SASL_PASSWORD", "pw-not-printed"),
        ("CEH__STORE__URL", "postgres://ceh:pw@db:5432/cases"),
        ("CEH__FLAVORS__EVP-INDEXER__API_KEY", "dd-key-not-printed"),
        ("CEH__RULES__SECRETS__JIRA_ACME", "jira-not-printed"),
        ("CEH__RULES__SECRETS__JIRA_ACME_WEBHOOK", "hook-not-printed"),
    ];
    let run = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_case-event-handler"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR")).envs(env).args([
            "--env",
            "production",
            "--config",
            "examples/production.yaml",
        ]);
        cmd.args(extra).args(["config", "check"]).output().unwrap()
    };
    let ok = run(&[]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(!text.contains("not-printed"), "a secret was printed");
    let bad = run(&[
        "--set",
        "flavors.evp-indexer.max_entries=5000",
        "--set",
        "flavors.nope.x=1",
    ]);
    assert!(!bad.status.success());
    let err = stderr(&bad);
    assert!(
        err.contains("flavors.evp-indexer") && err.contains("max_entries"),
        "{err}"
    );
    assert!(
        err.contains("flavors.nope") && err.contains("valid flavors"),
        "{err}"
    );
}

#[test]
fn each_command_requires_only_the_connections_it_uses() {
    // Production sets neither kafka.brokers nor store.url in its file.
    let produce = ceh(&["produce", "--env", "production", "--synthetic"]);
    assert!(!produce.status.success());
    let err = stderr(&produce);
    assert!(err.contains("kafka.brokers: is required"), "{err}");
    assert!(
        !err.contains("store.url"),
        "produce never opens the store: {err}"
    );

    let show = ceh(&["timeline", "show", "SEC-1", "--env", "production"]);
    assert!(!show.status.success());
    let err = stderr(&show);
    assert!(err.contains("store.url: is required"), "{err}");
    assert!(
        !err.contains("kafka.brokers"),
        "show never reads Kafka: {err}"
    );

    let check = ceh(&["config", "check", "--env", "production"]);
    assert!(!check.status.success());
    let err = stderr(&check);
    assert!(err.contains("store.url: is required"), "{err}");
    assert!(err.contains("kafka.brokers: is required"), "{err}");
}

#[test]
fn every_flavor_has_a_config_example_and_every_example_checks_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flavors");
    for spec in case_event_handler::flavors::FLAVORS {
        let file = dir.join(format!("{}.yaml", spec.name));
        assert!(
            file.exists(),
            "{} has no example {}",
            spec.name,
            file.display()
        );
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().path();
        let out = ceh(&[
            "--env",
            "local",
            "--config",
            file.to_str().unwrap(),
            "config",
            "check",
        ]);
        assert!(out.status.success(), "{}: {}", file.display(), stderr(&out));
        checked += 1;
    }
    assert_eq!(checked, case_event_handler::flavors::FLAVORS.len());
    for env in ["local", "ci"] {
        let out = ceh(&["--env", env, "config", "check"]);
        assert!(out.status.success(), "{env}: {}", stderr(&out));
    }
}

#[test]
fn config_check_reports_every_problem_of_every_flavor_section_at_once() {
    let out = ceh(&[
        "--config",
        "examples/flavors/jira.yaml",
        "--set",
        "flavors.jira.timeout_ms=0",
        "--set",
        "flavors.jira.bogus=1",
        "--set",
        "flavors.evp-indexer.max_entries=5000",
        "--set",
        "flavors.timeline.extra=1",
        "--set",
        "rate_limits.jria.per_second=1",
        "config",
        "check",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    for path in [
        "flavors.jira.bogus",
        "flavors.evp-indexer.max_entries",
        "flavors.evp-indexer.api_key",
        "flavors.timeline.extra",
        "rate_limits.jria",
    ] {
        assert!(err.contains(path), "{path} missing from: {err}");
    }
}

#[test]
fn every_flag_in_the_config_examples_is_read_by_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = ["config", "examples", "examples/flavors"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut source = String::new();
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Doc comments and tests mention flags without reading them.
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    source.push_str(line);
                    source.push('\n');
                }
            }
        }
    }
    let mut flags = 0;
    for file in &files {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let Some(features) = yaml.get("features").and_then(|f| f.as_mapping()) else {
            continue;
        };
        for name in features.keys().filter_map(|k| k.as_str()) {
            flags += 1;
            assert!(
                source.contains(&format!("\"{name}\"")),
                "{}: flag `{name}` is configured but no code reads it",
                file.display()
            );
        }
    }
    assert!(flags >= 1, "the examples configure flags");
}
