//! An in-memory source and a recording [`SourceControl`], for tests.
//!
//! [`MemorySource`] builds records as the Kafka record contract has them
//! (`event::record_parts`: key, protobuf value, `event-type` and
//! `content-type` headers) or from raw bytes, and sends them through a
//! [`SourceTx`] with the numbering a partition would give them; it also sends
//! revokes and the end. [`RecordingControl`] notes every store, pause and
//! resume with the tokio [`Instant`] it happened at, so a test under a
//! paused clock can ask what was stored when, and which intervals a
//! partition was paused for.

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use rdkafka::message::Headers;
use tokio::time::Instant;

use super::record::{Record, Tp};
use super::{channels, Closed, SourceControl, SourceMsg, SourceRx, SourceTx};
use crate::event::{record_parts, CaseEvent};

/// A record of `event` at `tp`@`offset`, with the key, value and headers
/// the service itself produces.
pub fn event_record(tp: &Tp, offset: i64, event: &CaseEvent) -> Record {
    let (key, value, headers) = record_parts(event);
    let headers = headers
        .iter()
        .map(|h| {
            let value = h.value.map_or_else(Bytes::new, Bytes::copy_from_slice);
            (h.key.to_string(), value)
        })
        .collect();
    Record {
        tp: tp.clone(),
        offset,
        key: Some(Bytes::from(key)),
        payload: Bytes::from(value),
        headers,
        timestamp_ms: None,
    }
}

/// A record of raw bytes (garbage, JSON, a payload with a lying header, …).
pub fn raw_record(
    tp: &Tp,
    offset: i64,
    key: Option<&str>,
    payload: impl Into<Bytes>,
    headers: &[(&str, &str)],
) -> Record {
    Record {
        tp: tp.clone(),
        offset,
        key: key.map(|k| Bytes::from(k.to_string())),
        payload: payload.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), Bytes::from(v.to_string())))
            .collect(),
        timestamp_ms: None,
    }
}

/// Sends records, revokes and the end into a runtime, numbering each
/// partition's offsets from 0 unless told otherwise.
pub struct MemorySource {
    tx: SourceTx,
    next: HashMap<Tp, i64>,
}

impl MemorySource {
    /// A source and the receiver a runtime reads, with room for `records`.
    pub fn channels(records: usize) -> (Self, SourceRx) {
        let (tx, rx) = channels(records);
        (Self::new(tx), rx)
    }

    /// A source writing to `tx`.
    pub fn new(tx: SourceTx) -> Self {
        Self {
            tx,
            next: HashMap::new(),
        }
    }

    /// Sends `events` to `tp` as one chunk, at the partition's next offsets;
    /// returns those offsets.
    pub fn send_events(&mut self, tp: &Tp, events: &[CaseEvent]) -> Result<Vec<i64>, Closed> {
        let first = *self.next.get(tp).unwrap_or(&0);
        let records: Vec<Record> = (first..)
            .zip(events)
            .map(|(offset, event)| event_record(tp, offset, event))
            .collect();
        let offsets = records.iter().map(|r| r.offset).collect();
        self.send_records(records)?;
        Ok(offsets)
    }

    /// Sends records as one chunk (taking their credit); later events of
    /// their partitions get the offsets after them.
    pub fn send_records(&mut self, records: Vec<Record>) -> Result<(), Closed> {
        for r in &records {
            let next = self.next.entry(r.tp.clone()).or_default();
            *next = (*next).max(r.offset + 1);
        }
        self.tx.send_records(records)
    }

    /// Revokes `tps` behind everything sent so far; the runtime's answer
    /// (the final watermarks) comes through the returned [`Revoked`].
    pub fn revoke(&self, tps: Vec<Tp>) -> Result<Revoked, Closed> {
        let (reply, answer) = sync_channel(1);
        self.tx.send(SourceMsg::Revoke { tps, reply })?;
        Ok(Revoked(answer))
    }

    /// Says the source has nothing more.
    pub fn end(&self) -> Result<(), Closed> {
        self.tx.send(SourceMsg::End)
    }

    /// The sender underneath (its credit, or to send a failure).
    pub fn tx(&self) -> &SourceTx {
        &self.tx
    }
}

/// A revoke's pending answer.
pub struct Revoked(Receiver<Vec<(Tp, i64)>>);

