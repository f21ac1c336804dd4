//! librdkafka properties and clients built from settings.

use std::collections::BTreeMap;

use rdkafka::producer::FutureProducer;
use rdkafka::ClientConfig;

use crate::settings::{KafkaSettings, Settings};

/// Properties every client gets: brokers, security, passthrough.
pub fn base_properties(kafka: &KafkaSettings) -> BTreeMap<String, String> {
    let mut props = BTreeMap::new();
    props.insert("bootstrap.servers".into(), kafka.brokers.clone());
    if let Some(sec) = &kafka.security {
        props.insert("security.protocol".into(), sec.protocol.as_str().into());
        if let Some(mech) = &sec.sasl_mechanism {
            props.insert("sasl.mechanism".into(), mech.clone());
        }
        if let Some(user) = &sec.sasl_username {
            props.insert("sasl.username".into(), user.clone());
        }
        if let Some(pass) = &sec.sasl_password {
            props.insert("sasl.password".into(), pass.expose().to_string());
        }
    }
    props.extend(kafka.client.clone());
    props
}

/// Properties of a flavor's group consumer.
pub fn consumer_properties(settings: &Settings, flavor: &str) -> BTreeMap<String, String> {
    let kafka = &settings.kafka;
    let mut props = base_properties(kafka);
    let defaults = [
        ("group.id", kafka.group_id_for(flavor)),
        ("session.timeout.ms", kafka.session_timeout_ms.to_string()),
        (
            "max.poll.interval.ms",
            kafka.max_poll_interval_ms.to_string(),
        ),
        (
            "auto.commit.interval.ms",
            kafka.commit_interval_ms.to_string(),
        ),
        ("client.id", format!("case-event-handler-{flavor}")),
    ];
    for (k, v) in defaults {
        props.entry(k.to_string()).or_insert(v);
    }
    props
}

/// An idempotent producer (DLQ, `produce`, events the service emits).
pub fn producer(kafka: &KafkaSettings) -> Result<FutureProducer, rdkafka::error::KafkaError> {
    let mut config = ClientConfig::new();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("compression.type", "lz4");
    for (k, v) in base_properties(kafka) {
        config.set(k, v);
    }
    config.create()
}
