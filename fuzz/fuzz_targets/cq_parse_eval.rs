//! CQ: `Query::parse` on arbitrary text (up to the first NUL byte); a query
//! that parses must print a canonical form that parses back to an equal
//! query, and both must agree on every case snapshot: a fixed open P2
//! security case, an empty one, and snapshots built from the bytes after the
//! NUL, each at a fixed and at an arbitrary `now`.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use case_event_handler::event::pb::{
    CustomAttributeType, CustomAttributeValue, Priority, StatusGroup, StringList,
};
use case_event_handler::event::{CaseSnapshot, Timestamp};
use case_event_handler::query::Query;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;

/// Attribute names the built-in fields and aliases read, so that arbitrary
/// snapshots hit them often.
const NAMES: [&str; 9] = [
    "teams",
    "services",
    "environments",
    "datacenters",
    "versions",
    "creation_source",
    "business_impact",
    "region",
    "x",
];
const STATUSES: [&str; 4] = ["Open", "Investigating", "Closed", "open"];

/// A case snapshot as the fuzzer builds it.
#[derive(Arbitrary, Debug)]
struct Case {
    key: String,
    project_id: String,
    title: String,
    type_id: String,
    status: (u8, String),
    status_group: i32,
    priority: i32,
    assignee_id: Option<String>,
    attributes: Vec<(u8, Vec<String>)>,
    custom_attributes: Vec<(u8, i32, Vec<String>)>,
    times: [Option<(i64, i32)>; 4],
    due_date: Option<String>,
}

fn name(index: u8, other: &str) -> String {
    NAMES
        .get(usize::from(index))
        .map_or_else(|| other.to_string(), |n| (*n).to_string())
}

fn stamp(t: Option<(i64, i32)>) -> Option<Timestamp> {
    t.map(|(seconds, nanos)| Timestamp { seconds, nanos })
}

impl Case {
    fn snapshot(self) -> CaseSnapshot {
        let status_name = match STATUSES.get(usize::from(self.status.0)) {
            Some(s) => (*s).to_string(),
            None => self.status.1,
        };
        let attributes: BTreeMap<String, StringList> = (self.attributes.into_iter())
            .map(|(i, values)| (name(i % 16, "other"), StringList { values }))
            .collect();
        let custom_attributes: BTreeMap<String, CustomAttributeValue> =
            (self.custom_attributes.into_iter())
                .map(|(i, kind, values)| {
                    let value = CustomAttributeValue {
                        r#type: kind,
                        is_multi: values.len() > 1,
                        values,
                    };
                    (name(i % 16, "other"), value)
                })
                .collect();
        let [created_at, modified_at, closed_at, archived_at] = self.times.map(stamp);
        CaseSnapshot {
            id: "0190a1b2-3333-7000-8000-000000000001".into(),
            key: self.key,
            project_id: self.project_id,
            title: self.title,
            type_id: self.type_id,
            status_name,
            status_group: self.status_group,
            priority: self.priority,
            assignee_id: self.assignee_id,
            attributes,
            custom_attributes,
            created_at,
            modified_at,
            closed_at,
            archived_at,
            due_date: self.due_date,
            ..Default::default()
        }
    }
}

/// An open P2 security case of team payments, like the unit tests' fixture.
fn fixture() -> CaseSnapshot {
    let list = |v: &[&str]| StringList {
        values: v.iter().map(|s| (*s).to_string()).collect(),
    };
    CaseSnapshot {
        id: "0190a1b2-3333-7000-8000-000000000001".into(),
        key: "SEC-42".into(),
        project_id: "0190a1b2-1111-7000-8000-000000000007".into(),
        title: "Database timeout on checkout".into(),
        type_id: "0190a1b2-0000-7000-8000-000000000002".into(),
        status_name: "Investigating".into(),
        status_group: StatusGroup::InProgress as i32,
        priority: Priority::P2 as i32,
        attributes: BTreeMap::from([
            ("teams".to_string(), list(&["payments", "platform"])),
            ("services".to_string(), list(&["checkout-api"])),
        ]),
        custom_attributes: BTreeMap::from([(
            "business_impact".to_string(),
            CustomAttributeValue {
                r#type: CustomAttributeType::Number as i32,
                is_multi: false,
                values: vec!["3".into()],
            },
        )]),
        created_at: Some(Timestamp {
            seconds: 1_714_557_600,
            nanos: 0,
        }),
        due_date: Some("2024-05-20".into()),
        ..Default::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (text, rest) = data.split_at(split);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(query) = Query::parse(text) else {
        return;
    };
    let canonical = query.to_string();
    let reparsed = Query::parse(&canonical)
        .unwrap_or_else(|e| panic!("canonical form {canonical:?} of {text:?} fails: {e}"));
    assert_eq!(reparsed, query, "canonical form {canonical:?} of {text:?}");

    let mut u = Unstructured::new(rest.get(1..).unwrap_or_default());
    let fixed_now = DateTime::from_timestamp(1_715_342_400, 0).expect("a valid time");
    let any_now = <(i64, u32)>::arbitrary(&mut u)
        .ok()
        .and_then(|(s, n)| DateTime::<Utc>::from_timestamp(s, n))
        .unwrap_or(fixed_now);
    let mut cases = vec![fixture(), CaseSnapshot::default()];
    for _ in 0..3 {
        if u.is_empty() {
            break;
        }
        match Case::arbitrary(&mut u) {
            Ok(case) => cases.push(case.snapshot()),
            Err(_) => break,
        }
    }
    for case in &cases {
        for now in [fixed_now, any_now] {
            let matched = query.matches(case, now);
            assert_eq!(
                reparsed.matches(case, now),
                matched,
                "{canonical:?} vs {text:?}"
            );
        }
    }
});
