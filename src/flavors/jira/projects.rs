//! The synced projects, from the rules in force: every project whose file
//! has an enabled `integrations.jira` (keyed by its `project.id`, which
//! events carry), each with its client, and the webhook verifier of their
//! secrets. Rebuilt when the rules' version changes, on the first event or
//! delivery that sees it (never per event); a project whose section did not
//! change keeps its client. A section whose secrets cannot be read refuses
//! the start; on a reload it is logged and the project keeps its previous
//! settings (or stays unsynced).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;

use super::client::JiraClient;
use super::config::{ProjectConfig, ProjectError};
use super::state::Project;
use super::webhook;
use crate::flavors::kit::inbound::{HmacSha256, Key, Keyring, Refusal, Verified, Verifier};
use crate::http::Dependency;
use crate::rules::{RulesSnapshot, RulesView};

/// The synced projects of one rules version.
pub struct Synced {
    /// The rules' version they come from.
    pub version: String,
    /// By case-management project id.
    pub by_id: HashMap<String, Arc<Project>>,
    /// The webhook secrets of those with one, labelled by project id.
    pub verifier: HmacSha256,
}

/// A project whose settings could not be taken.
#[derive(Debug, thiserror::Error)]
#[error("rules project {project} ({file}): {source}")]
pub struct Unsynced {
    /// The project key.
    pub project: String,
    /// Its file.
    pub file: String,
    /// Why.
    pub source: ProjectError,
}

/// The synced projects, following the rules.
pub struct Projects {
    rules: RulesView,
    dep: Dependency,
    /// Held only to compare a version and swap an `Arc`, never across an await.
    current: Mutex<Arc<Synced>>,
}

impl Projects {
    /// The projects of the rules in force; every enabled section must
    /// resolve. `dep` is the client of [`JIRA`](super::JIRA) they share.
    pub fn new(rules: RulesView, dep: Dependency) -> Result<Self, Vec<Unsynced>> {
        let snapshot = rules.snapshot();
        let (synced, errors) = take(&snapshot, &rules, &dep, None);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            rules,
            dep,
            current: Mutex::new(Arc::new(synced)),
        })
    }

    /// The projects of the rules in force; keep them for the event.
    pub fn current(&self) -> Arc<Synced> {
        let snapshot = self.rules.snapshot();
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.version != snapshot.version() {
            let (synced, errors) = take(&snapshot, &self.rules, &self.dep, Some(&current));
            for e in errors {
                tracing::error!(error = %e, "jira: project settings not taken; the previous ones stay");
            }
            tracing::info!(version = %synced.version, projects = synced.by_id.len(), "jira: projects follow the rules");
            *current = Arc::new(synced);
        }
        current.clone()
    }

    /// Whether a synced project has a two-way field (the webhook is needed).
    pub fn any_inbound(&self) -> bool {
        self.current().by_id.values().any(|p| p.cfg.has_inbound())
    }
}

/// The projects of `snapshot`, reusing those of `previous` whose section
/// did not change, and keeping the previous one of a section that fails.
fn take(
    snapshot: &RulesSnapshot,
    rules: &RulesView,
    dep: &Dependency,
    previous: Option<&Synced>,
) -> (Synced, Vec<Unsynced>) {
    let mut by_id = HashMap::new();
    let mut errors = Vec::new();
    for project in snapshot.projects() {
        let file = &project.rules;
        let Some(section) = file.integrations.jira.as_ref().filter(|j| j.enabled) else {
            continue;
        };
        // Validation requires it of an enabled section.
        let Some(id) = file.project.id.clone() else {
            continue;
        };
        let before = previous.and_then(|p| p.by_id.get(&id));
        if let Some(same) = before.filter(|p| p.cfg.section == *section) {
            by_id.insert(id, same.clone());
            continue;
        }
        match ProjectConfig::resolve(section, rules.secrets()) {
            Ok(cfg) => {
                let client = JiraClient::new(dep.clone(), &cfg.site_url, cfg.auth.clone());
                by_id.insert(id, Arc::new(Project { cfg, client }));
            }
            Err(source) => {
                errors.push(Unsynced {
                    project: project.key.clone(),
                    file: project.file.clone(),
                    source,
                });
                if let Some(kept) = before {
                    by_id.insert(id, kept.clone());
                }
            }
        }
    }
    let keys = (by_id.iter()).filter_map(|(id, p)| {
        let secret = p.cfg.webhook_secret.as_ref()?;
        Some(Key::new(id.clone(), secret.expose().as_bytes()))
    });
    let verifier = webhook::verifier(Keyring::new(keys));
    let version = snapshot.version().to_owned();
    let synced = Synced {
        version,
        by_id,
        verifier,
    };
    (synced, errors)
}

/// Verifies a delivery with the webhook secrets of the projects in force.
pub struct ProjectVerifier(pub Arc<Projects>);

impl Verifier for ProjectVerifier {
    fn verify(&self, headers: &HeaderMap, body: &[u8], now_s: i64) -> Result<Verified, Refusal> {
        self.0.current().verifier.verify(headers, body, now_s)
    }
}
