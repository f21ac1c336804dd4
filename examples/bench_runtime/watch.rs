//! The source control wrapper that sees every offset store.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use case_event_handler::source::record::Tp;
use case_event_handler::source::SourceControl;

use crate::probe::unix_us;

/// Wraps the Kafka source's control: sees every offset store, decides when
/// the run is done, and (with --latency) turns stores into per-record latencies.
pub struct Watch {
    pub inner: Arc<dyn SourceControl>,
    pub done: CancellationToken,
    pub state: Arc<Mutex<WatchState>>,
}

#[derive(Default)]
pub struct WatchState {
    /// End offset per partition (pre-filled topics).
    pub targets: HashMap<i32, i64>,
    /// Partitions whose watermark reached its target.
    pub reached: usize,
    /// With --latency: stop after this many stored offsets.
    pub expect: Option<u64>,
    /// Record timestamps (offset, ms) not yet passed by the watermark.
    pub pending: HashMap<i32, VecDeque<(i64, i64)>>,
    /// Per-record (Kafka timestamp ms, latency ms).
    pub latencies: Vec<(i64, f64)>,
    pub stores: u64,
    pub first_store: Option<Instant>,
    pub done_at: Option<Instant>,
}

impl Watch {
    /// Notes one stored watermark: latencies of the records it passed, and
    /// whether the run's target is reached.
    fn stored(&self, tp: &Tp, next_offset: i64) {
        let now = Instant::now();
        let mut s = self.state.lock().expect("watch lock");
        s.stores += 1;
        s.first_store.get_or_insert(now);
        if s.expect.is_some() {
            let now_us = unix_us();
            let mut passed = Vec::new();
            if let Some(q) = s.pending.get_mut(&tp.partition) {
                while q.front().is_some_and(|(o, _)| *o < next_offset) {
                    let (_, ts) = q.pop_front().expect("front");
                    passed.push((ts, (now_us - ts * 1000) as f64 / 1000.0));
                }
            }
            s.latencies.extend(passed);
            let expected = s.expect.unwrap_or(u64::MAX);
            if s.done_at.is_none() && s.latencies.len() as u64 >= expected {
                s.done_at = Some(now);
                self.done.cancel();
            }
        } else if s.targets.get(&tp.partition) == Some(&next_offset) {
            s.reached += 1;
            if s.reached == s.targets.len() && s.done_at.is_none() {
                s.done_at = Some(now);
                self.done.cancel();
            }
        }
    }
}

impl SourceControl for Watch {
    fn store(&self, marks: &[(Tp, i64)]) {
        self.inner.store(marks);
        for (tp, next_offset) in marks {
            self.stored(tp, *next_offset);
        }
    }

    fn pause(&self, tps: &[Tp]) {
        self.inner.pause(tps)
    }

    fn resume(&self, tps: &[Tp]) {
        self.inner.resume(tps)
    }

    fn assigned(&self) -> Vec<Tp> {
        self.inner.assigned()
    }

    fn close(&self) {
        self.inner.close()
    }
}
