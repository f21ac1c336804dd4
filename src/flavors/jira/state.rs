//! The kit state the sync keeps (intents, field digests) and the two vendor
//! effects that run as intents: creating an issue (looked up by the
//! `case-<id>` label) and posting a comment (looked up by its cell id).

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::client::{JiraClient, JiraError};
use super::config::ProjectConfig;
use crate::event::CaseEvent;
use crate::flavors::kit::fieldsync::FieldSync;
use crate::flavors::kit::intent::{
    Effect, ExtRef, IntentKey, Intents, Mode, Policy, Record, State, Subject,
};

/// The intent kind of a case's issue (target [`ISSUE`]).
pub const CASE: &str = "case";
/// The target of a case's issue intent.
pub const ISSUE: &str = "issue";
/// The intent kind of a comment cell (target: the issue id).
pub const COMMENT: &str = "comment";

/// One synced project: its settings and its client.
#[derive(Debug)]
pub struct Project {
    pub cfg: ProjectConfig,
    pub client: JiraClient,
}

/// The kit state the sync keeps: intents and field digests.
#[derive(Debug, Clone)]
pub struct SyncState {
    pub intents: Intents,
    pub fields: FieldSync,
    /// Issue creates: looked up by label, with the search-lag window.
    pub create: Policy,
    /// Comments: looked up by cell id (the comment list does not lag).
    pub comment: Policy,
}

impl SyncState {
    /// The state of a flavor whose vendor calls time out after `timeout`.
    pub fn new(intents: Intents, fields: FieldSync, timeout: Duration, window: Duration) -> Self {
        // A lease outlives the call: a live call is never doubled.
        let lease = timeout + Duration::from_secs(30);
        Self {
            intents,
            fields,
            create: Policy {
                mode: Mode::Lookup { window },
                lease,
            },
            comment: Policy {
                mode: Mode::Lookup {
                    window: Duration::ZERO,
                },
                lease,
            },
        }
    }

    /// The key of a case's issue intent.
    pub fn issue_key<'a>(&'a self, case_id: &'a str) -> IntentKey<'a> {
        self.intents.key(CASE, case_id, ISSUE)
    }

    /// The linked issue of a case (None while a create is unresolved).
    pub async fn link(&self, case_id: &str) -> Result<Option<Record>, sqlx::Error> {
        let row = self.intents.get(&self.issue_key(case_id)).await?;
        Ok(row.filter(|r| r.state == State::Linked && r.ext.is_some()))
    }
}

/// The case an event is about, as the intent rows keep it.
pub fn subject(event: &CaseEvent) -> Subject {
    Subject {
        case_id: event.case_id.clone(),
        org_id: event.org_id.clone(),
        project_id: event.project_id.clone(),
        case_key: event.case_key.clone(),
    }
}

/// `POST /issue`, looked up by the case label after an unknown outcome.
pub struct CreateIssue<'a> {
    pub project: &'a Project,
    pub body: &'a Value,
    pub label: String,
    pub tp: Option<&'a str>,
}

#[async_trait]
impl Effect for CreateIssue<'_> {
    type Error = JiraError;

    async fn perform(&self) -> Result<ExtRef, JiraError> {
        self.project.client.create_issue(self.body, self.tp).await
    }

    async fn lookup(&self) -> Result<Option<ExtRef>, JiraError> {
        let (client, key) = (&self.project.client, &self.project.cfg.project_key);
        let found = client.search_label(key, &self.label, self.tp).await?;
        if found.len() > 1 {
            let keys: Vec<_> = found.iter().filter_map(|i| i.key.as_deref()).collect();
            tracing::warn!(label = %self.label, ?keys, "several issues carry the case label; linking the oldest");
        }
        Ok(found.into_iter().next())
    }

    fn not_applied(&self, err: &JiraError) -> bool {
        err.definitely_not_applied()
    }
}

/// `POST /issue/{id}/comment`, looked up by its `caseSync.cellId`.
pub struct PostComment<'a> {
    pub client: &'a JiraClient,
    pub issue_id: &'a str,
    pub cell_id: &'a str,
    pub body: Value,
    pub tp: Option<&'a str>,
}

#[async_trait]
impl Effect for PostComment<'_> {
    type Error = JiraError;

    async fn perform(&self) -> Result<ExtRef, JiraError> {
        let id = (self.client)
            .add_comment(self.issue_id, &self.body, self.tp)
            .await?;
        Ok(ExtRef {
            id,
            key: None,
            url: None,
        })
    }

    async fn lookup(&self) -> Result<Option<ExtRef>, JiraError> {
        let existing = self.client.comments(self.issue_id, self.tp).await?;
        let found = existing
            .into_iter()
            .find(|c| c.cell_id.as_deref() == Some(self.cell_id));
        Ok(found.map(|c| ExtRef {
            id: c.id,
            key: None,
            url: None,
        }))
    }

    fn not_applied(&self, err: &JiraError) -> bool {
        err.definitely_not_applied()
    }
}
