//! The real binary as a running service: its stderr collected line by line,
//! its telemetry server found from its logs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::*;

/// The binary in the ci environment (JSON logs), with this test's topic,
/// group and database, and its telemetry server on a free port.
pub fn ceh(topic: &str, group: &str, db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_case-event-handler"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args(["--env", "ci"])
        .args(["--set", &format!("kafka.brokers={}", brokers())])
        .args(["--set", &format!("kafka.topics=[{topic}]")])
        .args(["--set", &format!("kafka.group_id={group}")])
        .args(["--set", "kafka.commit_interval_ms=200"])
        .args(["--set", &format!("store.url={db}")])
        .args(["--set", "telemetry.http_addr=127.0.0.1:0"])
        .args(["--set", "telemetry.log_level=info"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// A running service.
pub struct Service {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Service {
    /// Spawns `cmd` and collects its stderr.
    pub fn spawn(cmd: &mut Command) -> Self {
        let mut child = cmd.spawn().expect("spawn the service");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, lines }
    }

    /// All stderr so far.
    pub fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// The base URL of its telemetry server, from the startup log line.
    pub async fn telemetry_url(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self.lines.lock().unwrap().iter().find_map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).ok()?;
                (v["message"] == "telemetry server listening")
                    .then(|| v["addr"].as_str().map(String::from))?
            });
            if let Some(addr) = found {
                return format!("http://{addr}");
            }
            assert!(
                Instant::now() < deadline,
                "no telemetry server:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `/readyz` answers 200 (partitions assigned, store up).
    pub async fn wait_ready(&self, base: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("{base}/readyz")).await {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "never ready:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Asks for an orderly stop and waits for the exit code.
    pub fn stop(mut self, within: Duration) -> (i32, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                std::thread::sleep(Duration::from_millis(100));
                return (status.code().unwrap_or(-1), self.log());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("service did not exit within {within:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Waits until the group's committed offsets reach the topic's end.
pub async fn until_committed(group: &str, topic: &str, partitions: i32, within: Duration) {
    let started = Instant::now();
    let end = end_offsets(topic, partitions);
    while committed(group, topic, partitions) != end {
        let waited = started.elapsed();
        assert!(waited < within, "offsets not committed within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
