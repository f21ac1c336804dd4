//! Flow control at the source: pause when too much is in flight, and pause a
//! partition while one of its events waits out a backoff. Polling goes on.

use std::collections::HashMap;

use crate::runtime::record::Tp;
use crate::source::SourceControl;

/// Which partitions are paused, and why.
#[derive(Debug)]
pub(super) struct Flow {
    max_in_flight: usize,
    full: bool,
    backoffs: HashMap<Tp, usize>,
}

impl Flow {
    pub(super) fn new(max_in_flight: usize) -> Self {
        Self {
            max_in_flight: max_in_flight.max(1),
            full: false,
            backoffs: HashMap::new(),
        }
    }

    /// Whether the in-flight limit is reached (the runtime stops reading).
    pub(super) fn full(&self) -> bool {
        self.full
    }

    /// An event was taken in; pauses everything at the limit.
    pub(super) fn taken(&mut self, pending: usize, control: &dyn SourceControl) {
        if !self.full && pending >= self.max_in_flight {
            self.full = true;
            control.pause(&control.assigned());
        }
    }

    /// An event completed; resumes at half the limit (hysteresis).
    pub(super) fn released(&mut self, pending: usize, control: &dyn SourceControl) {
        if self.full && pending <= self.max_in_flight / 2 {
            self.full = false;
            let resume: Vec<Tp> = control
                .assigned()
                .into_iter()
                .filter(|tp| !self.backoffs.contains_key(tp))
                .collect();
            control.resume(&resume);
        }
    }

    /// An event of `tp` entered a backoff: the partition pauses.
    pub(super) fn backoff_started(&mut self, tp: &Tp, control: &dyn SourceControl) {
        let n = self.backoffs.entry(tp.clone()).or_default();
        *n += 1;
        if *n == 1 {
            control.pause(std::slice::from_ref(tp));
        }
    }

    /// A backoff of `tp` ended: the partition resumes when none is left.
    pub(super) fn backoff_ended(&mut self, tp: &Tp, control: &dyn SourceControl) {
        let Some(n) = self.backoffs.get_mut(tp) else {
            return;
        };
        *n -= 1;
        if *n == 0 {
            self.backoffs.remove(tp);
            if !self.full {
                control.resume(std::slice::from_ref(tp));
            }
        }
    }

    /// The partition was revoked.
    pub(super) fn forget(&mut self, tp: &Tp) {
        self.backoffs.remove(tp);
    }
}
