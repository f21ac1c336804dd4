//! case-event-handler: consumes case domain events from Kafka and runs one handler flavor.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod event;
pub mod flavors;
pub mod handler;
pub mod http;
pub mod query;
pub mod resilience;
pub mod runtime;
pub mod settings;
pub mod shutdown;
pub mod source;
pub mod store;
pub mod telemetry;
