//! Every example of the domain.md §C.3 table, each with a matching and a
//! non-matching case.

use super::*;
use crate::event::pb::{Priority, StatusGroup};

fn open(c: &mut CaseSnapshot) {
    c.status_name = "Open".into();
    c.status_group = StatusGroup::Open as i32;
}

#[test]
fn urgent_cases_owned_by_payments() {
    let q = "priority:(P1 OR P2) team:payments";
    yes(&case(), &[q]);
    yes(&with(|c| c.priority = Priority::P1 as i32), &[q]);
    no(&with(|c| c.priority = Priority::P3 as i32), &[q]);
    no(&with(|c| drop(c.attributes.remove("teams"))), &[q]);
}

#[test]
fn open_urgent_cases_excluding_sandbox_services() {
    let q = "status:open priority:>=P2 -service:sandbox-*";
    no(&case(), &[q]); // in progress
    yes(&with(open), &[q]);
    no(
        &with(|c| {
            open(c);
            c.attributes
                .insert("services".into(), list(&["checkout-api", "sandbox-eu"]));
        }),
        &[q],
    );
    no(
        &with(|c| {
            open(c);
            c.priority = Priority::P3 as i32;
        }),
        &[q],
    );
}

#[test]
fn unresolved_production_security_cases() {
    let q = "project:SEC type:security env:prod -status:closed";
    yes(&case(), &[q]);
    no(&with(|c| c.status_group = StatusGroup::Closed as i32), &[q]);
    no(&with(|c| c.key = "OPS-7".into()), &[q]);
    no(
        &with(|c| c.type_id = "0190a1b2-0000-7000-8000-000000000001".into()),
        &[q],
    );
    no(
        &with(|c| {
            drop(
                c.attributes
                    .insert("environments".into(), list(&["staging"])),
            )
        }),
        &[q],
    );
}

#[test]
fn phrase_and_unassigned() {
    let q = "\"database timeout\" assignee:none";
    yes(&case(), &[q]);
    no(&assigned(), &[q]);
    no(&with(|c| c.title = "Database is slow".into()), &[q]);
}

#[test]
fn high_impact_or_created_by_event_correlation() {
    let q = "custom.business_impact:>=3 OR creation_source:\"Event Management\"";
    yes(&case(), &[q]);
    let low = |c: &mut CaseSnapshot| {
        c.custom_attributes.insert(
            "business_impact".into(),
            custom(CustomAttributeType::Number, &["2"]),
        );
    };
    no(
        &with(|c| {
            low(c);
            c.attributes.remove("creation_source");
        }),
        &[q],
    );
    yes(&with(low), &[q]);
}

#[test]
fn has_a_team_and_still_active() {
    let q = "team:* NOT (status:closed OR archived:true)";
    yes(&case(), &[q]);
    no(&with(|c| c.status_group = StatusGroup::Closed as i32), &[q]);
    no(&with(|c| c.archived_at = ts("2024-05-02T00:00:00Z")), &[q]);
    no(
        &with(|c| drop(c.attributes.insert("teams".into(), list(&[])))),
        &[q],
    );
}
