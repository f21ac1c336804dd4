//! The runtime's room, shared by a source and the runtime: how many records
//! (and bytes) may be taken in and not yet complete. A source reads only while
//! there is room, so it never has to pause a partition for backpressure: the
//! broker client's own bounded prefetch queue is the buffer in front of it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Wakes a source thread: rung when room frees up or a partition queue gets
/// data. A ring before the wait is not lost (the flag stays set).
#[derive(Debug, Default)]
pub struct Doorbell {
    rung: Mutex<bool>,
    cv: Condvar,
}

impl Doorbell {
    /// Wakes the waiter (or the next one to wait).
    pub fn ring(&self) {
        if let Ok(mut rung) = self.rung.lock() {
            *rung = true;
            self.cv.notify_one();
        }
    }

    /// Waits until rung or `timeout`, and clears the ring.
    pub fn wait(&self, timeout: Duration) {
        let Ok(mut rung) = self.rung.lock() else {
            return;
        };
        if !*rung {
            rung = match self.cv.wait_timeout(rung, timeout) {
                Ok((guard, _)) => guard,
                Err(_) => return,
            };
        }
        *rung = false;
    }
}

/// Most records in one chunk.
pub const MAX_CHUNK: usize = 512;

/// Records and bytes taken in, against their limits.
#[derive(Debug)]
pub struct Credit {
    max_records: AtomicUsize,
    max_bytes: AtomicUsize,
    records: AtomicUsize,
    bytes: AtomicUsize,
    bell: Arc<Doorbell>,
    notify: tokio::sync::Notify,
}

impl Credit {
    /// A credit of `max_records` records and `max_bytes` bytes.
    pub fn new(max_records: usize, max_bytes: usize) -> Self {
        Self {
            max_records: AtomicUsize::new(max_records.max(1)),
            max_bytes: AtomicUsize::new(max_bytes.max(1)),
            records: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            bell: Arc::default(),
            notify: tokio::sync::Notify::new(),
        }
    }

    /// How many more records may be read now (0 while the bytes are spent).
    pub fn room(&self) -> usize {
        if self.bytes.load(Ordering::Acquire) >= self.max_bytes.load(Ordering::Acquire) {
            return 0;
        }
        self.max_records
            .load(Ordering::Acquire)
            .saturating_sub(self.records.load(Ordering::Acquire))
    }

    /// How many records one read should take at most: a quarter of the
    /// credit, so that reading, intake and dispatch work on different chunks
    /// at once instead of passing one chunk the size of the credit along.
    pub fn chunk(&self) -> usize {
        (self.max_records.load(Ordering::Acquire) / 4).clamp(1, MAX_CHUNK)
    }

    /// Raises the limits to at least these (a batch flavor needs room for
    /// the batches it runs and the one it fills).
    pub fn at_least(&self, records: usize, bytes: usize) {
        self.max_records.fetch_max(records, Ordering::AcqRel);
        self.max_bytes.fetch_max(bytes, Ordering::AcqRel);
        self.bell.ring();
    }

    /// Records currently taken in.
    pub fn taken(&self) -> usize {
        self.records.load(Ordering::Acquire)
    }

    /// Takes credit for records read.
    pub fn take(&self, records: usize, bytes: usize) {
        self.records.fetch_add(records, Ordering::AcqRel);
        self.bytes.fetch_add(bytes, Ordering::AcqRel);
    }

    /// Gives credit back (events completed or dropped) and wakes the source.
    pub fn give_back(&self, records: usize, bytes: usize) {
        if records == 0 && bytes == 0 {
            return;
        }
        sub(&self.records, records);
        sub(&self.bytes, bytes);
        self.bell.ring();
        self.notify.notify_waiters();
    }

    /// The doorbell a source thread waits on.
    pub fn bell(&self) -> Arc<Doorbell> {
        self.bell.clone()
    }

    /// Waits (async) until there is room.
    pub async fn wait_room(&self) {
        loop {
            let freed = self.notify.notified();
            if self.room() > 0 {
                return;
            }
            freed.await;
        }
    }
}

fn sub(counter: &AtomicUsize, n: usize) {
    let _ = counter.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
        Some(v.saturating_sub(n))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_bounded_by_records_and_bytes() {
        let c = Credit::new(10, 1000);
        assert_eq!(c.room(), 10);
        c.take(4, 100);
        assert_eq!(c.room(), 6);
        c.take(1, 900);
        assert_eq!(c.room(), 0, "bytes spent");
        c.give_back(1, 900);
        assert_eq!(c.room(), 6);
        c.give_back(100, 100_000);
        assert_eq!(c.room(), 10, "never below zero");
    }

    #[test]
    fn a_ring_before_the_wait_is_not_lost() {
        let bell = Doorbell::default();
        bell.ring();
        let started = std::time::Instant::now();
        // A lost ring waits the whole minute; a kept one returns at once. Half
        // of it leaves room for any descheduling of a loaded machine.
        bell.wait(Duration::from_secs(60));
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    /// On the paused clock the sleep ends only once the waiter has run and
    /// parked, so "not finished" is exact, however loaded the machine.
    #[tokio::test(start_paused = true)]
    async fn waiting_for_room_ends_when_credit_comes_back() {
        let c = Arc::new(Credit::new(1, 1000));
        c.take(1, 10);
        let waiter = tokio::spawn({
            let c = c.clone();
            async move { c.wait_room().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        c.give_back(1, 10);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("task");
    }
}
