//! Cross-cutting protections the runtime applies around every handler call:
//! circuit breakers and rate limits per dependency, maintenance windows,
//! feature flags.
//! Flavors never use these directly; the runtime does, once.

pub mod breaker;
pub mod flags;
pub mod maintenance;
pub mod rate_limit;
