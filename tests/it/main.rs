//! Integration tests against the real dev stack (Kafka, PostgreSQL).
//! Each test uses its own topics, consumer group and database.

mod contract;
mod delivery;
mod edges;
mod fakes;
mod flavors;
mod helpers;
mod inbound;
mod kit;
mod limiter_log;
mod ops;
mod pipeline;
mod process;
mod publish;
mod rows;
mod rules_live;
mod runtime;
mod source;
mod telemetry;
mod timer_firing;
mod timers;
