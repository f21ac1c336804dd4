//! Sentences of comments, watchers, insights, links, reviews and signals.

use super::{by_system, cell, sentence, sentence_of, ANA, BOB};
use crate::event::pb::*;
use crate::event::Payload as P;

#[test]
fn comment_added() {
    let p = P::CaseCommentAdded(CaseCommentAdded {
        cell_id: "cm-1".into(),
        author_id: ANA.into(),
        markdown: "Root cause looks like a **connection pool** exhaustion, see the dashboard for \
                   the last six hours of pool usage."
            .into(),
        mentions: vec![],
    });
    assert_eq!(
        sentence(p),
        "comment added by Ana Ruiz: “Root cause looks like a **connection pool** exhaustion, \
         see the dashboard for…”"
    );
}

#[test]
fn comment_edited_in_place() {
    // An edit replaces the comment cell's content with the edit's payload.
    let mut c = cell(P::CaseCommentEdited(CaseCommentEdited {
        cell_id: "cm-1".into(),
        markdown: "Looking into it now.".into(),
    }));
    c.event_type = "case.comment_added".into();
    c.edited = true;
    assert_eq!(
        sentence_of(&c),
        "comment added by Ana Ruiz (edited): “Looking into it now.”"
    );
}

#[test]
fn comment_edited_event() {
    let p = P::CaseCommentEdited(CaseCommentEdited {
        cell_id: "cm-1".into(),
        markdown: "Looking into it now.".into(),
    });
    assert_eq!(
        sentence(p),
        "comment edited by Ana Ruiz: “Looking into it now.”"
    );
}

#[test]
fn comment_deleted() {
    let mut c = cell(P::CaseCommentAdded(CaseCommentAdded::default()));
    c.content = serde_json::json!({});
    c.deleted = true;
    assert_eq!(sentence_of(&c), "comment by Ana Ruiz deleted");
    let p = P::CaseCommentDeleted(CaseCommentDeleted {
        cell_id: "cm-1".into(),
    });
    assert_eq!(sentence(p), "comment by Ana Ruiz deleted");
}

#[test]
fn watcher_added_and_removed() {
    let added = P::CaseWatcherAdded(CaseWatcherAdded {
        user_id: BOB.into(),
    });
    assert_eq!(sentence(added), "watcher Bob Lee added by Ana Ruiz");
    let own = P::CaseWatcherRemoved(CaseWatcherRemoved {
        user_id: ANA.into(),
    });
    assert_eq!(sentence(own), "Ana Ruiz stopped watching");
}

#[test]
fn insight_added_and_removed() {
    let insight = Insight {
        r#type: InsightType::SecuritySignal as i32,
        resource_id: "827773".into(),
        r#ref: "/security/signals/827773".into(),
    };
    let added = P::CaseInsightAdded(CaseInsightAdded {
        insight: Some(insight.clone()),
    });
    assert_eq!(
        sentence(added),
        "insight added: security signal 827773 by Ana Ruiz"
    );
    let removed = P::CaseInsightRemoved(CaseInsightRemoved {
        insight: Some(insight),
    });
    assert_eq!(
        sentence(removed),
        "insight removed: security signal 827773 by Ana Ruiz"
    );
}

fn link(relationship: LinkRelationship) -> Option<CaseLink> {
    Some(CaseLink {
        link_id: "l-1".into(),
        parent: Some(EntityRef {
            r#type: LinkedEntityType::Case as i32,
            id: "c1".into(),
        }),
        child: Some(EntityRef {
            r#type: LinkedEntityType::Incident as i32,
            id: "INC-42".into(),
        }),
        relationship: relationship as i32,
    })
}

#[test]
fn linked_and_unlinked() {
    let linked = P::CaseLinked(CaseLinked {
        link: link(LinkRelationship::EscalatesTo),
    });
    assert_eq!(
        sentence(linked),
        "linked by Ana Ruiz: this case escalates to incident INC-42"
    );
    let unlinked = P::CaseUnlinked(CaseUnlinked {
        link: link(LinkRelationship::ParentOf),
    });
    assert_eq!(
        sentence(unlinked),
        "unlinked by Ana Ruiz: this case is parent of incident INC-42"
    );
}

#[test]
fn review_requested() {
    let p = P::CaseReviewRequested(CaseReviewRequested {
        reviewer_ids: vec![BOB.into(), "u-zoe".into()],
        message: "Please approve the rollback.".into(),
    });
    assert_eq!(
        sentence(p),
        "review requested from Bob Lee, u-zoe by Ana Ruiz: “Please approve the rollback.”"
    );
}

#[test]
fn review_decided() {
    let p = P::CaseReviewDecided(CaseReviewDecided {
        reviewer_id: BOB.into(),
        decision: ReviewState::Approved as i32,
        requested_count: 2,
        approved_count: 1,
        declined_count: 0,
        satisfied: vec![ApprovalType::First as i32, ApprovalType::Each as i32],
    });
    assert_eq!(
        sentence(p),
        "review approved by Bob Lee (1 of 2 approved, 0 declined)"
    );
}

#[test]
fn signal_correlated() {
    let p = P::CaseSignalCorrelated(CaseSignalCorrelated {
        correlation_group_id: "g-1".into(),
        new_event_refs: vec!["e1".into(), "e2".into()],
        new_alert_refs: vec!["a1".into()],
        total_count: 7,
    });
    assert_eq!(
        by_system(p),
        "signals correlated: 2 events and 1 alert (7 in total)"
    );
}
