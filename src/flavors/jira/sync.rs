//! IO: runs a plan against Jira and records every effect in the link table
//! right after it happened, so a retry neither repeats it nor loses it.
//!
//! Create is not idempotent in Jira. Before the create call a 'creating'
//! intent row is written; a retry that finds it looks the issue up by its
//! `case-<id>` label first and, while search may still lag, answers a
//! transient error instead of creating a second issue. Only after
//! `create_lookup_window_ms` without a hit is the issue created again.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use sqlx::AnyPool;

use super::client::{JiraClient, JiraError, Transition};
use super::config::ProjectConfig;
use super::links::{self, IssueRef, Link, LinkState};
use super::plan::{self, Action, LinkView, Plan, Synced, COMMENT_PROPERTY};
use crate::event::{CaseEvent, Event};
use crate::handler::{Ctx, HandlerError};
use crate::store::{now_ms, StoreError};

/// One synced project: its settings and its client.
#[derive(Debug)]
pub struct Project {
    pub cfg: ProjectConfig,
    pub client: JiraClient,
}

/// How one event ended when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Jira was written.
    Done,
    /// Nothing to write, and why.
    Skip(String),
}

/// Why an outbound sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A Jira call failed.
    #[error(transparent)]
    Jira(#[from] JiraError),
    /// A link-table query failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The ledger failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A create with unknown outcome is not visible to search yet.
    #[error("issue of case {case_id} not visible to search yet; creating again in {left_ms} ms at the latest")]
    CreatePending {
        case_id: String,
        left_ms: u64,
        retry_after: Duration,
    },
    /// The link row changed under us (another writer).
    #[error("link of case {0} changed concurrently")]
    Raced(String),
    /// The workflow offers no way into the target status category.
    #[error("no transition into status category '{category}' from '{current}' on issue {issue}")]
    NoTransition {
        issue: String,
        category: String,
        current: String,
    },
}

impl From<SyncError> for HandlerError {
    fn from(err: SyncError) -> Self {
        match err {
            SyncError::Jira(JiraError::Http(e)) => e.into(),
            SyncError::Jira(e @ JiraError::Decode { .. }) => HandlerError::transient(e),
            SyncError::Db(e) => StoreError::from(e).into(),
            SyncError::Store(e) => e.into(),
            SyncError::CreatePending { retry_after, .. } => {
                HandlerError::transient(&err).with_retry_after(retry_after)
            }
            SyncError::Raced(_) => HandlerError::transient(err),
            SyncError::NoTransition { .. } => HandlerError::permanent(err),
        }
    }
}

/// Syncs one event of a configured project.
pub async fn sync(
    project: &Project,
    lookup_window: Duration,
    ctx: &Ctx,
    event: &Event,
) -> Result<Outcome, SyncError> {
    let store = ctx.store().ok_or(StoreError::NotConfigured)?;
    let pool = store.pool();
    let tp = event.trace.as_ref().map(|t| t.traceparent.as_str());
    let case_id = event.case_id.as_str();
    let mut link = links::load(pool, case_id).await?;
    if let Some(pending) = link.take_if(|l| l.state == LinkState::Creating) {
        link = resolve_pending(project, pool, &pending, lookup_window, tp).await?;
    }
    let hashes = match &link {
        Some(_) => links::hashes(pool, case_id).await?,
        None => BTreeMap::new(),
    };
    let view = link.as_ref().map(|l| LinkView {
        stale: l.stale,
        hashes: &hashes,
    });
    let (issue_id, actions) = match plan::plan(event, view, &project.cfg) {
        Plan::Skip(why) => return Ok(Outcome::Skip(why)),
        Plan::StopSync(why) => {
            links::mark_stale(pool, case_id).await?;
            tracing::info!(case_id, why, "jira sync stopped: link marked stale");
            return Ok(Outcome::Skip(why));
        }
        Plan::Create { body, synced, then } => {
            let issue = create(project, pool, event, &body, &synced, tp).await?;
            (issue.id, then)
        }
        Plan::Apply(actions) => {
            let id = link.and_then(|l| l.issue_id);
            (id.ok_or_else(|| SyncError::Raced(case_id.into()))?, actions)
        }
    };
    let apply = Apply {
        project,
        pool,
        event,
        issue_id: &issue_id,
        hashes: &hashes,
        tp,
    };
    for action in actions {
        match apply.run(action).await {
            Err(SyncError::Jira(e)) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
                links::mark_stale(pool, case_id).await?;
                tracing::warn!(
                    case_id,
                    issue_id,
                    "jira issue not found (404): link marked stale"
                );
                return Ok(Outcome::Skip("issue-not-found".into()));
            }
            other => other?,
        }
    }
    let mut tx = ctx.begin(event).await?;
    links::touch(tx.conn(), case_id)
        .await
        .map_err(StoreError::from)?;
    ctx.commit(tx).await?;
    Ok(Outcome::Done)
}

