//! Per-partition completion tracking: the contiguous watermark.
//!
//! Events of one partition complete out of order (different keys run
//! concurrently). The offset that may be committed is the lowest offset that has
//! not completed yet; offsets past an unfinished or failed event are never
//! committed, so a crash redelivers it and everything after it.

use std::collections::{BTreeSet, HashMap};

use super::record::Tp;

/// Tracks in-flight offsets of every partition.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    partitions: HashMap<Tp, PartitionOffsets>,
}

#[derive(Debug, Default)]
struct PartitionOffsets {
    /// Offsets taken in but not yet complete.
    pending: BTreeSet<i64>,
    /// One past the highest offset taken in.
    next: i64,
    /// The last watermark handed out for committing.
    stored: Option<i64>,
}

impl PartitionOffsets {
    /// The next offset to consume after every completed event below it.
    fn watermark(&self) -> i64 {
        self.pending.first().copied().unwrap_or(self.next)
    }
}

impl OffsetTracker {
    /// Notes that `offset` of `tp` was taken in.
    pub fn begin(&mut self, tp: &Tp, offset: i64) {
        let part = self
            .partitions
            .entry(tp.clone())
            .or_insert_with(|| PartitionOffsets {
                stored: Some(offset),
                ..PartitionOffsets::default()
            });
        part.pending.insert(offset);
        part.next = part.next.max(offset + 1);
    }

    /// Marks `offset` complete; returns the new watermark if it moved.
    pub fn complete(&mut self, tp: &Tp, offset: i64) -> Option<i64> {
        let part = self.partitions.get_mut(tp)?;
        if !part.pending.remove(&offset) {
            return None;
        }
        let mark = part.watermark();
        if part.stored == Some(mark) {
            return None;
        }
        part.stored = Some(mark);
        Some(mark)
    }

    /// The committable watermark of one partition.
    pub fn watermark(&self, tp: &Tp) -> Option<i64> {
        self.partitions.get(tp).map(PartitionOffsets::watermark)
    }

    /// How many events of `tp` are in flight.
    pub fn pending(&self, tp: &Tp) -> usize {
        self.partitions.get(tp).map_or(0, |p| p.pending.len())
    }

    /// All in-flight events.
    pub fn total_pending(&self) -> usize {
        self.partitions.values().map(|p| p.pending.len()).sum()
    }

    /// Forgets partitions that were revoked; returns their final watermarks.
    pub fn remove(&mut self, tps: &[Tp]) -> Vec<(Tp, i64)> {
        tps.iter()
            .filter_map(|tp| {
                self.partitions
                    .remove(tp)
                    .map(|p| (tp.clone(), p.watermark()))
            })
            .collect()
    }

    /// Every partition with its watermark.
    pub fn watermarks(&self) -> Vec<(Tp, i64)> {
        self.partitions
            .iter()
            .map(|(tp, p)| (tp.clone(), p.watermark()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp() -> Tp {
        Tp::new("t", 0)
    }

    #[test]
    fn watermark_waits_for_the_lowest_unfinished_offset() {
        let mut t = OffsetTracker::default();
        for o in 10..15 {
            t.begin(&tp(), o);
        }
        assert_eq!(
            t.complete(&tp(), 12),
            None,
            "12 done, 10 still open: no move"
        );
        assert_eq!(t.complete(&tp(), 11), None);
        assert_eq!(t.complete(&tp(), 10), Some(13), "10..=12 done: commit 13");
        assert_eq!(t.complete(&tp(), 14), None, "13 still open");
        assert_eq!(t.complete(&tp(), 13), Some(15));
        assert_eq!(t.pending(&tp()), 0);
    }

    #[test]
    fn unknown_offsets_and_repeats_do_not_move_the_watermark() {
        let mut t = OffsetTracker::default();
        t.begin(&tp(), 0);
        assert_eq!(t.complete(&tp(), 7), None);
        assert_eq!(t.complete(&Tp::new("other", 0), 0), None);
        assert_eq!(t.complete(&tp(), 0), Some(1));
        assert_eq!(t.complete(&tp(), 0), None);
    }

    #[test]
    fn remove_returns_the_final_watermark() {
        let mut t = OffsetTracker::default();
        t.begin(&tp(), 5);
        t.begin(&tp(), 6);
        t.complete(&tp(), 6);
        assert_eq!(t.remove(&[tp()]), vec![(tp(), 5)]);
        assert_eq!(t.watermark(&tp()), None);
    }
}
