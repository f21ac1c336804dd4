//! case-event-handler: consumes case domain events from Kafka and runs one handler flavor.
#![forbid(unsafe_code)]

pub mod event;
pub mod settings;
