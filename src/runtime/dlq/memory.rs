//! Dead letters kept in memory, for tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{DeadLetterSink, DlqEntry};
use crate::source::record::Record;

/// Every entry written, with its record; told to, it refuses writes as an
/// unreachable topic would.
#[derive(Debug, Default)]
pub struct MemoryDlq {
    written: Mutex<Vec<(Record, DlqEntry)>>,
    failing: AtomicBool,
}

impl MemoryDlq {
    /// Every dead letter written so far, in order.
    pub fn entries(&self) -> Vec<(Record, DlqEntry)> {
        self.written.lock().unwrap().clone()
    }

    /// From now on, writes fail (`true`) or succeed again (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

#[async_trait]
impl DeadLetterSink for MemoryDlq {
    async fn send(&self, record: &Record, entry: &DlqEntry) -> Result<(), String> {
        if self.failing.load(Ordering::SeqCst) {
            return Err("the dead-letter sink is failing (as told)".into());
        }
        self.written
            .lock()
            .unwrap()
            .push((record.clone(), entry.clone()));
        Ok(())
    }
}
