//! §C.3 semantics: fields and aliases, multi-value, missing values, enums,
//! globs and free text.

use super::*;
use crate::event::pb::StatusGroup;

#[test]
fn aliases_read_the_reserved_attributes() {
    let c = with(|c| {
        c.attributes.insert("datacenters".into(), list(&["us1"]));
        c.attributes.insert("versions".into(), list(&["1.2.3"]));
    });
    yes(
        &c,
        &[
            "team:payments",
            "teams:payments",
            "service:checkout-api",
            "services:checkout-api",
        ],
    );
    yes(
        &c,
        &[
            "env:prod",
            "environments:prod",
            "datacenter:us1",
            "version:1.2.3",
        ],
    );
    no(&c, &["team:search", "env:staging", "datacenter:eu1"]);
}

#[test]
fn other_fields_read_attributes_and_custom_reads_custom_attributes() {
    yes(
        &case(),
        &["creation_source:\"Event Management\"", "custom.region:eu1"],
    );
    no(
        &case(),
        &[
            "region:eu1",
            "custom.creation_source:*",
            "custom.teams:payments",
        ],
    );
}

#[test]
fn multi_value_any_matches_and_negation_means_none_does() {
    let c = case(); // teams = payments, platform
    yes(
        &c,
        &[
            "team:payments",
            "team:platform",
            "team:(payments AND platform)",
        ],
    );
    yes(&c, &["-team:search", "NOT team:search"]);
    no(
        &c,
        &[
            "-team:payments",
            "-team:platform",
            "team:(payments AND search)",
        ],
    );
}

#[test]
fn missing_fields_match_no_value_and_negations_match() {
    let c = case(); // no `region` attribute, no assignee, not closed
    no(
        &c,
        &[
            "region:eu1",
            "region:*",
            "assignee:*",
            "closed_at:*",
            "closed_at:<now",
        ],
    );
    yes(
        &c,
        &[
            "-region:eu1",
            "-region:*",
            "-assignee:*",
            "-closed_at:*",
            "-closed_at:<now",
        ],
    );
}

#[test]
fn empty_strings_and_lists_count_as_missing() {
    let c = with(|c| {
        c.attributes.insert("teams".into(), list(&[""]));
        c.assignee_id = Some(String::new());
        c.key = String::new();
    });
    no(&c, &["team:*", "assignee:*", "key:*", "project:SEC"]);
    yes(&c, &["assignee:none", "-key:*"]);
}

#[test]
fn assignee_none_is_not_assignee_exists() {
    yes(
        &case(),
        &["assignee:none", "assignee:NONE", "assignee:(none)"],
    );
    no(&assigned(), &["assignee:none"]);
    yes(
        &assigned(),
        &[
            &format!("assignee:{USER}"),
            &format!("assignee:{}", USER.to_uppercase()),
        ],
    );
    // Quoted or escaped, `none` is a literal user id.
    no(&case(), &["assignee:\"none\"", "assignee:\\none"]);
    assert_eq!(parse("assignee:none"), parse("-assignee:*"));
}

#[test]
fn status_matches_name_or_group_case_insensitively() {
    let c = case(); // Investigating, in progress
    yes(
        &c,
        &[
            "status:Investigating",
            "status:investigating",
            "status:in_progress",
            "status:IN_PROGRESS",
        ],
    );
    yes(&c, &["status:SG_IN_PROGRESS", "status:invest*", "status:*"]);
    no(&c, &["status:open", "status:closed", "status:Invest"]);
    let unknown = with(|c| {
        c.status_name = String::new();
        c.status_group = StatusGroup::Unspecified as i32;
    });
    no(&unknown, &["status:*", "status:open"]);
}

