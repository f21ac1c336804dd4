//! The webhook flavor as the real binary in a child process: a kill -9 in
//! the middle of deliveries loses no event and repeats only what was in
//! flight, and a full run at debug level never logs a secret.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use case_event_handler::event::{CaseEvent, Timestamp};
use case_event_handler::flavors::kit::delivery;
use case_event_handler::store::Store;

use super::receiver::{signed_by, Got, Mode, Receiver};
use super::{events, OLD, SECRET};
use crate::helpers::*;

/// A child process of the service, killed (SIGKILL) if still running when
/// dropped, so that a failing test leaves no service behind.
struct Service {
    child: Child,
}

impl Service {
    /// SIGKILL, and reaped.
    fn kill_9(&mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reaped");
    }

    /// SIGTERM; waits for the exit (30 s at most).
    fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not exit within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Fails the test if the service exited on its own.
    fn assert_running(&mut self, logs: &Logs) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            panic!("the service exited early ({status}):\n{}", logs.read());
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the children write their stdout and stderr (appended to, so a
/// second child's lines follow the first's).
struct Logs {
    _dir: tempfile::TempDir,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Logs {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (stdout, stderr) = (dir.path().join("stdout"), dir.path().join("stderr"));
        Self {
            _dir: dir,
            stdout,
            stderr,
        }
    }

    fn append(path: &Path) -> std::fs::File {
        (std::fs::OpenOptions::new().create(true).append(true))
            .open(path)
            .expect("a log file")
    }

    /// Both files, stdout first.
    fn read(&self) -> String {
        let read =
            |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        format!("{}{}", read(&self.stdout), read(&self.stderr))
    }
}

/// What a child runs with: its topic, group, database, the rules directory
/// and the YAML file of the flavor's settings.
struct Setup {
    topic: String,
    group: String,
    db: String,
    config: tempfile::TempDir,
    log_level: &'static str,
}

impl Setup {
    /// A topic of two partitions, a group and a database of the test's own,
    /// endpoints `(name, url)` of project SEC signed with the secrets named
    /// hook-current and hook-old (their values reach the child by
    /// environment variables only), `runtime` the YAML under the flavor's
    /// `runtime`.
    async fn new(endpoints: &[(&str, String)], runtime: &str, log_level: &'static str) -> Self {
        let topic = unique("it-webhook-crash");
        create_topic(&topic, 2).await;
        let db = fresh_pg().await;
        let config = tempfile::tempdir().unwrap();
        let rules = config.path().join("rules");
        std::fs::create_dir(&rules).unwrap();
        let mut hooks = String::from("webhooks:\n");
        for (name, url) in endpoints {
            hooks.push_str(&format!(
                "  - name: {name}\n    url: \"{url}\"\n    secret: hook-current\n    previous_secrets: [hook-old]\n"
            ));
        }
        std::fs::write(rules.join("SEC.yaml"), hooks).unwrap();
        let yaml = format!(
            "environment: local\n\
             rules:\n  dir: {rules}\n\
             flavors:\n  webhook:\n    allow_http: true\n    allow_private: true\n    timeout_ms: 2000\n\
             \x20   runtime:\n      batch: {{ max_events: 100, max_wait_ms: 10 }}\n{runtime}",
            rules = rules.display(),
        );
        std::fs::write(config.path().join("test.yaml"), yaml).unwrap();
        Self {
            topic,
            group: unique("g"),
            db,
            config,
            log_level,
        }
    }

    /// `case-event-handler run --flavor webhook` in the ci environment,
    /// writing to `logs`.
    fn spawn(&self, logs: &Logs) -> Service {
        let child = Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["--env", "ci"])
            .args([
                "--config",
                &self.config.path().join("test.yaml").display().to_string(),
            ])
            .args(["--set", &format!("kafka.brokers={}", brokers())])
            .args(["--set", &format!("kafka.topics=[{}]", self.topic)])
            .args(["--set", &format!("kafka.group_id={}", self.group)])
            .args(["--set", &format!("store.url={}", self.db)])
            .args(["--set", &format!("telemetry.log_level={}", self.log_level)])
            .args(["--set", "telemetry.http_addr=127.0.0.1:0"])
            .args(["--set", "kafka.session_timeout_ms=6000"])
            .args(["run", "--flavor", "webhook"])
            .env("CEH__RULES__SECRETS__HOOK_CURRENT", SECRET)
            .env("CEH__RULES__SECRETS__HOOK_OLD", OLD)
            .stdin(Stdio::null())
            .stdout(Logs::append(&logs.stdout))
            .stderr(Logs::append(&logs.stderr))
            .spawn()
            .expect("spawn the service");
        Service { child }
    }
}

/// `cases` × `per_case` events of project SEC, each stamped now (the retry
/// horizon runs from it).
fn fresh_events(seed: u64, cases: usize, per_case: usize) -> Vec<CaseEvent> {
    let now: Timestamp = chrono::Utc::now().into();
    let mut events = events(seed, cases, per_case);
    for e in &mut events {
        e.occurred_at = Some(now);
    }
    events
}

/// The distinct webhook-ids among `got`.
fn ids(got: &[Got]) -> HashSet<String> {
    got.iter().map(|g| g.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_kill_9_during_delivery_loses_nothing_and_duplicates_only_what_was_in_flight() {
    let started = Instant::now();
    let rx = Receiver::start().await;
    rx.set("slow", Mode::Slow(200));
    let endpoints = [("slow", rx.url("slow"))];
    // Rows leased by the killed child come back after lease_ms.
    let per_destination = 8;
    let runtime = format!(
        "      deliveries: {{ poll_ms: 50, per_destination: {per_destination}, attempt_timeout_ms: 2000, lease_ms: 7000 }}\n"
    );
    let setup = Setup::new(&endpoints, &runtime, "info").await;
    let events = fresh_events(31, 60, 5);
    assert_eq!(events.len(), 300);
    publish(&setup.topic, &events).await;
    let logs = Logs::new();

    let mut first = setup.spawn(&logs);
    let third = events.len() / 3;
    let mut running = true;
    eventually("the receiver got a third", Duration::from_secs(30), || {
        running = first.child.try_wait().expect("try_wait").is_none();
        !running || ids(&rx.got("slow")).len() >= third
    })
    .await;
    assert!(running, "the first child exited early:\n{}", logs.read());
    first.kill_9();
    let at_kill = rx.got("slow").len();
    eprintln!(
        "kill -9 after {:?}: {at_kill} requests received",
        started.elapsed()
    );
    assert!(
        at_kill < events.len(),
        "killed before the end: {at_kill} of {}",
        events.len()
    );

    let mut second = setup.spawn(&logs);
    let want: HashSet<String> = events.iter().map(|e| e.event_id.clone()).collect();
    eventually(
        "the receiver got every event",
        Duration::from_secs(40),
        || ids(&rx.got("slow")) == want,
    )
    .await;
    second.assert_running(&logs);
    eprintln!("every event received after {:?}", started.elapsed());

    let got = rx.got("slow");
    let mut copies: BTreeMap<&str, Vec<&Got>> = BTreeMap::new();
    for g in &got {
        copies.entry(g.id.as_str()).or_default().push(g);
    }
    assert_eq!(copies.len(), events.len(), "every event id received");
    for g in &got {
        assert!(
            signed_by(g, SECRET) && signed_by(g, OLD),
            "every copy signed with both secrets: {g:?}"
        );
    }
    let duplicated: Vec<(&str, usize)> = (copies.iter())
        .filter(|(_, c)| c.len() > 1)
        .map(|(id, c)| (*id, c.len()))
        .collect();
    eprintln!(
        "{} requests for {} events; {} ids more than once: {duplicated:?}",
        got.len(),
        events.len(),
        duplicated.len()
    );
    let in_flight = per_destination * endpoints.len();
    assert!(
        duplicated.len() <= in_flight,
        "only what was in flight at the kill ({in_flight}) repeats: {duplicated:?}"
    );
    for (id, c) in &copies {
        for again in &c[1..] {
            assert_eq!(again.id, c[0].id, "{id}");
            assert_eq!(
                again.body, c[0].body,
                "a duplicate of {id} has the same body"
            );
        }
    }

    let status = second.terminate();
    assert_eq!(status.code(), Some(0), "a clean stop:\n{}", logs.read());
    // Nothing more came after the stop than before it: no late copies.
    assert_eq!(rx.got("slow").len(), got.len());
    eprintln!("done after {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_a_full_run_never_logs_a_secret() {
    let started = Instant::now();
    let rx = Receiver::start().await;
    rx.set("fail", Mode::Status(500));
    let token = "q-secret-123";
    // A port nobody listens on: its connection errors carry the URL, token
    // and all, unless the transport strips it.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let endpoints = [
        ("ok", rx.url("ok")),
        ("fail", rx.url("fail")),
        ("tok", format!("{}?token={token}", rx.url("tok"))),
        (
            "refused",
            format!("http://127.0.0.1:{closed}/x?token={token}"),
        ),
    ];
    let runtime = "      deliveries: { poll_ms: 50, backoff_base_ms: 100, backoff_cap_ms: 400, breaker_failures: 0, depth_check_ms: 200 }\n";
    let setup = Setup::new(&endpoints, runtime, "debug").await;
    // Migrated before the child starts (no two migrations at once).
    let store = Store::connect(&setup.db, 2).await.expect("store");
    let events = fresh_events(32, 8, 5);
    publish(&setup.topic, &events).await;
    let logs = Logs::new();
    let mut service = setup.spawn(&logs);

    let want: HashSet<String> = events.iter().map(|e| e.event_id.clone()).collect();
    eventually(
        "the healthy endpoints got every event",
        Duration::from_secs(30),
        || ids(&rx.got("ok")) == want && ids(&rx.got("tok")) == want,
    )
    .await;
    eventually(
        "the failing endpoint failed a while",
        Duration::from_secs(20),
        || rx.got("fail").len() >= 5,
    )
    .await;
    rx.set("fail", Mode::Status(410));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        service.assert_running(&logs);
        let depths = delivery::depth(store.pool(), "webhook").await.unwrap();
        let fail = depths.iter().find(|d| d.destination == "SEC/fail");
        if fail.is_some_and(|d| d.state == "gone") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not disabled after 20 s: {depths:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = service.terminate();
    assert_eq!(status.code(), Some(0), "a clean stop:\n{}", logs.read());
    let refused = delivery::recent(store.pool(), "webhook", "SEC/refused", 1_000)
        .await
        .unwrap();
    assert!(
        refused.iter().any(|r| !r.last_error.is_empty()),
        "the refused endpoint's attempts failed: {refused:?}"
    );

    let mut secrets = vec![token.to_owned()];
    for s in [SECRET, OLD] {
        secrets.push(s.to_owned());
        secrets.push(s.strip_prefix("whsec_").unwrap().to_owned());
    }
    let log = logs.read();
    let lines: Vec<&str> = log.lines().collect();
    eprintln!("{} log lines after {:?}", lines.len(), started.elapsed());
    assert!(lines.len() > 20, "the run logged: {log}");
    for (endpoint, failure) in [
        ("SEC/fail", "destination disabled"),
        ("SEC/refused", "delivery failed; retrying"),
    ] {
        assert!(
            (lines.iter()).any(|l| l.contains(endpoint) && l.contains(failure)),
            "the log holds {endpoint}'s failure (the grep reads real logs): {log}"
        );
    }
    let leaks: Vec<(&str, &str)> = (lines.iter())
        .flat_map(|line| {
            (secrets.iter())
                .filter(|s| line.contains(s.as_str()))
                .map(move |s| (s.as_str(), *line))
        })
        .collect();
    assert!(leaks.is_empty(), "secrets in the log: {leaks:#?}");
}
