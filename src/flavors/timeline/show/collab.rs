//! Sentences for collaboration: comments, watchers, insights, links, reviews
//! and correlated signals.

use super::words::{count, list, quote, word, Ctx};
use crate::event::pb::{self, ReviewState};

/// A comment's author: the payload's author, else the cell's actor.
fn author(cx: &Ctx, author_id: &str) -> String {
    if author_id.is_empty() {
        cx.by()
    } else {
        format!(" by {}", cx.who(author_id))
    }
}

pub(super) fn comment(cx: &Ctx, author_id: &str, markdown: &str) -> String {
    let edited = if cx.cell.edited { " (edited)" } else { "" };
    format!(
        "comment added{}{edited}: {}",
        author(cx, author_id),
        quote(markdown, 80)
    )
}

pub(super) fn comment_edited(cx: &Ctx, p: &pb::CaseCommentEdited) -> String {
    format!("comment edited{}: {}", cx.by(), quote(&p.markdown, 80))
}

/// A comment's tombstone, or a `case.comment_deleted` cell.
pub(super) fn comment_deleted(cx: &Ctx) -> String {
    match cx.actor() {
        "" => "comment deleted".into(),
        a => format!("comment by {a} deleted"),
    }
}

pub(super) fn watcher(cx: &Ctx, user_id: &str, added: bool) -> String {
    match (cx.is_actor(user_id), added) {
        (true, true) => format!("{} started watching", cx.who(user_id)),
        (true, false) => format!("{} stopped watching", cx.who(user_id)),
        (false, true) => format!("watcher {} added{}", cx.who(user_id), cx.by()),
        (false, false) => format!("watcher {} removed{}", cx.who(user_id), cx.by()),
    }
}

pub(super) fn insight(cx: &Ctx, insight: Option<&pb::Insight>, added: bool) -> String {
    let what = if added { "added" } else { "removed" };
    let Some(i) = insight else {
        return format!("insight {what}{}", cx.by());
    };
    let kind = word!(InsightType, i.r#type).unwrap_or_else(|| "resource".into());
    format!("insight {what}: {kind} {}{}", i.resource_id, cx.by())
}

/// One side of a link: `this case`, or `incident 42`.
fn entity(cx: &Ctx, e: Option<&pb::EntityRef>) -> String {
    let Some(e) = e else {
        return "something".into();
    };
    let kind = word!(LinkedEntityType, e.r#type).unwrap_or_else(|| "entity".into());
    if kind == "case" && e.id == cx.cell.case_id {
        return "this case".into();
    }
    format!("{kind} {}", e.id)
}

pub(super) fn link(cx: &Ctx, link: Option<&pb::CaseLink>, added: bool) -> String {
    let what = if added { "linked" } else { "unlinked" };
    let Some(l) = link else {
        return format!("{what}{}", cx.by());
    };
    let rel = match word!(LinkRelationship, l.relationship) {
        Some(r) if r == "parent of" || r == "successor of" => format!("is {r}"),
        Some(r) => r,
        None => "is linked to".into(),
    };
    format!(
        "{what}{}: {} {rel} {}",
        cx.by(),
        entity(cx, l.parent.as_ref()),
        entity(cx, l.child.as_ref())
    )
}

pub(super) fn review_requested(cx: &Ctx, p: &pb::CaseReviewRequested) -> String {
    let who: Vec<String> = p.reviewer_ids.iter().map(|id| cx.who(id)).collect();
    let mut text = format!("review requested from {}{}", list(&who), cx.by());
    if !p.message.trim().is_empty() {
        text.push_str(&format!(": {}", quote(&p.message, 60)));
    }
    text
}

pub(super) fn review_decided(cx: &Ctx, p: &pb::CaseReviewDecided) -> String {
    let decision = match ReviewState::try_from(p.decision) {
        Ok(ReviewState::Approved) => "approved",
        Ok(ReviewState::Declined) => "declined",
        _ => "answered",
    };
    let reviewer = if p.reviewer_id.is_empty() {
        cx.actor().to_owned()
    } else {
        cx.who(&p.reviewer_id)
    };
    format!(
        "review {decision} by {reviewer} ({} of {} approved, {} declined)",
        p.approved_count, p.requested_count, p.declined_count
    )
}

pub(super) fn signals(p: &pb::CaseSignalCorrelated) -> String {
    format!(
        "signals correlated: {} and {} ({} in total)",
        count(p.new_event_refs.len(), "event"),
        count(p.new_alert_refs.len(), "alert"),
        p.total_count
    )
}
