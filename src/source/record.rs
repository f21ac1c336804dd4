//! The raw record every source yields, before decoding.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

/// A topic and partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tp {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: i32,
}

impl Tp {
    /// A topic-partition.
    pub fn new(topic: &str, partition: i32) -> Self {
        Self {
            topic: Arc::from(topic),
            partition,
        }
    }
}

impl fmt::Display for Tp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.topic, self.partition)
    }
}

/// One record as read from a source: raw bytes, kept until the offset commits.
#[derive(Debug, Clone)]
pub struct Record {
    /// Where it came from.
    pub tp: Tp,
    /// Its offset in the partition.
    pub offset: i64,
    /// The record key (the case id for case events).
    pub key: Option<Bytes>,
    /// The serialized event.
    pub payload: Bytes,
    /// Record headers, in order.
    pub headers: Vec<(String, Bytes)>,
    /// Broker or producer timestamp, in Unix milliseconds.
    pub timestamp_ms: Option<i64>,
}

impl Record {
    /// Where it is, as telemetry takes it.
    pub fn at(&self) -> crate::telemetry::At<'_> {
        crate::telemetry::At::new(&self.tp.topic, self.tp.partition, self.offset)
    }

    /// The value of the first header with this name.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The size used for batch byte limits.
    pub fn size(&self) -> usize {
        self.payload.len() + self.key.as_ref().map_or(0, Bytes::len)
    }
}

/// The header naming the event type (routing reads it before decoding).
pub const EVENT_TYPE: &str = "event-type";
/// The header naming the payload encoding.
pub const CONTENT_TYPE: &str = "content-type";
/// Canonical proto JSON payloads.
pub const JSON: &str = "application/json";
/// Binary protobuf payloads (the default when the header is absent).
pub const PROTOBUF: &str = "application/x-protobuf";
