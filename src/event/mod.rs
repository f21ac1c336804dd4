//! Event catalogue: the `CaseEvent` envelope and its payloads, generated from
//! `proto/casemgmt/events/v1/`, plus the helpers every consumer needs.
//!
//! - [`pb`]: generated prost types with canonical proto3 JSON serde impls.
//! - [`EventType`]: one per payload variant, with its `event_type` string.
//! - [`decode`] / [`validate`]: wire decoding plus cheap envelope checks,
//!   failing with a [`DecodeError`] that names the problem.
//! - [`Event`]: a `CaseEvent` that passed `validate` (payload set and named
//!   by `event_type`); what handlers receive.
//! - [`to_json_line`] / [`from_json_line`]: the NDJSON form.
//! - [`fixtures`]: one valid event from a payload, for flavor tests.
//! - [`synth`]: deterministic synthetic event streams for `produce` and tests.
//! - [`command`]: the command catalogue (`casemgmt.commands.v1`).
//! - [`record_parts`] / [`command_parts`]: the Kafka record contract.

pub mod command;
mod decode;
mod event_type;
pub mod fixtures;
mod json;
pub mod pb;
mod record;
pub mod synth;
mod timestamp;
mod valid;

pub use decode::{decode, decode_event, validate, DecodeError};
pub use event_type::{EventType, Scope, UnknownEventType};
pub use json::{event_from_json_line, from_json_line, to_json_line};
pub use pb::case_event::Payload;
pub use pb::{CaseEvent, CaseSnapshot};
pub use record::{command_parts, record_parts, RecordParts};
pub use timestamp::Timestamp;
pub use valid::Event;

/// Envelope `schema_version` written by this build.
pub const SCHEMA_VERSION: u32 = 1;