#[test]
fn priority_and_type_match_case_insensitively() {
    yes(
        &case(),
        &[
            "priority:P2",
            "priority:p2",
            "priority:P*",
            "type:security",
            "type:SECURITY",
        ],
    );
    yes(&case(), &[&format!("type:{SECURITY_TYPE}"), "type:sec*"]);
    let change = with(|c| c.type_id = "0190a1b2-0000-7000-8000-000000000003".into());
    yes(
        &change,
        &[
            "type:\"change request\"",
            "type:change_request",
            "type:Change\\ Request",
        ],
    );
    no(&change, &["type:security", "type:change"]);
    let custom_type = with(|c| c.type_id = "9f6c".into());
    yes(&custom_type, &["type:9F6C"]);
}

#[test]
fn project_matches_id_or_key_prefix_and_key_matches_whole_key() {
    let c = case();
    yes(
        &c,
        &[
            "project:SEC",
            "project:sec",
            &format!("project:{PROJECT}"),
            "key:SEC-42",
            "key:sec-42",
            "key:SEC-*",
        ],
    );
    no(
        &c,
        &["project:OPS", "project:SEC-42", "key:SEC-4", "key:SEC"],
    );
    let dashed = with(|c| c.key = "MY-PROJ-7".into());
    yes(&dashed, &["project:MY-PROJ"]);
}

#[test]
fn attribute_values_are_case_sensitive() {
    yes(
        &case(),
        &["team:payments", "creation_source:\"Event Management\""],
    );
    no(
        &case(),
        &[
            "team:Payments",
            "creation_source:\"event management\"",
            "custom.region:EU1",
        ],
    );
}

#[test]
fn globs_are_anchored() {
    let c = case(); // services = checkout-api
    yes(
        &c,
        &[
            "service:checkout-*",
            "service:*-api",
            "service:*out*",
            "service:checkout-ap?",
            "service:?heckout-api",
        ],
    );
    no(
        &c,
        &[
            "service:checkout",
            "service:*-ap",
            "service:checkout-a?",
            "service:heckout*",
        ],
    );
    yes(&c, &["service:c*t-a*i", "service:**", "service:*?*"]);
}

#[test]
fn escaped_and_quoted_wildcards_are_literal() {
    let c = with(|c| drop(c.attributes.insert("services".into(), list(&["a*b", "c?"]))));
    yes(
        &c,
        &[
            "service:a\\*b",
            "service:\"a*b\"",
            "service:c\\?",
            "service:\"c?\"",
        ],
    );
    no(&c, &["service:a\\*", "service:\"a*\""]);
    let plain = with(|c| drop(c.attributes.insert("services".into(), list(&["axb"]))));
    yes(&plain, &["service:a*b"]);
    no(&plain, &["service:a\\*b", "service:\"a*b\""]);
}

#[test]
fn title_field_matches_the_whole_title_case_insensitively() {
    yes(
        &case(),
        &["title:\"database timeout on checkout\"", "title:*TIMEOUT*"],
    );
    no(&case(), &["title:timeout", "title:\"database timeout\""]);
}

#[test]
fn free_text_is_a_case_insensitive_title_substring() {
    yes(
        &case(),
        &[
            "timeout",
            "TIMEOUT",
            "\"database timeout\"",
            "\"Timeout On\"",
            "time*out",
            "dat?base",
            "checkout",
        ],
    );
    no(
        &case(),
        &["latency", "\"timeout database\"", "payments", "db*timeout"],
    );
    yes(&case(), &["\"\""]); // the empty string occurs in every title
}

#[test]
fn archived_is_a_boolean() {
    let archived = with(|c| c.archived_at = ts("2024-05-02T00:00:00Z"));
    yes(
        &archived,
        &[
            "archived:true",
            "archived:TRUE",
            "-archived:false",
            "archived:*",
        ],
    );
    yes(&case(), &["archived:false", "-archived:true", "archived:*"]);
}

#[test]
fn value_lists_and_before_or() {
    let c = case(); // teams = payments, platform
    yes(
        &c,
        &[
            "team:(search OR payments AND platform)",
            "team:(payments AND platform OR search)",
        ],
    );
    no(
        &c,
        &[
            "team:(search OR payments AND data)",
            "team:(search AND payments OR data)",
        ],
    );
    yes(&c, &["priority:(P1 OR p2)", "-priority:(P1 OR P3)"]);
}
