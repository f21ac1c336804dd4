//! [`EventPublisher`]: how a flavor produces events and commands. The record
//! contract (key, headers, trace context) and the causal stamps live here,
//! once: causation id = the triggering event, correlation id carried over,
//! `chain_depth` + 1 (loops stop at [`MAX_CHAIN_DEPTH`]), actor = this
//! service unless the flavor names one (the Jira user behind an inbound
//! change, the rule behind an action), origin = the registry row's. Ids are
//! derived (see [`super::ids`]): the n-th record of a type that one trigger
//! causes gets the same id on every attempt; a record from outside (no
//! trigger) must carry the id its flavor derived from its source. A
//! command must state its reason. A publisher handed out by `BuildCtx`
//! refuses any type its row does not declare. Every record is acknowledged by the broker (acks=all, idempotent
//! producer) before `publish` returns, so a handler reports success only
//! after its events are durable; a failure is a transient error (retried).

use std::sync::Arc;
use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};

use super::contract::Product;
use super::ids;
use crate::event::command::{CaseCommand, CommandReason, CommandType};
use crate::event::pb::{Actor, ActorKind, Origin, OriginChannel};
use crate::event::{command_parts, record_parts, CaseEvent, RecordParts, SCHEMA_VERSION};
use crate::handler::HandlerError;
use crate::settings::KafkaSettings;
use stamps::{fill, now, Chain, Ordinals};

/// Deepest causal chain a produced record may have (Jira stops automation
/// loops at 10; domain.md §B).
pub const MAX_CHAIN_DEPTH: u32 = 10;

/// Longest wait for the broker's acknowledgement of one record.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a record was not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The broker did not acknowledge the record (transient).
    #[error("publishing {what} to {topic}: {reason}")]
    Kafka {
        /// Event or command type.
        what: String,
        /// The topic.
        topic: String,
        /// librdkafka's error.
        reason: String,
    },
    /// The record would continue a causal chain past [`MAX_CHAIN_DEPTH`]:
    /// an automation loop (permanent).
    #[error(
        "{what} caused by {cause} would be at chain depth {depth} (> {MAX_CHAIN_DEPTH}): a loop"
    )]
    ChainTooDeep {
        /// Event or command type.
        what: String,
        /// The triggering event id.
        cause: String,
        /// The depth it would have.
        depth: u32,
    },
    /// The flavor built an event that breaks the envelope rules (permanent).
    #[error("refusing to publish an invalid {what}: {reason}")]
    Invalid {
        /// Event type.
        what: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// The flavor's registry row does not declare this type (permanent).
    #[error("{flavor} does not declare that it produces {what}")]
    Undeclared {
        /// The flavor.
        flavor: &'static str,
        /// Event or command type.
        what: String,
    },
}

impl From<PublishError> for HandlerError {
    fn from(err: PublishError) -> Self {
        match err {
            PublishError::Kafka { .. } => HandlerError::transient(err),
            _ => HandlerError::permanent(err),
        }
    }
}

/// Publishes events (to `kafka.produce_topic`) and commands (to
/// `kafka.commands_topic`) on behalf of one flavor.
#[derive(Clone)]
pub struct EventPublisher {
    producer: FutureProducer,
    events_topic: Arc<str>,
    commands_topic: Arc<str>,
    flavor: &'static str,
    /// What this publisher may send (`None`: anything, for tools and tests).
    allowed: Option<Arc<[Product]>>,
    /// The origin stamped on records that name none.
    origin: Option<OriginChannel>,
}

impl EventPublisher {
    /// A publisher for `flavor` over `producer`.
    pub fn new(producer: FutureProducer, kafka: &KafkaSettings, flavor: &'static str) -> Self {
        Self {
            producer,
            events_topic: kafka.produce_topic.as_str().into(),
            commands_topic: kafka.commands_topic.as_str().into(),
            flavor,
            allowed: None,
            origin: None,
        }
    }

    /// The same publisher, refusing anything outside `products`, stamping
    /// `origin` on records that name none (what `BuildCtx` hands out).
    pub fn limited_to(mut self, products: &[Product], origin: Option<OriginChannel>) -> Self {
        self.allowed = Some(products.into());
        self.origin = origin;
        self
    }

