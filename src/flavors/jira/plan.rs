//! Pure: event + link state + project config → what to do in Jira. No IO.
//!
//! Every field value written to Jira is remembered as a hash of a comparable
//! form (`digest`); a planned write whose hash equals the last synced one is
//! dropped (no-op suppression, integrations §7.3). The same hashes let the
//! webhook recognise changes that merely echo ours.
//!
//! The kit guarantees a payload: the plan reads it from the validated
//! [`Event`], so there is no "no payload" case to skip.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::adf;
use super::changes::{label, managed_labels, snapshot_changes, Changes};
use super::config::{ProjectConfig, SyncMode};
use crate::event::pb::StatusGroup;
use crate::event::{Event, Payload};

/// Property set on created issues (provenance; not JQL-searchable).
pub const ISSUE_PROPERTY: &str = "caseLink";
/// Property set on comments we write (origin tagging, §7.2).
pub const COMMENT_PROPERTY: &str = "caseSync";

/// What the link table knows about a linked case.
#[derive(Debug, Clone, Copy)]
pub struct LinkView<'a> {
    /// The issue is gone (404): sync stopped.
    pub stale: bool,
    /// Last-synced digest per field (`summary`, `status`, ...).
    pub hashes: &'a BTreeMap<String, String>,
    /// Comment cells whose comment Jira has (their intents are linked).
    pub sent_comments: &'a BTreeSet<String>,
}

/// A field value written to Jira, remembered by its [`digest`] (the
/// field is a Jira field id).
pub use crate::flavors::kit::fieldsync::Synced;

/// One write against an existing issue.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `PUT /issue/{id}` with `{"fields": ...}`.
    Edit {
        fields: Map<String, Value>,
        synced: Vec<Synced>,
    },
    /// `PUT /issue/{id}` with `{"update": {"labels": [add/remove ops]}}`.
    Labels {
        add: Vec<String>,
        remove: Vec<String>,
        synced: Option<Synced>,
    },
    /// `PUT /issue/{id}/assignee`.
    Assign { account_id: String, synced: Synced },
    /// GET transitions, then POST the one into `category`.
    Transition { category: String, synced: Synced },
    /// `POST /issue/{id}/comment` (ADF body, `caseSync` property).
    Comment { cell_id: String, body: Value },
}

/// The plan for one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Nothing to do, and why.
    Skip(String),
    /// Create the issue (`body` for `POST /issue`), then apply `then`.
    Create {
        body: Value,
        synced: Vec<Synced>,
        then: Vec<Action>,
    },
    /// Apply these writes, in order.
    Apply(Vec<Action>),
    /// Stop syncing this case (mark the link stale).
    StopSync(String),
}

/// The hash of a field's comparable value.
pub fn digest(field: &str, comparable: &str) -> String {
    let sum = Sha256::new()
        .chain_update(field.as_bytes())
        .chain_update([0])
        .chain_update(comparable.trim().as_bytes())
        .finalize();
    hex::encode(&sum[..16])
}

/// The label every issue of a case carries; the lookup key after a lost create.
pub fn case_label(case_id: &str) -> String {
    format!("case-{case_id}")
}

/// Plans one event against the link (None: no issue yet).
pub fn plan(event: &Event, link: Option<LinkView<'_>>, cfg: &ProjectConfig) -> Plan {
    let payload = event.payload();
    if let Payload::CaseMovedToProject(_) = payload {
        return match link {
            Some(_) => Plan::StopSync("moved-to-other-project".into()),
            None => Plan::Skip("moved-to-other-project".into()),
        };
    }
    let Some(link) = link else {
        return plan_create(event, payload, cfg);
    };
    if link.stale {
        return Plan::Skip("stale-link".into());
    }
    match actions(event, payload, cfg, link) {
        Ok(a) if a.is_empty() => Plan::Skip("unchanged".into()),
        Ok(a) => Plan::Apply(a),
        Err(why) => Plan::Skip(why),
    }
}

