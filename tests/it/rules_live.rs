//! The live source of `rules diff --topic T --from-time … [--to-time …]` and
//! `rules explain RULE --case ID --topic T --from-time … [--at …]` on the
//! built binary against the dev broker (KAFKA_BROKERS; the tests fail
//! without it): the example events produced to a topic of each test's own,
//! the range read back from Kafka, in dry run.

use std::process::{Command, Output};
use std::time::Duration;

use crate::helpers::{brokers, create_topic};

/// The binary with the dev broker, from the repository root.
fn ceh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CEH_ENV")
        .env("CEH__KAFKA__BROKERS", brokers())
        .args(args)
        .output()
        .expect("run the binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `rules explain page-secops` for `case` from `topic` since `from`.
fn explain_case<'a>(case: &'a str, topic: &'a str, from: &'a str) -> [&'a str; 11] {
    [
        "rules",
        "explain",
        "page-secops",
        "--case",
        case,
        "--topic",
        topic,
        "--from-time",
        from,
        "--rules",
        "examples/rules",
    ]
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_diff_reads_a_topic_range_and_prints_the_firings_that_differ() {
    let topic = format!("it-rules-diff-{}", uuid::Uuid::new_v4().simple());
    create_topic(&topic, 2).await;
    let new = tempfile::tempdir().unwrap();
    for name in ["OPS.yaml", "SEC.yaml"] {
        let text = std::fs::read_to_string(format!("examples/rules/{name}")).unwrap();
        let text = text.replace(
            "query: \"priority:(P1 OR P2) -status:closed\"",
            "query: \"priority:P1 -status:closed\"",
        );
        std::fs::write(new.path().join(name), text).unwrap();
    }
    let from = chrono::Utc::now() - chrono::Duration::seconds(1);
    let events = "examples/events/sec.ndjson";
    let out = ceh(&["produce", "--topic", &topic, "--file", events]);
    assert!(out.status.success(), "produce: {}", text(&out.stderr));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let to = chrono::Utc::now();

    let new = new.path().to_str().unwrap();
    let diff = |from: &str, to: Option<&str>| {
        let mut args = vec!["rules", "diff", "--rules", new, "--topic", &topic];
        args.extend(["--from-time", from, "--current", "examples/rules"]);
        args.extend(to.iter().flat_map(|t| ["--to-time", t]));
        ceh(&args)
    };
    let out = diff(&rfc3339(from), Some(&rfc3339(to)));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!("source: topic {topic} from "))
            && lines[0].ends_with(": 3 records, 0 not case events (skipped)"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("rules diff: 3 events, 2 cases; current examples/rules (version "),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with(
            "edge state per (rule, case) is seeded by each case's first event in the range"
        ),
        "{stdout}"
    );
    assert!(
        lines[2].contains("never read from the live table"),
        "{stdout}"
    );
    assert_eq!(lines[3], "1 firing differs:", "{stdout}");
    assert_eq!(
        lines[4],
        "SEC/urgent-to-slack\tcase SEC-8\tevent 0193f0a0-0000-7000-8000-0000000000e2 (case.created)\tfired -> not fired: query does not match the case: priority:P1 is false (priority is P2)",
        "{stdout}"
    );
    assert_eq!(lines.len(), 5, "{stdout}");

    // A range after the events holds none of them.
    let out = diff(&rfc3339(to), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(": 0 records,"), "{stdout}");
    assert!(
        stdout.contains("rules diff: 0 events, 0 cases;"),
        "{stdout}"
    );
    assert!(stdout.contains("no firings differ"), "{stdout}");

    // A topic range needs a start; a file and a topic exclude each other.
    let out = ceh(&["rules", "diff", "--rules", new, "--topic", &topic]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let both = [
        "rules",
        "diff",
        "--rules",
        new,
        "--events",
        events,
        "--topic",
        &topic,
        "--from-time",
        "2026-01-01T00:00:00Z",
    ];
    assert_eq!(ceh(&both).status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_explain_reads_a_case_from_a_topic_range() {
    let topic = format!("it-rules-explain-{}", uuid::Uuid::new_v4().simple());
    create_topic(&topic, 2).await;
    let from = rfc3339(chrono::Utc::now() - chrono::Duration::seconds(1));
    let events = "examples/events/sec.ndjson";
    let out = ceh(&["produce", "--topic", &topic, "--file", events]);
    assert!(out.status.success(), "produce: {}", text(&out.stderr));
    let case = "0193f0a0-0000-7000-8000-000000000008";
    let args = explain_case(case, &topic, &from);
    let out = ceh(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let expected = [
        &format!("source: topic {topic} from "),
        ": 3 records, 0 not case events (skipped); 2 of case 0193f0a0-0000-7000-8000-000000000008",
        "event 0193f0a0-0000-7000-8000-0000000000e3 case.priority_changed on case SEC-8",
        "verdict: FIRED: trigger matched, query matched, rising edge",
        "  before: not matched at case version 1, fired 0 time(s)",
        "edge state replayed from the case's 1 earlier event(s) in the range",
    ];
    for e in expected {
        assert!(stdout.contains(e), "missing {e:?} in:\n{stdout}");
    }
    // --at picks the newest event that occurred by then: the case's first.
    let at = ceh(&[&args[..], &["--at", "2026-12-01T10:01:00Z"]].concat());
    assert_eq!(at.status.code(), Some(0), "{}", text(&at.stderr));
    assert!(text(&at.stdout).contains(
        "verdict: NOT FIRED: query does not match the case: priority:P1 is false (priority is P2)"
    ), "{}", text(&at.stdout));
    // A case with no event in the range is an error that says so.
    let out = ceh(&explain_case("no-such-case", &topic, &from));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    // --topic needs --from-time.
    let out = ceh(&[
        "rules",
        "explain",
        "page-secops",
        "--case",
        case,
        "--topic",
        &topic,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
