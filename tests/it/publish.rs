//! The flavor kit's EventPublisher on the real broker: acknowledged records
//! with the record contract and the causal stamps, events and commands on
//! their own topics.

use case_event_handler::event::command::{AssignCase, CaseCommand, Payload as Command};
use case_event_handler::event::{decode, CaseEvent, Event};
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
        reason: case_event_handler::event::command::CommandReason::Manual as i32,
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

/// Publishes one event and one command for each event it handles, then
/// fails its first attempt: the runtime retries, and the retry publishes
/// again.
struct PublishThenFail {
    publisher: EventPublisher,
}

#[async_trait::async_trait]
impl case_event_handler::handler::Handler for PublishThenFail {
    async fn handle(
        &self,
        ctx: &case_event_handler::handler::Ctx,
        event: &Event,
    ) -> case_event_handler::handler::HandleResp {
        use case_event_handler::event::command::CommandReason;
        use case_event_handler::event::pb::{ExternalSystem, ExternalTicketChanged};
        use case_event_handler::event::Payload;
        use case_event_handler::handler::{HandleResp, HandlerError};
        let produced = CaseEvent {
            case_id: event.case_id.clone(),
            aggregate_version: event.aggregate_version,
            payload: Some(Payload::ExternalTicketChanged(ExternalTicketChanged {
                system: ExternalSystem::Jira as i32,
                ext_id: "10001".into(),
                field: "status".into(),
                ..ExternalTicketChanged::default()
            })),
            ..CaseEvent::default()
        };
        let command = CaseCommand {
            payload: Some(Command::AssignCase(AssignCase {
                assignee_id: "0190f000-0000-7000-8000-0000000000a1".into(),
            })),
            reason: CommandReason::Routing as i32,
            expected_version: event.aggregate_version,
            ..CaseCommand::default()
        };
        let published = async {
            self.publisher.publish(Some(event), vec![produced]).await?;
            self.publisher.command(event, command).await
        };
        if let Err(err) = published.await {
            return HandleResp::Retry(err.into());
        }
        match ctx.attempt() {
            1 => HandleResp::Retry(HandlerError::transient("forced after publish")),
            _ => HandleResp::Success,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_handler_publishes_the_same_event_and_command_ids() {
    use case_event_handler::event::command::CommandType;
    use case_event_handler::event::EventType;
    use case_event_handler::flavors::kit::Product;
    use case_event_handler::handler::Processor;
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Duration;

    let (source, events_topic, commands_topic) = (
        unique("it-ids-src"),
        unique("it-ids-ev"),
        unique("it-ids-cmd"),
    );
    for topic in [&source, &events_topic, &commands_topic] {
        create_topic(topic, 1).await;
    }
    let kafka = KafkaSettings {
        brokers: brokers(),
        produce_topic: events_topic.clone(),
        commands_topic: commands_topic.clone(),
        ..KafkaSettings::default()
    };
    let products = [
        Product::Event(EventType::ExternalTicketChanged),
        Product::Command(CommandType::AssignCase),
    ];
    let publisher = EventPublisher::new(producer(), &kafka, "it-ids").limited_to(&products, None);
    let triggers = synth(95, 3, 1);
    publish(&source, &triggers).await;
    let handler = Arc::new(PublishThenFail { publisher });
    let props: BTreeMap<_, _> = group_props(&unique("g-ids"));
    let pipeline = spawn_pipeline(
        "it-ids",
        Processor::Single(handler),
        None,
        &source,
        test_config(),
        props,
    );
    let mut records = (Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while records.0.len() < 6 || records.1.len() < 6 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "two attempts of three events: {} events, {} commands",
            records.0.len(),
            records.1.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        records = (
            read_all(&events_topic).await,
            read_all(&commands_topic).await,
        );
    }
    pipeline.stop().await.expect("a clean run");

    let event_ids: Vec<String> = (records.0.iter())
        .map(|r| decode(&r.payload).expect("an event").event_id)
        .collect();
    let command_ids: Vec<String> = (records.1.iter())
        .map(|r| {
            CaseCommand::decode(r.payload.as_ref())
                .expect("a command")
                .command_id
        })
        .collect();
    for (what, ids) in [("event", &event_ids), ("command", &command_ids)] {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for id in ids.iter() {
            *counts.entry(id).or_default() += 1;
        }
        assert_eq!(counts.len(), 3, "one {what} id per trigger: {counts:?}");
        assert!(
            counts.values().all(|n| *n == 2),
            "each {what} id once per attempt: {counts:?}"
        );
    }
}
