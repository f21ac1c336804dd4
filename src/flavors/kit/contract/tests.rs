use super::*;
use crate::event::pb::{CaseSnapshot, Origin};

const RULES: Node = Node {
    name: "rules",
    consumes: Consumes::scope(Scope::Case),
    produces: Produces {
        what: &[Product::Command(CommandType::AssignCase)],
        origin: Some(OriginChannel::Workflow),
    },
};

const SYNC: Node = Node {
    name: "sync",
    consumes: Consumes::types(&[EventType::CaseAssigned]).except_echoes_of(&[OriginChannel::Jira]),
    produces: Produces {
        what: &[Product::Event(EventType::ExternalTicketChanged)],
        origin: Some(OriginChannel::Jira),
    },
};

const TIMELINE: Node = Node {
    name: "timeline",
    consumes: Consumes::scope(Scope::Case),
    produces: Produces::NOTHING,
};

#[test]
fn a_rule_that_reacts_to_its_own_command_is_a_named_loop() {
    let found = loops(&[TIMELINE, RULES]);
    assert_eq!(found, vec!["rules -[case.assigned]-> rules".to_string()]);
}

#[test]
fn a_cycle_through_two_flavors_is_named_once_with_its_path() {
    let feeder = Node {
        name: "feeder",
        consumes: Consumes::types(&[EventType::ExternalTicketChanged]),
        produces: Produces {
            what: &[Product::Command(CommandType::AssignCase)],
            origin: None,
        },
    };
    let found = loops(&[SYNC, feeder]);
    assert_eq!(
        found,
        vec!["sync -[external_ticket.changed]-> feeder -[case.assigned]-> sync".to_string()]
    );
}

#[test]
fn an_origin_the_consumer_drops_cuts_the_edge() {
    let echoing = Node {
        name: "echoing",
        consumes: Consumes::types(&[EventType::ExternalTicketChanged]),
        produces: Produces {
            what: &[Product::Command(CommandType::AssignCase)],
            // Stamps the sync's origin: the sync drops it as an echo.
            origin: Some(OriginChannel::Jira),
        },
    };
    assert!(loops(&[SYNC, echoing, TIMELINE]).is_empty());
}

#[test]
fn types_and_scopes_route_as_declared() {
    let c = Consumes::types(&[EventType::CaseCreated, EventType::PageTriggered]);
    assert!(c.wants(EventType::CaseCreated) && c.wants_name("page.triggered"));
    assert!(!c.wants_name("case.title_changed") && !c.wants_name("no.such"));
    let p = Consumes::scope(Scope::Project);
    assert_eq!(
        p.types_taken(),
        vec![EventType::ProjectSettingsChanged, EventType::RuleChanged]
    );
}

#[test]
fn echoes_and_missing_snapshots_are_named_skips() {
    let c = Consumes::scope(Scope::Case)
        .except_echoes_of(&[OriginChannel::Jira])
        .needing_snapshot();
    let mut ev = CaseEvent {
        origin: Some(Origin {
            channel: OriginChannel::Jira as i32,
            external_ref: None,
        }),
        ..CaseEvent::default()
    };
    assert_eq!(c.skip(&ev), Some(SkipReason::Echo("jira")));
    ev.origin = None;
    assert_eq!(c.skip(&ev), Some(SkipReason::NoSnapshot));
    ev.case_after = Some(CaseSnapshot::default());
    assert_eq!(c.skip(&ev), None);
    let optional = Consumes::scope(Scope::Case);
    assert_eq!(optional.skip(&CaseEvent::default()), None);
}

#[test]
fn describe_says_what_flows() {
    assert_eq!(
        SYNC.consumes.describe(),
        "case.assigned (drops echoes of jira)"
    );
    assert_eq!(
        SYNC.produces.describe(),
        "external_ticket.changed (origin jira)"
    );
    assert_eq!(TIMELINE.produces.describe(), "nothing");
}