fn plan_create(event: &Event, payload: &Payload, cfg: &ProjectConfig) -> Plan {
    if !cfg.auto_creation {
        return Plan::Skip("auto-create-off".into());
    }
    let snapshot = match payload {
        Payload::CaseCreated(c) => c.snapshot.as_deref().or(event.case_after.as_ref()),
        _ => event.case_after.as_ref(),
    };
    let Some(s) = snapshot else {
        return Plan::Skip("no-snapshot-to-create-from".into());
    };
    if s.status_group() == StatusGroup::Closed {
        return Plan::Skip("closed-case-without-issue".into());
    }
    let case_id = if s.id.is_empty() {
        &event.case_id
    } else {
        &s.id
    };
    let mut none = BTreeMap::new();
    let mut fresh = snapshot_changes(s, cfg, SyncMode::on_create, &none);
    let mut fields = std::mem::take(&mut fresh.edit);
    fields.insert("project".into(), json!({"key": cfg.project_key}));
    fields.insert("issuetype".into(), json!({"name": cfg.issue_type}));
    if !fields.contains_key("summary") {
        fields.insert("summary".into(), json!(super::changes::summary(&s.title)));
    }
    let mut labels = vec![case_label(case_id)];
    let mut synced = fresh.edit_synced;
    for action in fresh.others {
        match action {
            Action::Assign {
                account_id,
                synced: h,
            } => {
                fields.insert("assignee".into(), json!({"accountId": account_id}));
                synced.push(h);
            }
            Action::Labels { add, synced: h, .. } => {
                labels.extend(add);
                synced.extend(h);
            }
            _ => {}
        }
    }
    fields.insert("labels".into(), json!(labels));
    // A new issue starts in a `new`-category status.
    synced.push(Synced {
        field: "status".into(),
        digest: digest("status", "new"),
    });
    for h in &synced {
        none.insert(h.field.clone(), h.digest.clone());
    }
    let fresh = LinkView {
        stale: false,
        hashes: &none,
        sent_comments: &BTreeSet::new(),
    };
    let then = actions(event, payload, cfg, fresh).unwrap_or_default();
    let body = json!({
        "fields": fields,
        "properties": [{"key": ISSUE_PROPERTY, "value": {
            "caseId": case_id, "caseKey": s.key, "eventId": event.event_id,
        }}],
    });
    Plan::Create { body, synced, then }
}

/// The writes one event asks for, minus those that change nothing; `Err` is a
/// skip reason (a short static label: it becomes a metric label).
fn actions(
    event: &Event,
    payload: &Payload,
    cfg: &ProjectConfig,
    link: LinkView<'_>,
) -> Result<Vec<Action>, String> {
    let (hashes, sent_comments) = (link.hashes, link.sent_comments);
    let f = &cfg.fields;
    let mut c = Changes::new(hashes);
    match payload {
        Payload::CaseCreated(p) => {
            let s = p.snapshot.as_deref().or(event.case_after.as_ref());
            let s = s.ok_or("no-snapshot")?;
            c = snapshot_changes(s, cfg, SyncMode::on_create, hashes);
        }
        Payload::CaseTitleChanged(p) if f.title.on_update() => c.title(&p.new),
        Payload::CaseDescriptionChanged(p) if f.description.on_update() => c.description(&p.new),
        Payload::CaseStatusChanged(p) if f.status.on_update() => c.status(cfg, p.to_group()),
        Payload::CasePriorityChanged(p) if f.priority.on_update() => c.priority(cfg, p.to()),
        Payload::CaseAssigned(p) if f.assignee.on_update() => c.assignee(cfg, Some(&p.to)),
        Payload::CaseUnassigned(_) if f.assignee.on_update() => c.assignee(cfg, None),
        Payload::CaseDueDateChanged(p) if f.due_date.on_update() => {
            c.due_date(cfg, p.new.as_deref())
        }
        Payload::CaseAttributeChanged(p)
            if f.labels.on_update() && cfg.label_attributes.contains(&p.key) =>
        {
            let full = event.case_after.as_ref().map(|s| managed_labels(s, cfg));
            let synced = full.map(|l| Synced {
                field: "labels".into(),
                digest: digest("labels", &l.join(" ")),
            });
            let add = p.added.iter().map(|v| label(&p.key, v)).collect();
            let remove = p.removed.iter().map(|v| label(&p.key, v)).collect();
            c.push(Action::Labels {
                add,
                remove,
                synced,
            });
        }
        Payload::CaseCustomAttributeChanged(p) => {
            let Some(field) = cfg.custom_fields.iter().find(|x| x.attribute == p.key) else {
                return Err("field-not-synced".into());
            };
            if !field.mode.on_update() {
                return Err("field-not-synced".into());
            }
            let values = p.new.as_ref().map(|v| v.values.as_slice()).unwrap_or(&[]);
            c.custom(&field.field_id, field.shape, values);
        }
        Payload::CaseCommentAdded(p) if cfg.comments => {
            if !sent_comments.contains(&p.cell_id) {
                c.push(Action::Comment {
                    cell_id: p.cell_id.clone(),
                    body: adf::from_markdown(&p.markdown),
                });
            }
        }
        _ => return Err("field-not-synced".into()),
    }
    Ok(c.finish())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
