use rdkafka::ClientConfig;

use super::*;
use crate::event::command::{AssignCase, Payload as CommandPayload};
use crate::event::pb::{case_event::Payload, CaseTitleChanged, TraceContext};
use crate::event::EventType;

fn publisher() -> EventPublisher {
    // Never connects: stamping needs no broker.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", "127.0.0.1:1")
        .create()
        .expect("producer");
    EventPublisher::new(producer, &KafkaSettings::default(), "unit")
}

fn cause(depth: u32, correlation: &str) -> CaseEvent {
    CaseEvent {
        event_id: "0190f000-0000-7000-8000-0000000000aa".into(),
        event_type: "case.title_changed".into(),
        org_id: "org".into(),
        project_id: "p-1".into(),
        case_id: "c-1".into(),
        correlation_id: correlation.into(),
        chain_depth: depth,
        trace: Some(TraceContext {
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
            tracestate: String::new(),
        }),
        ..CaseEvent::default()
    }
}

fn produced() -> CaseEvent {
    CaseEvent {
        case_id: "c-1".into(),
        aggregate_version: 4,
        payload: Some(Payload::CaseTitleChanged(CaseTitleChanged {
            old: "a".into(),
            new: "b".into(),
        })),
        ..CaseEvent::default()
    }
}

#[test]
fn a_produced_event_continues_the_chain_of_its_cause() {
    let p = publisher();
    let mut ev = produced();
    p.stamp_event(Some(&cause(3, "corr-1")), &mut ev).unwrap();
    assert!(
        uuid::Uuid::try_parse(&ev.event_id).is_ok(),
        "{}",
        ev.event_id
    );
    assert_eq!(ev.event_type, EventType::CaseTitleChanged.as_str());
    assert_eq!(ev.causation_id, "0190f000-0000-7000-8000-0000000000aa");
    assert_eq!(ev.correlation_id, "corr-1");
    assert_eq!(ev.chain_depth, 4);
    assert_eq!((ev.org_id.as_str(), ev.project_id.as_str()), ("org", "p-1"));
    let actor = ev.actor.as_ref().unwrap();
    assert_eq!(actor.kind, ActorKind::Integration as i32);
    assert_eq!(actor.id, "case-event-handler/unit");
    assert!(ev.published_at.is_some() && ev.occurred_at.is_some());
    assert_eq!(ev.trace, cause(0, "").trace, "the cause's trace continues");
}

#[test]
fn the_first_event_of_a_chain_correlates_to_the_cause_id() {
    let p = publisher();
    let mut ev = produced();
    p.stamp_event(Some(&cause(0, "")), &mut ev).unwrap();
    assert_eq!(ev.correlation_id, "0190f000-0000-7000-8000-0000000000aa");
    assert_eq!(ev.chain_depth, 1);
}

#[test]
fn an_event_from_outside_starts_its_own_chain() {
    let p = publisher();
    let mut ev = produced();
    let err = p.stamp_event(None, &mut ev).unwrap_err();
    assert!(err.to_string().contains("needs the id"), "{err}");
    ev.event_id = crate::flavors::kit::ids::from_parts(0, &["delivery-1", "status"]);
    p.stamp_event(None, &mut ev).unwrap();
    assert_eq!(ev.causation_id, "");
    assert_eq!(ev.correlation_id, ev.event_id);
    assert_eq!(ev.chain_depth, 0);
}

#[test]
fn a_loop_is_refused_past_the_max_depth_as_a_permanent_error() {
    let p = publisher();
    let mut ev = produced();
    let err = p
        .stamp_event(Some(&cause(MAX_CHAIN_DEPTH, "c")), &mut ev)
        .unwrap_err();
    assert!(
        matches!(err, PublishError::ChainTooDeep { depth: 11, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("loop"), "{err}");
    let class = HandlerError::from(err).class;
    assert_eq!(class, crate::handler::ErrorClass::Permanent);
}

#[test]
fn an_invalid_event_is_refused_before_it_is_sent() {
    let p = publisher();
    let mut ev = CaseEvent {
        case_id: "c-1".into(),
        ..CaseEvent::default()
    };
    let err = p.stamp_event(None, &mut ev).unwrap_err();
    assert!(matches!(err, PublishError::Invalid { .. }), "{err}");
}

#[test]
fn a_command_names_its_type_case_and_cause() {
    let p = publisher();
    let mut cmd = CaseCommand {
        payload: Some(CommandPayload::AssignCase(AssignCase {
            assignee_id: "u-1".into(),
        })),
        ..CaseCommand::default()
    };
    let err = p.stamp_command(&cause(2, "corr"), &mut cmd).unwrap_err();
    assert!(err.to_string().contains("states its reason"), "{err}");
    cmd.set_reason(CommandReason::Rule);
    p.stamp_command(&cause(2, "corr"), &mut cmd).unwrap();
    assert_eq!(cmd.command_type, "case.assign");
    assert_eq!(cmd.case_id, "c-1");
    assert_eq!(cmd.causation_id, "0190f000-0000-7000-8000-0000000000aa");
    assert_eq!((cmd.correlation_id.as_str(), cmd.chain_depth), ("corr", 3));
    assert!(uuid::Uuid::try_parse(&cmd.command_id).is_ok());
}

#[test]
fn a_broker_failure_is_transient() {
    let err = PublishError::Kafka {
        what: "case.assign".into(),
        topic: "t".into(),
        reason: "timed out".into(),
    };
    let class = HandlerError::from(err).class;
    assert_eq!(class, crate::handler::ErrorClass::Transient);
}

#[test]
fn a_restamp_of_the_same_trigger_gives_the_same_ids_and_the_nth_another() {
    let p = publisher();
    let stamp = |n: usize| {
        let mut ev = produced();
        p.stamp_event_nth(Some(&cause(0, "")), &mut ev, n).unwrap();
        ev.event_id
    };
    assert_eq!(stamp(0), stamp(0), "a retry publishes the same id");
    assert_ne!(stamp(0), stamp(1));
    let command = || {
        let mut cmd = CaseCommand {
            payload: Some(CommandPayload::AssignCase(AssignCase::default())),
            reason: CommandReason::Routing as i32,
            ..CaseCommand::default()
        };
        p.stamp_command(&cause(0, ""), &mut cmd).unwrap();
        cmd.command_id
    };
    assert_eq!(command(), command());
}

#[test]
fn records_carry_the_rows_origin_unless_they_name_one() {
    use crate::event::pb::OriginChannel;
    let allowed = [Product::Event(EventType::CaseTitleChanged)];
    let p = publisher().limited_to(&allowed, Some(OriginChannel::Jira));
    let mut ev = produced();
    p.stamp_event(Some(&cause(0, "")), &mut ev).unwrap();
    assert_eq!(ev.origin.unwrap().channel(), OriginChannel::Jira);
}

#[test]
fn an_event_derived_from_a_trigger_carries_the_triggers_case_version() {
    let p = publisher();
    let mut trigger = cause(0, "");
    trigger.aggregate_version = 12;
    let mut ev = produced();
    ev.aggregate_version = 0;
    p.stamp_event(Some(&trigger), &mut ev).unwrap();
    assert_eq!(ev.aggregate_version, 12);
    let mut other_case = produced();
    (other_case.case_id, other_case.aggregate_version) = ("c-2".into(), 0);
    p.stamp_event(Some(&trigger), &mut other_case).unwrap();
    assert_eq!(
        other_case.aggregate_version, 0,
        "another case's version is unknown"
    );
}
