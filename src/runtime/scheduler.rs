//! Per-key ordering: at most one event of a key runs at a time; the others of
//! that key wait in arrival order. Different keys run concurrently.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;

use bytes::Bytes;

use crate::source::record::Tp;

/// The scheduling identity of an event: its partition and its ordering key.
pub type Lane = (Tp, Bytes);

/// Waiting events per busy lane.
#[derive(Debug)]
pub struct KeyQueues<J> {
    busy: HashMap<Lane, VecDeque<J>>,
}

impl<J> Default for KeyQueues<J> {
    fn default() -> Self {
        Self {
            busy: HashMap::default(),
        }
    }
}

impl<J> KeyQueues<J> {
    /// Offers a job; returns it back when its lane is idle and it may start now.
    pub fn offer(&mut self, lane: Lane, job: J) -> Option<J> {
        match self.busy.get_mut(&lane) {
            Some(waiting) => {
                waiting.push_back(job);
                None
            }
            None => {
                self.busy.insert(lane, VecDeque::new());
                Some(job)
            }
        }
    }

    /// The running job of `lane` finished; returns the next one to start.
    pub fn finish(&mut self, lane: &Lane) -> Option<J> {
        let waiting = self.busy.get_mut(lane)?;
        let next = waiting.pop_front();
        if next.is_none() {
            self.busy.remove(lane);
        }
        next
    }

    /// Takes every waiting job of these partitions out and frees their lanes.
    pub fn drop_partitions(&mut self, tps: &[Tp]) -> Vec<J> {
        let mut dropped = Vec::new();
        self.busy.retain(|(tp, _), waiting| {
            let gone = tps.contains(tp);
            if gone {
                dropped.extend(waiting.drain(..));
            }
            !gone
        });
        dropped
    }

    /// Takes every waiting job out (orderly stop); lanes stay busy until finished.
    pub fn clear_waiting(&mut self) -> Vec<J> {
        self.busy.values_mut().flat_map(|w| w.drain(..)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(key: &'static str) -> Lane {
        (Tp::new("t", 0), Bytes::from_static(key.as_bytes()))
    }

    #[test]
    fn one_job_per_lane_in_arrival_order() {
        let mut q = KeyQueues::default();
        assert_eq!(q.offer(lane("a"), 1), Some(1));
        assert_eq!(q.offer(lane("a"), 2), None);
        assert_eq!(q.offer(lane("b"), 3), Some(3), "other keys run at once");
        assert_eq!(q.offer(lane("a"), 4), None);
        assert_eq!(q.finish(&lane("a")), Some(2));
        assert_eq!(q.finish(&lane("a")), Some(4));
        assert_eq!(q.finish(&lane("a")), None);
        assert_eq!(q.offer(lane("a"), 5), Some(5), "lane idle again");
    }

    #[test]
    fn dropping_a_partition_frees_its_lanes() {
        let mut q = KeyQueues::default();
        q.offer(lane("a"), 1);
        q.offer(lane("a"), 2);
        assert_eq!(q.drop_partitions(&[Tp::new("t", 0)]), vec![2]);
        assert_eq!(q.offer(lane("a"), 3), Some(3));
    }
}
