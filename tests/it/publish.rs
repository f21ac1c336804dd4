//! The flavor kit's EventPublisher on the real broker: acknowledged records
//! with the record contract and the causal stamps, events and commands on
//! their own topics.

use case_event_handler::event::command::{AssignCase, CaseCommand, Payload as Command};
use case_event_handler::event::{decode, CaseEvent};
use case_event_handler::flavors::kit::EventPublisher;
use case_event_handler::settings::KafkaSettings;
use case_event_handler::source::record::{Record, CONTENT_TYPE, EVENT_TYPE, PROTOBUF};
use prost::Message;

use crate::helpers::*;

fn header<'a>(record: &'a Record, name: &str) -> Option<&'a str> {
    record
        .header(name)
        .and_then(|v| std::str::from_utf8(v).ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_events_and_commands_are_acked_stamped_and_follow_the_record_contract() {
    let (events_topic, commands_topic) = (unique("it-pub-ev"), unique("it-pub-cmd"));
    create_topic(&events_topic, 2).await;
    create_topic(&commands_topic, 1).await;
    let kafka = KafkaSettings {
        brokers: brokers(),
        produce_topic: events_topic.clone(),
        commands_topic: commands_topic.clone(),
        ..KafkaSettings::default()
    };
    let publisher = EventPublisher::new(producer(), &kafka, "it-flavor");
    let cause = synth(91, 1, 1).remove(0);
    let mut produced = synth(92, 3, 1);
    for ev in &mut produced {
        ev.event_id.clear();
        ev.correlation_id.clear();
        ev.trace = None;
        ev.actor = None;
    }
    publisher
        .publish(Some(&cause), produced.clone())
        .await
        .expect("acked");
    let command = CaseCommand {
        payload: Some(Command::AssignCase(AssignCase {
            assignee_id: "0190f000-0000-7000-8000-0000000000a1".into(),
        })),
        ..CaseCommand::default()
    };
    publisher.command(&cause, command).await.expect("acked");

    // publish returned only after the broker acked: the records are there.
    let events = read_all(&events_topic).await;
    assert_eq!(events.len(), 3);
    for record in &events {
        let ev: CaseEvent = decode(&record.payload).expect("a valid event");
        assert_eq!(header(record, EVENT_TYPE), Some(ev.event_type.as_str()));
        assert_eq!(header(record, CONTENT_TYPE), Some(PROTOBUF));
        assert_eq!(record.key.as_deref(), Some(ev.case_id.as_bytes()));
        assert_eq!(ev.causation_id, cause.event_id);
        assert_eq!(ev.chain_depth, cause.chain_depth + 1);
        assert!(!ev.correlation_id.is_empty());
        assert_eq!(
            ev.actor.as_ref().unwrap().id,
            "case-event-handler/it-flavor"
        );
        let sent = produced
            .iter()
            .find(|p| p.case_id == ev.case_id)
            .expect("sent");
        assert_eq!(ev.payload, sent.payload, "the payload is the flavor's");
    }
    let commands = read_all(&commands_topic).await;
    assert_eq!(commands.len(), 1);
    let cmd = CaseCommand::decode(commands[0].payload.as_ref()).expect("a command");
    assert_eq!(header(&commands[0], "command-type"), Some("case.assign"));
    assert_eq!(cmd.command_type, "case.assign");
    assert_eq!(cmd.case_id, cause.case_id);
    assert_eq!(commands[0].key.as_deref(), Some(cause.case_id.as_bytes()));
    assert_eq!(cmd.causation_id, cause.event_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_the_broker_cannot_take_is_an_error_not_a_silent_drop() {
    let kafka = KafkaSettings {
        brokers: brokers(),
        produce_topic: unique("it-pub-missing"),
        ..KafkaSettings::default()
    };
    // A producer that cannot reach any broker: the ack never comes.
    let unreachable = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", "127.0.0.1:1")
        .set("message.timeout.ms", "1500")
        .create()
        .expect("producer");
    let publisher = EventPublisher::new(unreachable, &kafka, "it-flavor");
    let cause = synth(93, 1, 1).remove(0);
    let produced = synth(94, 1, 1);
    let err = publisher
        .publish(Some(&cause), produced)
        .await
        .expect_err("no broker, no ack");
    let handler_error = case_event_handler::handler::HandlerError::from(err);
    assert_eq!(
        handler_error.class,
        case_event_handler::handler::ErrorClass::Transient
    );
}
