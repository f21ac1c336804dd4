//! Per-partition queues, read on demand.
//!
//! Each assigned partition's messages go to a queue of its own
//! (`split_partition_queue`), split in the rebalance callback *before*
//! librdkafka assigns the partition: a queue split by the application keeps
//! librdkafka from forwarding it to the main queue, so no message of a split
//! partition can reach the main queue and be reordered. The poll thread reads
//! these queues only while the runtime has room; otherwise librdkafka's
//! bounded prefetch (`queued.max.messages.kbytes`) fills and fetching waits by
//! itself — no pause, no refetch. A queue is dropped only when its partition
//! is revoked (a dropped queue of an assigned partition would strand it).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::base_consumer::PartitionQueue;
use rdkafka::consumer::{BaseConsumer, ConsumerContext};

use super::to_record;
use crate::source::record::{Record, Tp};
use crate::source::Doorbell;

/// The split queues of the assigned partitions, read round-robin.
pub(super) struct Queues<C: ConsumerContext + 'static> {
    inner: Mutex<State<C>>,
}

struct State<C: ConsumerContext + 'static> {
    queues: Vec<(Tp, PartitionQueue<C>)>,
    /// The partitions this member owns: added when their assignment is
    /// about to take effect, removed as soon as their revoke starts (before
    /// the runtime drains them), so a revoked partition is never owned on.
    owned: Vec<Tp>,
    next: usize,
}

impl<C: ConsumerContext + 'static> Default for Queues<C> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(State {
                queues: Vec::new(),
                owned: Vec::new(),
                next: 0,
            }),
        }
    }
}

/// Records taken from one partition per turn, so that one busy partition
/// cannot starve the others.
const PER_PARTITION_TURN: usize = 256;

impl<C: ConsumerContext + 'static> Queues<C> {
    /// Splits the queues of partitions about to be assigned; each rings
    /// `bell` when it gets data after being empty.
    pub(super) fn split(&self, consumer: &Arc<BaseConsumer<C>>, tps: &[Tp], bell: &Arc<Doorbell>) {
        let Ok(mut s) = self.inner.lock() else { return };
        for tp in tps {
            if !s.owned.contains(tp) {
                s.owned.push(tp.clone());
            }
            if s.queues.iter().any(|(t, _)| t == tp) {
                continue;
            }
            let Some(mut queue) = consumer.split_partition_queue(&tp.topic, tp.partition) else {
                tracing::warn!(%tp, "partition queue not split; its records come through the main queue");
                continue;
            };
            let bell = bell.clone();
            queue.set_nonempty_callback(move || bell.ring());
            s.queues.push((tp.clone(), queue));
        }
        // Data may have arrived before the callback was set.
        bell.ring();
    }

    /// Drops the queues of revoked partitions, which are no longer owned.
    pub(super) fn remove(&self, tps: &[Tp]) {
        if let Ok(mut s) = self.inner.lock() {
            s.queues.retain(|(tp, _)| !tps.contains(tp));
            s.owned.retain(|tp| !tps.contains(tp));
        }
    }

    /// The partitions owned now (see `State::owned`).
    pub(super) fn owned(&self) -> Vec<Tp> {
        self.inner
            .lock()
            .map(|s| s.owned.clone())
            .unwrap_or_default()
    }

    /// Reads up to `budget` records, round-robin over partitions, into `out`;
    /// never blocks.
    pub(super) fn read(&self, budget: usize, out: &mut Vec<Record>) {
        let Ok(mut s) = self.inner.lock() else { return };
        let n = s.queues.len();
        if n == 0 {
            return;
        }
        let share = (budget / n).clamp(16, PER_PARTITION_TURN);
        let start = s.next % n;
        for i in 0..n {
            if out.len() >= budget {
                s.next = (start + i) % n;
                return;
            }
            let (_, queue) = &s.queues[(start + i) % n];
            let limit = out.len() + share.min(budget - out.len());
            while out.len() < limit {
                match queue.poll(Duration::ZERO) {
                    Some(Ok(m)) => out.push(to_record(&m)),
                    Some(Err(err)) => {
                        tracing::warn!(error = %err, "kafka partition queue error");
                        break;
                    }
                    None => break,
                }
            }
        }
        s.next = (start + 1) % n;
    }
}
