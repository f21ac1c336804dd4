//! What a claimed delivery changes: field updates, comments, a deleted
//! issue, each as `external_ticket.changed` events (origin JIRA). Jira's
//! ordering key, the issue's or comment's `updated` time in ms, goes in the
//! payload's `ext_version`; a change older than the newest applied for its
//! issue field is dropped. The envelope's `aggregate_version` is a case
//! version, which a webhook does not know: [`UNKNOWN_CASE_VERSION`].

use super::payload::{comparable, Comment, Delivery, Issue, User};
use super::{ignored, Then};
use crate::event::pb::{
    Actor, ActorKind, ExternalSystem, ExternalTicketChanged, Origin, OriginChannel,
};
use crate::event::{CaseEvent, EventType, Payload, SCHEMA_VERSION};
use crate::flavors::jira::config::ProjectConfig;
use crate::flavors::jira::plan::digest;
use crate::flavors::jira::state::{Project, SyncState};
use crate::flavors::kit::fieldsync::Synced;
use crate::flavors::kit::inbound::{InboundError, Received};
use crate::flavors::kit::intent::{Record, Subject};
use crate::store::now_ms;

/// The `aggregate_version` of the events built here: 0, "unknown". A
/// delivery has no triggering case event and the link row keeps no case
/// version, so there is none at hand; consumers never order by 0.
pub const UNKNOWN_CASE_VERSION: u64 = 0;

/// One change to publish.
#[derive(Debug)]
pub struct Change {
    /// External field (`priority`, `comment`, `issue`).
    pub field: String,
    pub old: String,
    pub new: String,
    /// The comment id, for comment changes.
    pub item_id: String,
    /// Jira's ordering key of the change: the record's `updated` time in
    /// ms (the payload's `ext_version`; never the `aggregate_version`).
    pub ext_version: i64,
}

/// When Jira says the issue changed: its `updated`, else the delivery's
/// timestamp, else now (ms).
pub fn issue_ext_version(issue: &Issue, delivery: &Delivery) -> i64 {
    (issue.updated_ms())
        .or(delivery.timestamp)
        .unwrap_or_else(now_ms)
}

/// When Jira says the comment changed: its `updated`, else the issue's.
pub fn comment_ext_version(comment: &Comment, issue: &Issue, delivery: &Delivery) -> i64 {
    (comment.updated_ms()).unwrap_or_else(|| issue_ext_version(issue, delivery))
}

/// The changelog items of fields synced inbound, each with the hash of its
/// comparable value (before the echo and staleness checks, which need IO).
pub fn changelog_changes(
    delivery: &Delivery,
    issue: &Issue,
    cfg: &ProjectConfig,
) -> Vec<(Change, String)> {
    let items = (delivery.changelog.as_ref()).map_or(&[][..], |c| &c.items[..]);
    let ext_version = issue_ext_version(issue, delivery);
    let mut out = Vec::new();
    for item in items {
        let field = (item.field_id.clone()).unwrap_or_else(|| item.field.to_lowercase());
        if !cfg.mode_of_jira_field(&field).inbound() {
            continue;
        }
        let comparable = comparable(&field, item, issue, &cfg.due_date_field);
        let hash = digest(&field, &comparable);
        let change = Change {
            old: item.from_string.clone().unwrap_or_default(),
            new: item.to_string.clone().unwrap_or_default(),
            field,
            item_id: String::new(),
            ext_version,
        };
        out.push((change, hash));
    }
    out
}

/// The change of a comment written or edited in Jira: its text.
pub fn comment_change(comment: &Comment, issue: &Issue, delivery: &Delivery) -> Change {
    Change {
        field: "comment".into(),
        old: String::new(),
        new: comment.text(),
        item_id: comment.id.clone(),
        ext_version: comment_ext_version(comment, issue, delivery),
    }
}

/// The change of a deleted issue, at the delivery's time (else now).
pub fn deleted_change(issue: &Issue, delivery: &Delivery) -> Change {
    Change {
        field: "issue".into(),
        old: issue.key.clone(),
        new: "deleted".into(),
        item_id: String::new(),
        ext_version: delivery.timestamp.unwrap_or_else(now_ms),
    }
}

