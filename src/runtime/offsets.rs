//! Per-partition completion tracking: the contiguous watermark.
//!
//! Events of one partition complete out of order (different keys run
//! concurrently). The offset that may be committed is the lowest offset that has
//! not completed yet; offsets past an unfinished or failed event are never
//! committed, so a crash redelivers it and everything after it.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use crate::source::record::Tp;

/// Tracks in-flight offsets of every partition, with each record's size (the
/// credit it holds).
#[derive(Debug, Default)]
pub struct OffsetTracker {
    partitions: HashMap<Tp, PartitionOffsets>,
    total: usize,
}

#[derive(Debug, Default)]
struct PartitionOffsets {
    /// Offsets taken in but not yet complete, with their record sizes.
    pending: BTreeMap<i64, usize>,
    /// One past the highest offset taken in.
    next: i64,
    /// The last watermark handed out for committing.
    stored: Option<i64>,
}

impl PartitionOffsets {
    /// The next offset to consume after every completed event below it.
    fn watermark(&self) -> i64 {
        self.pending
            .first_key_value()
            .map_or(self.next, |(offset, _)| *offset)
    }
}

/// What completing an offset changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Completed {
    /// The new watermark, if it moved.
    pub mark: Option<i64>,
    /// Records released (0 or 1).
    pub records: usize,
    /// Bytes released.
    pub bytes: usize,
}

impl OffsetTracker {
    /// Notes that `offset` of `tp` (a record of `size` bytes) was taken in;
    /// false if it already was (the repeat holds no credit of its own).
    pub fn begin(&mut self, tp: &Tp, offset: i64, size: usize) -> bool {
        let part = match self.partitions.get_mut(tp) {
            Some(part) => part,
            None => self
                .partitions
                .entry(tp.clone())
                .or_insert_with(|| PartitionOffsets {
                    stored: Some(offset),
                    ..PartitionOffsets::default()
                }),
        };
        part.next = part.next.max(offset + 1);
        let new = part.pending.insert(offset, size).is_none();
        if new {
            self.total += 1;
        }
        new
    }

    /// Marks `offset` complete; says whether the watermark moved and what it released.
    pub fn complete(&mut self, tp: &Tp, offset: i64) -> Completed {
        let Some(part) = self.partitions.get_mut(tp) else {
            return Completed::default();
        };
        let Some(bytes) = part.pending.remove(&offset) else {
            return Completed::default();
        };
        self.total -= 1;
        let mark = part.watermark();
        let moved = part.stored != Some(mark);
        part.stored = Some(mark);
        Completed {
            mark: moved.then_some(mark),
            records: 1,
            bytes,
        }
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
        self.total
    }

    /// Forgets partitions that were revoked; returns their final watermarks
    /// and the records and bytes still pending there (released with them).
    pub fn remove(&mut self, tps: &[Tp]) -> (Vec<(Tp, i64)>, usize, usize) {
        let (mut records, mut bytes) = (0, 0);
        let mut marks = Vec::new();
        for tp in tps {
            if let Some(p) = self.partitions.remove(tp) {
                records += p.pending.len();
                bytes += p.pending.values().sum::<usize>();
                marks.push((tp.clone(), p.watermark()));
            }
        }
        self.total -= records;
        (marks, records, bytes)
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
            t.begin(&tp(), o, 10);
        }
        assert_eq!(t.complete(&tp(), 12).mark, None, "12 done, 10 still open");
        assert_eq!(t.complete(&tp(), 11).mark, None);
        assert_eq!(
            t.complete(&tp(), 10).mark,
            Some(13),
            "10..=12 done: commit 13"
        );
        assert_eq!(t.complete(&tp(), 14).mark, None, "13 still open");
        let last = t.complete(&tp(), 13);
        assert_eq!((last.mark, last.records, last.bytes), (Some(15), 1, 10));
        assert_eq!(t.pending(&tp()), 0);
        assert_eq!(t.total_pending(), 0);
    }

    #[test]
    fn unknown_offsets_and_repeats_do_not_move_the_watermark() {
        let mut t = OffsetTracker::default();
        t.begin(&tp(), 0, 5);
        assert_eq!(t.complete(&tp(), 7), Completed::default());
        assert_eq!(t.complete(&Tp::new("other", 0), 0), Completed::default());
        assert_eq!(t.complete(&tp(), 0).mark, Some(1));
        assert_eq!(t.complete(&tp(), 0), Completed::default(), "released once");
    }

    #[test]
    fn remove_returns_the_final_watermark() {
        let mut t = OffsetTracker::default();
        t.begin(&tp(), 5, 7);
        t.begin(&tp(), 6, 3);
        t.complete(&tp(), 6);
        assert_eq!(t.remove(&[tp()]), (vec![(tp(), 5)], 1, 7));
        assert_eq!(t.total_pending(), 0);
        assert_eq!(t.watermark(&tp()), None);
    }
}
