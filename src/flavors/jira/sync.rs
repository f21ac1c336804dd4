//! IO: runs a plan against Jira and records every effect right after it
//! happened, so a retry neither repeats it nor loses it.
//!
//! Create and comment are not idempotent in Jira; both run as kit intents
//! ([`crate::flavors::kit::intent`]) with a lookup: an issue by its
//! `case-<id>` label (search may lag: a miss inside
//! `create_lookup_window_ms` is transient), a comment by its `caseSync`
//! cell id (no lag). Field values written go into the kit's field-sync
//! digests, which the plan and the webhook read.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::client::{JiraClient, JiraError, Transition};
use super::plan::{self, Action, LinkView, Plan, Synced, COMMENT_PROPERTY};
use super::state::{subject, CreateIssue, PostComment};
use super::state::{Project, SyncState, COMMENT};
use crate::event::{CaseEvent, Event, Payload};
use crate::flavors::kit::intent::{Done, IntentError, Record, State};
use crate::handler::HandlerError;
use crate::store::StoreError;

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
    /// A create or comment could not run now (lookup pending, call in flight).
    #[error(transparent)]
    Intent(IntentError<JiraError>),
    /// A kit table failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The ledger failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The link changed under us (another writer).
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

impl From<IntentError<JiraError>> for SyncError {
    fn from(err: IntentError<JiraError>) -> Self {
        match err {
            IntentError::Vendor(e) => SyncError::Jira(e),
            IntentError::Db(e) => SyncError::Db(e),
            other => SyncError::Intent(other),
        }
    }
}

impl From<SyncError> for HandlerError {
    fn from(err: SyncError) -> Self {
        match err {
            SyncError::Jira(JiraError::Http(e)) => e.into(),
            SyncError::Jira(e @ JiraError::Decode { .. }) => HandlerError::transient(e),
            SyncError::Intent(e) => {
                let wait = e.retry_after();
                let transient = HandlerError::transient(e);
                match wait {
                    Some(wait) => transient.with_retry_after(wait),
                    None => transient,
                }
            }
            SyncError::Db(e) => StoreError::from(e).into(),
            SyncError::Store(e) => e.into(),
            SyncError::Raced(_) => HandlerError::transient(err),
            SyncError::NoTransition { .. } => HandlerError::permanent(err),
        }
    }
}

