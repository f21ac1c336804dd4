//! Where a record is, as plain values: what telemetry needs of a record
//! without knowing the source's types.

use std::fmt;

/// A record's topic, partition and offset.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    /// The topic.
    pub topic: &'a str,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
}

impl<'a> At<'a> {
    /// A position.
    pub fn new(topic: &'a str, partition: i32, offset: i64) -> Self {
        Self {
            topic,
            partition,
            offset,
        }
    }

    /// `topic[partition]`, the form logs use.
    pub fn tp(&self) -> TpText<'a> {
        TpText(self.topic, self.partition)
    }
}

/// `topic[partition]`.
pub struct TpText<'a>(&'a str, i32);

impl fmt::Display for TpText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}
