//! case-event-handler: consumes case domain events from Kafka and runs one handler flavor.

pub mod app;
pub mod cli;
pub mod event;
pub mod flavors;
#[doc(hidden)]
pub mod fuzzing;
pub mod handler;
pub mod http;
pub mod query;
pub mod resilience;
pub mod rules;
pub mod runtime;
pub mod settings;
pub mod shutdown;
pub mod source;
pub mod store;
pub mod telemetry;

/// mimalloc for every binary linking this crate (the service, the benchmark
/// driver, the tests). With glibc's allocator, memory allocated by the intake
/// task and freed by the dispatcher on another thread cost ~36% of the hot
/// path's instructions (malloc, free and consolidation; BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
