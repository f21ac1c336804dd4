//! §C.3 ordering: priority by urgency (NOT_DEFINED fails every
//! comparison) and numbers on NUMBER custom attributes.

use super::*;
use crate::event::pb::Priority;

#[test]
fn priority_order_is_by_urgency() {
    let p = |prio: Priority| with(|c| c.priority = prio as i32);
    yes(
        &p(Priority::P1),
        &[
            "priority:>=P2",
            "priority:>P2",
            "priority:>=P1",
            "priority:<=P1",
        ],
    );
    yes(
        &p(Priority::P2),
        &[
            "priority:>=P2",
            "priority:<=P2",
            "priority:>P3",
            "priority:<P1",
        ],
    );
    no(
        &p(Priority::P2),
        &[
            "priority:>P2",
            "priority:<P2",
            "priority:>=P1",
            "priority:<=P3",
        ],
    );
    yes(
        &p(Priority::P5),
        &[
            "priority:<P4",
            "priority:<=P5",
            "priority:[P3 TO P5]",
            "priority:[P5 TO P3]",
        ],
    );
    no(
        &p(Priority::P3),
        &["priority:[P1 TO P2]", "priority:[P4 TO P5]"],
    );
    yes(
        &p(Priority::P3),
        &[
            "priority:[P1 TO P3]",
            "priority:[P3 TO P3]",
            "priority:[P4 TO P2]",
        ],
    );
}

#[test]
fn not_defined_priority_fails_every_comparison() {
    for prio in [Priority::NotDefined, Priority::Unspecified] {
        let c = with(|c| c.priority = prio as i32);
        no(
            &c,
            &[
                "priority:>=P5",
                "priority:<=P1",
                "priority:>P5",
                "priority:<P1",
                "priority:[P1 TO P5]",
            ],
        );
        no(&c, &["priority:*", "priority:P5", "priority:P*"]);
        yes(
            &c,
            &[
                "priority:NOT_DEFINED",
                "priority:not_defined",
                "-priority:>=P5",
                "-priority:*",
            ],
        );
    }
}

#[test]
fn numbers_compare_on_number_custom_attributes() {
    let c = with(|c| {
        let v = custom(CustomAttributeType::Number, &["2.5", "10"]);
        c.custom_attributes.insert("impact".into(), v);
    });
    yes(
        &c,
        &[
            "custom.impact:>2",
            "custom.impact:>=10",
            "custom.impact:<3",
            "custom.impact:[9 TO 11]",
        ],
    );
    yes(
        &c,
        &[
            "custom.impact:2.5",
            "custom.impact:10.0",
            "custom.impact:1e1",
            "custom.impact:[11 TO 2]",
        ],
    );
    no(
        &c,
        &[
            "custom.impact:>10",
            "custom.impact:<2.5",
            "custom.impact:[3 TO 9]",
            "custom.impact:3",
        ],
    );
    yes(
        &c,
        &[
            "custom.impact:[* TO 2.5]",
            "custom.impact:[10 TO *]",
            "custom.impact:>-1",
        ],
    );
    no(&c, &["custom.missing:>0", "custom.missing:[* TO *]"]);
}

#[test]
fn numbers_do_not_compare_on_other_custom_types() {
    let c = with(|c| {
        c.custom_attributes
            .insert("code".into(), custom(CustomAttributeType::Text, &["5"]));
        c.custom_attributes
            .insert("bad".into(), custom(CustomAttributeType::Number, &["n/a"]));
    });
    no(
        &c,
        &[
            "custom.code:>1",
            "custom.code:[0 TO 9]",
            "custom.code:5.0",
            "custom.bad:>1",
        ],
    );
    yes(&c, &["custom.code:5", "custom.bad:n/a", "custom.bad:*"]);
}