/// The `external_ticket.changed` event of one change to `issue`, linked by
/// `link` (the case's side), from delivery `delivery_id`, made by `by`.
pub fn event(
    link: &Subject,
    issue: &Issue,
    delivery: &Delivery,
    delivery_id: &str,
    change: &Change,
    by: Option<&User>,
) -> CaseEvent {
    let at_ms = delivery.timestamp.unwrap_or(change.ext_version);
    let event_id = event_id(delivery_id, change, at_ms);
    let stamp = |ms: i64| crate::event::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    };
    CaseEvent {
        event_id: event_id.clone(),
        event_type: EventType::ExternalTicketChanged.as_str().into(),
        schema_version: SCHEMA_VERSION,
        org_id: link.org_id.clone(),
        project_id: link.project_id.clone(),
        case_id: link.case_id.clone(),
        case_key: link.case_key.clone(),
        aggregate_version: UNKNOWN_CASE_VERSION,
        occurred_at: Some(stamp(at_ms)),
        actor: Some(Actor {
            kind: ActorKind::Integration as i32,
            id: "jira".into(),
            display_name: by.map(User::shown).unwrap_or_default(),
        }),
        origin: Some(Origin {
            channel: OriginChannel::Jira as i32,
            external_ref: Some(delivery_id.into()),
        }),
        correlation_id: event_id,
        payload: Some(Payload::ExternalTicketChanged(ExternalTicketChanged {
            system: ExternalSystem::Jira as i32,
            ext_id: issue.id.clone(),
            field: change.field.clone(),
            old: change.old.clone(),
            new: change.new.clone(),
            ext_event_id: delivery_id.into(),
            ext_item_id: change.item_id.clone(),
            ext_version: change.ext_version,
        })),
        ..CaseEvent::default()
    }
}

/// What the delivery is about, once linked and verified.
pub struct Target<'a> {
    pub st: &'a SyncState,
    pub delivery: &'a Delivery,
    pub delivery_id: &'a str,
    pub issue: &'a Issue,
    pub link: &'a Record,
    pub project: &'a Project,
}

impl Target<'_> {
    fn by_integration(&self, user: Option<&User>) -> bool {
        user.is_some_and(|u| u.account_id == self.project.cfg.account_id)
    }

    /// Changelog items of two-way fields that are not our own echo.
    pub async fn issue_updated(&self) -> Result<Received<Then>, InboundError> {
        if self.by_integration(self.delivery.user.as_ref()) {
            return Ok(ignored("a change made by the integration's account"));
        }
        let (fields, case_id) = (&self.st.fields, &self.link.subject.case_id);
        let hashes = fields.digests(case_id).await?;
        let candidates = changelog_changes(self.delivery, self.issue, &self.project.cfg);
        let (mut changes, mut hashed, mut older) = (Vec::new(), Vec::new(), 0);
        for (change, hash) in candidates {
            if hashes.get(&change.field) == Some(&hash) {
                continue; // the value we wrote last: an echo of our own change
            }
            let (field, ext_version) = (&change.field, change.ext_version);
            if !fields.advance(&self.issue.id, field, ext_version).await? {
                older += 1;
                continue; // a newer change of this field was applied already
            }
            hashed.push(Synced {
                field: change.field.clone(),
                digest: hash,
            });
            changes.push(change);
        }
        if changes.is_empty() {
            return Ok(match older {
                0 => ignored("no change to a two-way field"),
                _ => ignored("older than a change already applied"),
            });
        }
        let then = Then::Digests {
            case_id: case_id.clone(),
            synced: hashed,
        };
        Ok(self.publish(&changes, self.delivery.user.as_ref(), then))
    }

    /// A comment written or edited in Jira (not by the integration).
    pub async fn comment(&self) -> Result<Received<Then>, InboundError> {
        let Some(comment) = self.delivery.comment.as_ref() else {
            return Err(InboundError::Malformed(
                "a comment event without `comment`".into(),
            ));
        };
        if !self.project.cfg.comments {
            return Ok(ignored("comment sync is off for the project"));
        }
        if self.by_integration(comment.editor()) {
            return Ok(ignored("a comment written by the integration's account"));
        }
        let change = comment_change(comment, self.issue, self.delivery);
        let mark = format!("comment:{}", comment.id);
        let fields = &self.st.fields;
        if !fields
            .advance(&self.issue.id, &mark, change.ext_version)
            .await?
        {
            return Ok(ignored("older than a change already applied"));
        }
        Ok(self.publish(&[change], comment.editor(), Then::Nothing))
    }

    /// The issue was deleted: the case learns it, and once the broker
    /// acknowledged, the link goes stale (outbound then skips as
    /// `stale-link`); a failed publish leaves it linked, so Jira's next copy
    /// is handled again.
    pub async fn deleted(&self) -> Result<Received<Then>, InboundError> {
        let change = deleted_change(self.issue, self.delivery);
        let then = Then::Stale {
            case_id: self.link.subject.case_id.clone(),
        };
        Ok(self.publish(&[change], self.delivery.user.as_ref(), then))
    }

    /// The events of `changes`, for the kit to publish.
    fn publish(&self, changes: &[Change], by: Option<&User>, then: Then) -> Received<Then> {
        let events = (changes.iter())
            .map(|c| {
                let subject = &self.link.subject;
                event(subject, self.issue, self.delivery, self.delivery_id, c, by)
            })
            .collect();
        Received::Publish { events, then }
    }
}

/// Deterministic ids (the kit's, from the source: no trigger event): a
/// re-delivery after a partial failure produces the same events, which
/// consumers deduplicate.
fn event_id(delivery_id: &str, change: &Change, at_ms: i64) -> String {
    let parts = [delivery_id, change.field.as_str(), change.item_id.as_str()];
    crate::flavors::kit::ids::from_parts(at_ms, &parts)
}
