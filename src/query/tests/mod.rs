//! Unit tests of the query language, with a shared fixture case.

mod errors;
mod examples;
mod ordering;
mod prop;
mod semantics;
mod syntax;
mod time;

use std::collections::BTreeMap;

use crate::event::Timestamp;
use chrono::{DateTime, Utc};

use super::Query;
use crate::event::pb::{
    CustomAttributeType, CustomAttributeValue, Priority, StatusGroup, StringList,
};
use crate::event::CaseSnapshot;

/// Id of the built-in Security case type.
const SECURITY_TYPE: &str = "0190a1b2-0000-7000-8000-000000000002";
/// Project id of the fixture.
const PROJECT: &str = "0190a1b2-1111-7000-8000-000000000007";
/// Assignee of [`assigned`].
const USER: &str = "0190a1b2-2222-7000-8000-00000000000a";

/// The evaluation time used throughout: 2024-05-10T12:00:00Z.
fn now() -> DateTime<Utc> {
    at("2024-05-10T12:00:00Z")
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn ts(rfc3339: &str) -> Option<Timestamp> {
    let t = at(rfc3339);
    Some(Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

fn list(values: &[&str]) -> StringList {
    StringList {
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

fn custom(kind: CustomAttributeType, values: &[&str]) -> CustomAttributeValue {
    CustomAttributeValue {
        r#type: kind as i32,
        is_multi: values.len() > 1,
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

/// An open-ish P2 security case of team payments/platform, service
/// checkout-api, env prod, unassigned, created 2024-05-01T10:00Z.
fn case() -> CaseSnapshot {
    let attributes = BTreeMap::from([
        ("teams".to_owned(), list(&["payments", "platform"])),
        ("services".to_owned(), list(&["checkout-api"])),
        ("environments".to_owned(), list(&["prod"])),
        ("creation_source".to_owned(), list(&["Event Management"])),
    ]);
    let custom_attributes = BTreeMap::from([
        (
            "business_impact".to_owned(),
            custom(CustomAttributeType::Number, &["3"]),
        ),
        (
            "region".to_owned(),
            custom(CustomAttributeType::Text, &["eu1"]),
        ),
    ]);
    CaseSnapshot {
        id: "0190a1b2-3333-7000-8000-000000000001".into(),
        key: "SEC-42".into(),
        project_id: PROJECT.into(),
        title: "Database timeout on checkout".into(),
        type_id: SECURITY_TYPE.into(),
        status_name: "Investigating".into(),
        status_group: StatusGroup::InProgress as i32,
        priority: Priority::P2 as i32,
        attributes,
        custom_attributes,
        created_at: ts("2024-05-01T10:00:00Z"),
        ..Default::default()
    }
}

/// The fixture, changed by `f`.
fn with(f: impl FnOnce(&mut CaseSnapshot)) -> CaseSnapshot {
    let mut c = case();
    f(&mut c);
    c
}

/// The fixture, assigned to [`USER`].
fn assigned() -> CaseSnapshot {
    with(|c| c.assignee_id = Some(USER.into()))
}

fn parse(q: &str) -> Query {
    Query::parse(q).unwrap_or_else(|e| panic!("{q:?}: {e}"))
}

/// Whether `q` matches `c` at [`now`].
fn m(q: &str, c: &CaseSnapshot) -> bool {
    parse(q).matches(c, now())
}

/// Asserts each query matches `c`.
#[track_caller]
fn yes(c: &CaseSnapshot, queries: &[&str]) {
    for q in queries {
        assert!(m(q, c), "expected {q:?} to match");
    }
}

/// Asserts no query matches `c`.
#[track_caller]
fn no(c: &CaseSnapshot, queries: &[&str]) {
    for q in queries {
        assert!(!m(q, c), "expected {q:?} not to match");
    }
}