    fn check(&self, product: Product) -> Result<(), PublishError> {
        match &self.allowed {
            Some(allowed) if !allowed.contains(&product) => Err(PublishError::Undeclared {
                flavor: self.flavor,
                what: product.name().to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// The same publisher, sending events to `topic` (a flavor's override
    /// of `kafka.produce_topic`).
    pub fn to_topic(mut self, topic: &str) -> Self {
        self.events_topic = topic.into();
        self
    }

    /// The topic events go to.
    pub fn events_topic(&self) -> &str {
        &self.events_topic
    }

    /// Stamps and publishes `events`, caused by `cause` (`None` for
    /// changes from outside, e.g. an inbound webhook), and waits until the
    /// broker acknowledged every one.
    ///
    /// Ids derive from (flavor, cause, type, ordinal within this call): all
    /// the events one cause produces go in one call. Two calls with the same
    /// cause and type would get the same ids, and consumers would drop the
    /// second as a duplicate.
    pub async fn publish(
        &self,
        cause: Option<&CaseEvent>,
        events: Vec<CaseEvent>,
    ) -> Result<(), PublishError> {
        let mut records = Vec::with_capacity(events.len());
        let mut seen = Ordinals::default();
        for mut ev in events {
            let n = seen.next(ev.payload_kind().map(|k| k.as_str()));
            self.stamp_event_nth(cause, &mut ev, n)?;
            records.push((ev.event_type.clone(), record_parts(&ev)));
        }
        self.send_all(&self.events_topic, records).await
    }

    /// Stamps and publishes one command to the case service, caused by
    /// `cause`: the only command of that type the cause produces (see
    /// [`EventPublisher::commands`] for several).
    pub async fn command(&self, cause: &CaseEvent, cmd: CaseCommand) -> Result<(), PublishError> {
        self.commands(cause, vec![cmd]).await
    }

    /// Stamps and publishes commands caused by `cause`, and waits until the
    /// broker acknowledged every one. As with [`EventPublisher::publish`],
    /// every command of one cause goes in one call (ids number them).
    pub async fn commands(
        &self,
        cause: &CaseEvent,
        cmds: Vec<CaseCommand>,
    ) -> Result<(), PublishError> {
        let mut records = Vec::with_capacity(cmds.len());
        let mut seen = Ordinals::default();
        for mut cmd in cmds {
            let n = seen.next(cmd.payload.as_ref().map(|p| p.command_type()));
            self.stamp_command_nth(cause, &mut cmd, n)?;
            records.push((cmd.command_type.clone(), command_parts(&cmd)));
        }
        self.send_all(&self.commands_topic, records).await
    }

    /// The causal and envelope stamps of a produced event (the first of
    /// its type caused by `cause`).
    pub fn stamp_event(
        &self,
        cause: Option<&CaseEvent>,
        ev: &mut CaseEvent,
    ) -> Result<(), PublishError> {
        self.stamp_event_nth(cause, ev, 0)
    }

    fn stamp_event_nth(
        &self,
        cause: Option<&CaseEvent>,
        ev: &mut CaseEvent,
        n: usize,
    ) -> Result<(), PublishError> {
        let now = now();
        if ev.event_type.is_empty() {
            if let Some(kind) = ev.payload_kind() {
                ev.event_type = kind.as_str().to_string();
            }
        }
        if let Some(kind) = ev.payload_kind() {
            self.check(Product::Event(kind))?;
        }
        if ev.event_id.is_empty() {
            let Some(cause) = cause else {
                return Err(PublishError::Invalid {
                    what: ev.event_type.clone(),
                    reason:
                        "an event from outside needs the id its flavor derives from the source \
                             (flavors::kit::ids::from_parts)"
                            .into(),
                });
            };
            let purpose = format!("{}#{n}", ev.event_type);
            ev.event_id = ids::derive(self.flavor, cause, &purpose);
        }
        if ev.origin.is_none() {
            ev.origin = self.origin.map(|channel| Origin {
                channel: channel as i32,
                external_ref: None,
            });
        }
        ev.schema_version = ev.schema_version.max(SCHEMA_VERSION);
        ev.occurred_at.get_or_insert(now);
        ev.published_at = Some(now);
        ev.actor.get_or_insert_with(|| self.actor());
        let chain = Chain::of(cause, &ev.correlation_id, &ev.event_id, &ev.event_type)?;
        (ev.causation_id, ev.correlation_id) = (chain.causation_id, chain.correlation_id);
        ev.chain_depth = chain.depth;
        if let Some(cause) = cause {
            fill(&mut ev.org_id, &cause.org_id);
            fill(&mut ev.project_id, &cause.project_id);
            // The version of the case state it was derived from.
            if ev.aggregate_version == 0 && ev.case_id == cause.case_id {
                ev.aggregate_version = cause.aggregate_version;
            }
        }
        if ev.trace.is_none() {
            ev.trace = chain.trace;
        }
        crate::event::validate(ev).map_err(|e| PublishError::Invalid {
            what: ev.event_type.clone(),
            reason: e.to_string(),
        })?;
        Ok(())
    }

    /// The causal and envelope stamps of a command (the first of its type
    /// caused by `cause`).
    pub fn stamp_command(
        &self,
        cause: &CaseEvent,
        cmd: &mut CaseCommand,
    ) -> Result<(), PublishError> {
        self.stamp_command_nth(cause, cmd, 0)
    }

    fn stamp_command_nth(
        &self,
        cause: &CaseEvent,
        cmd: &mut CaseCommand,
        n: usize,
    ) -> Result<(), PublishError> {
        let Some(kind) = cmd.payload.as_ref().map(CommandType::of) else {
            return Err(PublishError::Invalid {
                what: "command".into(),
                reason: "no payload".into(),
            });
        };
        self.check(Product::Command(kind))?;
        cmd.command_type = kind.as_str().to_string();
        if cmd.reason() == CommandReason::Unspecified {
            return Err(PublishError::Invalid {
                what: cmd.command_type.clone(),
                reason: "a command states its reason (MANUAL, RULE, ROUTING, ...)".into(),
            });
        }
        if cmd.command_id.is_empty() {
            let purpose = format!("{}#{n}", cmd.command_type);
            cmd.command_id = ids::derive(self.flavor, cause, &purpose);
        }
        if cmd.origin.is_none() {
            cmd.origin = self.origin.map(|channel| Origin {
                channel: channel as i32,
                external_ref: None,
            });
        }
        cmd.issued_at = Some(now());
        cmd.actor.get_or_insert_with(|| self.actor());
        let chain = Chain::of(Some(cause), "", &cmd.command_id, &cmd.command_type)?;
        (cmd.causation_id, cmd.correlation_id) = (chain.causation_id, chain.correlation_id);
        cmd.chain_depth = chain.depth;
        fill(&mut cmd.org_id, &cause.org_id);
        fill(&mut cmd.project_id, &cause.project_id);
        fill(&mut cmd.case_id, &cause.case_id);
        if cmd.trace.is_none() {
            cmd.trace = chain.trace;
        }
        Ok(())
    }

    fn actor(&self) -> Actor {
        Actor {
            kind: ActorKind::Integration as i32,
            id: format!("case-event-handler/{}", self.flavor),
            display_name: format!("case-event-handler ({})", self.flavor),
        }
    }

    async fn send_all(
        &self,
        topic: &str,
        records: Vec<(String, RecordParts)>,
    ) -> Result<(), PublishError> {
        let sends = records.into_iter().map(|(what, (key, value, headers))| {
            let producer = self.producer.clone();
            async move {
                let record = FutureRecord::to(topic)
                    .key(&key)
                    .payload(&value)
                    .headers(headers);
                producer
                    .send(record, ACK_TIMEOUT)
                    .await
                    .map(drop)
                    .map_err(|(e, _)| PublishError::Kafka {
                        what,
                        topic: topic.to_string(),
                        reason: e.to_string(),
                    })
            }
        });
        let results = futures::future::join_all(sends).await;
        results.into_iter().collect()
    }
}

mod stamps;

#[cfg(test)]
mod tests;
