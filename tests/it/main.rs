//! Integration tests against the real dev stack (Kafka, PostgreSQL).
//! Each test uses its own topics, consumer group and database.

mod helpers;
mod pipeline;
mod runtime;
