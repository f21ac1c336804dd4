//! [`Rules`]: the snapshot in force and its reloads. Every replica polls the
//! same directory's content hash ([`spawn`], as `app::live` polls the config
//! files); a valid change replaces the snapshot, an invalid one is logged
//! problem by problem and counted, and the previous snapshot stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::load::{build, content_hash, read_dir, RulesError};
use super::{RuleProblem, RulesSnapshot, RulesView, SecretResolver};
use crate::telemetry::metrics::{rules_in_force, rules_loaded};

/// What a reload did.
#[derive(Debug)]
pub enum Reload {
    /// The directory's content hash did not change.
    Unchanged,
    /// A new snapshot, of this version, is in force.
    Applied(String),
    /// The new content is invalid; the previous snapshot stays in force.
    Rejected(Vec<RuleProblem>),
    /// The directory or a file could not be read; the previous snapshot stays.
    Unreadable(String),
}

/// The rules in force, for handlers ([`Rules::snapshot`]) and reloads.
#[derive(Debug)]
pub struct Rules {
    dir: PathBuf,
    tx: watch::Sender<Arc<RulesSnapshot>>,
    /// The content hash last looked at (applied or rejected).
    seen: Mutex<String>,
}

impl Rules {
    /// Loads `dir`; it must be valid.
    pub fn load(dir: &Path) -> Result<Self, RulesError> {
        let files = read_dir(dir).inspect_err(|_| rules_loaded("unreadable"))?;
        let snapshot = build(&files).map_err(|problems| {
            rules_loaded("rejected");
            RulesError::Invalid(problems)
        })?;
        applied(&snapshot);
        // The snapshot's version is the directory's content hash.
        let seen = Mutex::new(snapshot.version().to_owned());
        Ok(Self {
            dir: dir.to_owned(),
            tx: watch::Sender::new(Arc::new(snapshot)),
            seen,
        })
    }

    /// The directory read.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The snapshot in force; keep it for the whole event.
    pub fn snapshot(&self) -> Arc<RulesSnapshot> {
        self.tx.borrow().clone()
    }

    /// Notified of every new snapshot.
    pub fn subscribe(&self) -> watch::Receiver<Arc<RulesSnapshot>> {
        self.tx.subscribe()
    }

    /// A flavor's handle on the snapshots in force, resolving secrets
    /// with `secrets`.
    pub fn view(&self, secrets: SecretResolver) -> RulesView {
        RulesView::new(self.subscribe(), secrets)
    }

    /// Re-reads the directory (blocking file I/O) and installs a valid
    /// change; an invalid one is logged and the previous snapshot stays.
    pub fn reload(&self) -> Reload {
        let files = match read_dir(&self.dir) {
            Ok(files) => files,
            Err(e) => {
                rules_loaded("unreadable");
                tracing::error!(error = %e, "rules reload failed; the previous rules stay in force");
                return Reload::Unreadable(e.to_string());
            }
        };
        let hash = content_hash(&files);
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if *seen == hash {
                return Reload::Unchanged;
            }
            seen.clone_from(&hash);
        }
        match build(&files) {
            Ok(snapshot) => {
                applied(&snapshot);
                let previous = self.snapshot().version().to_owned();
                tracing::info!(version = %hash, %previous, "rules reloaded");
                self.tx.send_replace(Arc::new(snapshot));
                Reload::Applied(hash)
            }
            Err(problems) => {
                rules_loaded("rejected");
                let in_force = self.snapshot().version().to_owned();
                for p in &problems {
                    tracing::error!(
                        file = %p.file, line = p.line, col = p.col, path = %p.path,
                        rule_id = p.rule_id.as_deref().unwrap_or(""),
                        "rules problem: {}", p.message
                    );
                }
                tracing::error!(
                    rejected = %hash, %in_force, problems = problems.len(),
                    "rules reload rejected; the previous rules stay in force"
                );
                Reload::Rejected(problems)
            }
        }
    }
}

fn applied(snapshot: &RulesSnapshot) {
    rules_loaded("applied");
    rules_in_force(
        snapshot
            .projects()
            .map(|p| (p.key.as_str(), p.version.as_str())),
    );
}

/// Polls `rules` every `every` until `shutdown`.
pub fn spawn(
    rules: Arc<Rules>,
    every: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // The first look is one period after the load at start.
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            let rules = rules.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || rules.reload()).await {
                tracing::error!(error = %e, "rules reload task failed");
            }
        }
    })
}