impl Revoked {
    /// The final watermarks, once the runtime answered; `None` if it dropped
    /// the revoke unanswered. Looks every millisecond of tokio time (the
    /// runtime answers on a blocking channel), so under a paused clock the
    /// answer's time is known to the millisecond.
    pub async fn answer(self) -> Option<Vec<(Tp, i64)>> {
        loop {
            match self.0.try_recv() {
                Ok(marks) => return Some(marks),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    }

    /// The answer if it came already.
    pub fn try_answer(&self) -> Option<Vec<(Tp, i64)>> {
        self.0.try_recv().ok()
    }
}

/// One call the runtime made on a [`RecordingControl`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `store` with these marks.
    Store(Vec<(Tp, i64)>),
    /// `pause` of these partitions.
    Pause(Vec<Tp>),
    /// `resume` of these partitions.
    Resume(Vec<Tp>),
    /// `close`.
    Close,
}

/// A [`SourceControl`] that notes every call with the tokio time it came at.
#[derive(Debug, Default)]
pub struct RecordingControl {
    calls: Mutex<Vec<(Instant, Call)>>,
    assigned: Mutex<Vec<Tp>>,
}

impl RecordingControl {
    /// A control whose `assigned` answers `tps`.
    pub fn new(tps: &[Tp]) -> Self {
        Self {
            calls: Mutex::default(),
            assigned: Mutex::new(tps.to_vec()),
        }
    }

    /// Every call so far, in order, with its time.
    pub fn calls(&self) -> Vec<(Instant, Call)> {
        self.calls.lock().unwrap().clone()
    }

    /// The last offset stored for `tp` (the next one to consume).
    pub fn stored(&self, tp: &Tp) -> Option<i64> {
        self.stores(tp).last().map(|(_, offset)| *offset)
    }

    /// Every offset stored for `tp`, with its time.
    pub fn stores(&self, tp: &Tp) -> Vec<(Instant, i64)> {
        self.calls()
            .into_iter()
            .filter_map(|(at, call)| match call {
                Call::Store(marks) => marks
                    .into_iter()
                    .find(|(t, _)| t == tp)
                    .map(|(_, offset)| (at, offset)),
                _ => None,
            })
            .collect()
    }

    /// The intervals `tp` was paused for: from a pause to the next resume
    /// (`None` while it still is).
    pub fn paused(&self, tp: &Tp) -> Vec<(Instant, Option<Instant>)> {
        let mut out: Vec<(Instant, Option<Instant>)> = Vec::new();
        for (at, call) in self.calls() {
            match call {
                Call::Pause(tps) if tps.contains(tp) && !matches!(out.last(), Some((_, None))) => {
                    out.push((at, None));
                }
                Call::Resume(tps) if tps.contains(tp) => {
                    if let Some((_, end @ None)) = out.last_mut() {
                        *end = Some(at);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Whether `tp` is paused now.
    pub fn is_paused(&self, tp: &Tp) -> bool {
        matches!(self.paused(tp).last(), Some((_, None)))
    }

    /// Whether the runtime closed the source.
    pub fn closed(&self) -> bool {
        self.calls().iter().any(|(_, c)| *c == Call::Close)
    }

    fn note(&self, call: Call) {
        self.calls.lock().unwrap().push((Instant::now(), call));
    }
}

impl SourceControl for RecordingControl {
    fn store(&self, marks: &[(Tp, i64)]) {
        let mut marks = marks.to_vec();
        marks.sort();
        self.note(Call::Store(marks));
    }

    fn pause(&self, tps: &[Tp]) {
        self.note(Call::Pause(tps.to_vec()));
    }

    fn resume(&self, tps: &[Tp]) {
        self.note(Call::Resume(tps.to_vec()));
    }

    fn assigned(&self) -> Vec<Tp> {
        self.assigned.lock().unwrap().clone()
    }

    fn close(&self) {
        self.note(Call::Close);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::record::{CONTENT_TYPE, EVENT_TYPE, PROTOBUF};

    #[test]
    fn an_event_record_follows_the_record_contract() {
        let event = crate::event::synth::Synth::new(1, Default::default())
            .next()
            .expect("an event");
        let r = event_record(&Tp::new("t", 3), 7, &event);
        assert_eq!((r.tp.partition, r.offset), (3, 7));
        assert_eq!(r.key.as_deref(), Some(event.case_id.as_bytes()));
        assert_eq!(r.header(EVENT_TYPE), Some(event.event_type.as_bytes()));
        assert_eq!(r.header(CONTENT_TYPE), Some(PROTOBUF.as_bytes()));
        let decoded = crate::runtime::decode_record(&r).expect("decodes");
        assert_eq!(decoded.event_id, event.event_id);
    }

    #[test]
    fn pause_intervals_pair_each_pause_with_the_next_resume() {
        let (a, b) = (Tp::new("t", 0), Tp::new("t", 1));
        let control = RecordingControl::new(&[a.clone(), b.clone()]);
        control.pause(std::slice::from_ref(&a));
        control.resume(std::slice::from_ref(&a));
        control.pause(&[a.clone(), b.clone()]);
        control.store(&[(b.clone(), 4), (a.clone(), 2)]);
        assert_eq!(control.paused(&a).len(), 2);
        assert!(control.paused(&a)[0].1.is_some());
        assert!(control.is_paused(&a) && control.is_paused(&b));
        assert_eq!((control.stored(&a), control.stored(&b)), (Some(2), Some(4)));
        assert!(!control.closed());
    }
}