/// Syncs one event of a configured project.
pub async fn sync(project: &Project, st: &SyncState, event: &Event) -> Result<Outcome, SyncError> {
    let tp = event.trace.as_ref().map(|t| t.traceparent.as_str());
    let case_id = event.case_id.as_str();
    let link = st.link(case_id).await?;
    let (hashes, sent) = match &link {
        Some(l) => known(st, event, l).await?,
        None => (BTreeMap::new(), BTreeSet::new()),
    };
    let view = link.as_ref().map(|l| LinkView {
        stale: l.stale,
        hashes: &hashes,
        sent_comments: &sent,
    });
    let (issue_id, actions) = match plan::plan(event, view, &project.cfg) {
        Plan::Skip(why) => return Ok(Outcome::Skip(why)),
        Plan::StopSync(why) => {
            st.intents.mark_stale(&st.issue_key(case_id)).await?;
            tracing::info!(case_id, why, "jira sync stopped: link marked stale");
            return Ok(Outcome::Skip(why));
        }
        Plan::Create { body, synced, then } => {
            let create = CreateIssue {
                project,
                body: &body,
                label: plan::case_label(case_id),
                tp,
            };
            let key = st.issue_key(case_id);
            match st
                .intents
                .run(&key, &subject(event), &st.create, &create)
                .await?
            {
                Done::Created(issue) => {
                    st.fields.record(case_id, &synced).await?;
                    tracing::info!(case_id, issue = ?issue.key, "created jira issue");
                    (issue.id, then)
                }
                // An earlier attempt's issue, made from an earlier body:
                // every field is written again.
                Done::Adopted(issue) => (issue.id, adopted_actions(event, project, &sent)?),
                Done::Already(_) | Done::Unknown(_) => {
                    return Err(SyncError::Raced(case_id.into()))
                }
            }
        }
        Plan::Apply(actions) => {
            let id = link.and_then(|l| l.ext).map(|e| e.id);
            (id.ok_or_else(|| SyncError::Raced(case_id.into()))?, actions)
        }
    };
    let apply = Apply {
        project,
        st,
        event,
        issue_id: &issue_id,
        tp,
    };
    for action in actions {
        match apply.run(action).await {
            Err(SyncError::Jira(e)) if e.status() == Some(reqwest::StatusCode::NOT_FOUND) => {
                st.intents.mark_stale(&st.issue_key(case_id)).await?;
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
    // The runtime writes the ledger row after `Success`.
    Ok(Outcome::Done)
}

/// What the kit knows of a linked case: its field digests and, for a
/// comment event, whether Jira has that comment.
async fn known(
    st: &SyncState,
    event: &Event,
    link: &Record,
) -> Result<(BTreeMap<String, String>, BTreeSet<String>), SyncError> {
    let hashes = st.fields.digests(&event.case_id).await?;
    let mut sent = BTreeSet::new();
    if let (Payload::CaseCommentAdded(c), Some(issue)) = (event.payload(), &link.ext) {
        let key = st.intents.key(COMMENT, &c.cell_id, &issue.id);
        if (st.intents.get(&key).await?).is_some_and(|r| r.state == State::Linked) {
            sent.insert(c.cell_id.clone());
        }
    }
    Ok((hashes, sent))
}

/// The writes for an adopted issue: the plan of a linked case with no
/// digests recorded, so every field is written.
fn adopted_actions(
    event: &Event,
    project: &Project,
    sent: &BTreeSet<String>,
) -> Result<Vec<Action>, SyncError> {
    let none = BTreeMap::new();
    let view = LinkView {
        stale: false,
        hashes: &none,
        sent_comments: sent,
    };
    Ok(match plan::plan(event, Some(view), &project.cfg) {
        Plan::Apply(actions) => actions,
        _ => Vec::new(),
    })
}

/// Applies actions to one issue.
struct Apply<'a> {
    project: &'a Project,
    st: &'a SyncState,
    event: &'a CaseEvent,
    issue_id: &'a str,
    tp: Option<&'a str>,
}

impl Apply<'_> {
    fn client(&self) -> &JiraClient {
        &self.project.client
    }

    async fn remember(&self, synced: &[Synced]) -> Result<(), SyncError> {
        Ok(self.st.fields.record(&self.event.case_id, synced).await?)
    }

    async fn run(&self, action: Action) -> Result<(), SyncError> {
        let (id, tp) = (self.issue_id, self.tp);
        match action {
            Action::Edit { fields, synced } => {
                let body = json!({ "fields": fields });
                self.client().edit_issue(id, &body, tp).await?;
                self.remember(&synced).await?;
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
                self.remember(synced.as_slice()).await?;
            }
            Action::Assign { account_id, synced } => {
                self.client().assign(id, &account_id, tp).await?;
                self.remember(&[synced]).await?;
            }
            Action::Transition { category, synced } => {
                self.transition(&category).await?;
                self.remember(&[synced]).await?;
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

    /// Comments are not idempotent either: a comment intent goes first, and
    /// a retry after an unknown outcome looks the comment up by cell id.
    async fn comment(&self, cell_id: &str, adf: Value) -> Result<(), SyncError> {
        let body = json!({
            "body": adf,
            "properties": [{"key": COMMENT_PROPERTY, "value": {
                "origin": "case-event-handler",
                "eventId": self.event.event_id,
                "caseId": self.event.case_id,
                "cellId": cell_id,
            }}],
        });
        let post = PostComment {
            client: self.client(),
            issue_id: self.issue_id,
            cell_id,
            body,
            tp: self.tp,
        };
        let key = self.st.intents.key(COMMENT, cell_id, self.issue_id);
        let intents = &self.st.intents;
        intents
            .run(&key, &subject(self.event), &self.st.comment, &post)
            .await?;
        Ok(())
    }
}