/// A 'creating' row: adopt the issue if search finds it, wait while search
/// may lag, and after the window answer None (create again).
async fn resolve_pending(
    project: &Project,
    pool: &AnyPool,
    pending: &Link,
    window: Duration,
    tp: Option<&str>,
) -> Result<Option<Link>, SyncError> {
    let label = plan::case_label(&pending.case_id);
    let found = project
        .client
        .search_label(&project.cfg.project_key, &label, tp)
        .await?;
    if found.len() > 1 {
        let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
        tracing::warn!(case_id = %pending.case_id, ?keys, "several issues carry the case label; linking the oldest");
    }
    if let Some(issue) = found.into_iter().next() {
        links::set_linked(pool, &pending.case_id, &issue).await?;
        tracing::info!(case_id = %pending.case_id, issue = %issue.key, "adopted the issue of an earlier create");
        return Ok(links::load(pool, &pending.case_id).await?);
    }
    let age = u64::try_from(now_ms() - pending.intent_at).unwrap_or(0);
    let window_ms = window.as_millis() as u64;
    if age < window_ms {
        let left_ms = window_ms - age;
        let step = (window_ms / 4).max(1000);
        return Err(SyncError::CreatePending {
            case_id: pending.case_id.clone(),
            left_ms,
            retry_after: Duration::from_millis(left_ms.min(step)),
        });
    }
    tracing::warn!(case_id = %pending.case_id, age_ms = age, "earlier create not found by search; creating again");
    Ok(None)
}

async fn create(
    project: &Project,
    pool: &AnyPool,
    event: &CaseEvent,
    body: &serde_json::Value,
    synced: &[Synced],
    tp: Option<&str>,
) -> Result<IssueRef, SyncError> {
    let case_id = event.case_id.as_str();
    let intent = Link {
        case_id: case_id.into(),
        project_id: event.project_id.clone(),
        case_key: event.case_key.clone(),
        org_id: event.org_id.clone(),
        state: LinkState::Creating,
        stale: false,
        issue_id: None,
        issue_key: None,
        issue_url: None,
        intent_at: now_ms(),
    };
    if !links::claim_create(pool, &intent).await? {
        match links::load(pool, case_id).await? {
            Some(l) if l.state == LinkState::Creating => links::renew_intent(pool, case_id).await?,
            _ => return Err(SyncError::Raced(case_id.into())),
        }
    }
    match project.client.create_issue(body, tp).await {
        Ok(issue) => {
            links::set_linked(pool, case_id, &issue).await?;
            for s in synced {
                links::set_hash(pool, case_id, &s.field, &s.hash).await?;
            }
            tracing::info!(case_id, issue = %issue.key, "created jira issue");
            Ok(issue)
        }
        Err(e) if e.definitely_not_applied() => {
            links::drop_intent(pool, case_id).await?;
            Err(e.into())
        }
        // Outcome unknown: the intent row stays and the retry looks first.
        Err(e) => Err(e.into()),
    }
}

/// Applies actions to one issue.
struct Apply<'a> {
    project: &'a Project,
    pool: &'a AnyPool,
    event: &'a CaseEvent,
    issue_id: &'a str,
    hashes: &'a BTreeMap<String, String>,
    tp: Option<&'a str>,
}

impl Apply<'_> {
    fn client(&self) -> &JiraClient {
        &self.project.client
    }

    async fn remember(&self, field: &str, hash: &str) -> Result<(), SyncError> {
        Ok(links::set_hash(self.pool, &self.event.case_id, field, hash).await?)
    }

    async fn run(&self, action: Action) -> Result<(), SyncError> {
        let (id, tp) = (self.issue_id, self.tp);
        match action {
            Action::Edit { fields, synced } => {
                let body = json!({ "fields": fields });
                self.client().edit_issue(id, &body, tp).await?;
                for s in synced {
                    self.remember(&s.field, &s.hash).await?;
                }
            }
            Action::Labels {
                add,
                remove,
                synced,
            } => {
                let ops: Vec<_> = (add.iter().map(|l| json!({ "add": l })))
                    .chain(remove.iter().map(|l| json!({ "remove": l })))
                    .collect();
                let body = json!({ "update": { "labels": ops } });
                self.client().edit_issue(id, &body, tp).await?;
                if let Some(s) = synced {
                    self.remember(&s.field, &s.hash).await?;
                }
            }
            Action::Assign { account_id, synced } => {
                self.client().assign(id, &account_id, tp).await?;
                self.remember(&synced.field, &synced.hash).await?;
            }
            Action::Transition { category, synced } => {
                self.transition(&category).await?;
                self.remember(&synced.field, &synced.hash).await?;
            }
            Action::Comment { cell_id, body } => self.comment(&cell_id, body).await?,
        }
        Ok(())
    }

    /// GET transitions, POST the one into `category`; on 400 refresh the list
    /// once and try again (a second 400 is permanent).
    async fn transition(&self, category: &str) -> Result<(), SyncError> {
        let (id, tp) = (self.issue_id, self.tp);
        let pick = |ts: Vec<Transition>| ts.into_iter().find(|t| t.category == category);
        let Some(t) = pick(self.client().transitions(id, tp).await?) else {
            return self.already_in(category).await;
        };
        match self.client().do_transition(id, &t.id, tp).await {
            Err(e) if e.status() == Some(reqwest::StatusCode::BAD_REQUEST) => {
                tracing::info!(issue = id, transition = %t.name, "transition refused; refreshing transitions once");
                match pick(self.client().transitions(id, tp).await?) {
                    Some(t) => Ok(self.client().do_transition(id, &t.id, tp).await?),
                    None => self.already_in(category).await,
                }
            }
            other => Ok(other?),
        }
    }

    /// No transition leads into `category`: fine if the issue is there already.
    async fn already_in(&self, category: &str) -> Result<(), SyncError> {
        let (name, current) = self.client().status(self.issue_id, self.tp).await?;
        if current == category {
            return Ok(());
        }
        Err(SyncError::NoTransition {
            issue: self.issue_id.into(),
            category: category.into(),
            current: format!("{name} ({current})"),
        })
    }

    /// Comments are not idempotent either: a 'pending' mark goes first, and a
    /// retry that finds it looks for the comment (by its `caseSync.cellId`).
    async fn comment(&self, cell_id: &str, adf: serde_json::Value) -> Result<(), SyncError> {
        let key = format!("comment:{cell_id}");
        if self
            .hashes
            .get(&key)
            .is_some_and(|h| h.starts_with("pending:"))
        {
            let existing = self.client().comments(self.issue_id, self.tp).await?;
            if let Some(c) = existing
                .iter()
                .find(|c| c.cell_id.as_deref() == Some(cell_id))
            {
                return self.remember(&key, &format!("sent:{}", c.id)).await;
            }
        } else {
            self.remember(&key, &format!("pending:{}", self.event.event_id))
                .await?;
        }
        let body = json!({
            "body": adf,
            "properties": [{"key": COMMENT_PROPERTY, "value": {
                "origin": "case-event-handler",
                "eventId": self.event.event_id,
                "caseId": self.event.case_id,
                "cellId": cell_id,
            }}],
        });
        let comment_id = self
            .client()
            .add_comment(self.issue_id, &body, self.tp)
            .await?;
        self.remember(&key, &format!("sent:{comment_id}")).await
    }
}
