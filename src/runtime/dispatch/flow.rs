//! The runtime's own pauses: a partition while one of its events waits out a
//! backoff (or an open breaker), and everything while a maintenance window
//! says so. Backpressure is not here: the source reads only with credit and
//! never pauses for it. Polling goes on throughout.

use std::collections::HashMap;

use crate::source::record::Tp;
use crate::source::SourceControl;
use crate::telemetry::events::PausedPartitions;

/// Which partitions are paused, and why.
#[derive(Debug)]
pub(super) struct Flow {
    /// A maintenance window in pause mode is open for the whole flavor.
    maintenance: bool,
    backoffs: HashMap<Tp, usize>,
    flavor: &'static str,
    /// Partitions paused by the in-flight limit (all assigned at the time).
    paused_all: usize,
}

impl Flow {
    pub(super) fn new(flavor: &'static str) -> Self {
        Self {
            maintenance: false,
            backoffs: HashMap::new(),
            flavor,
            paused_all: 0,
        }
    }

    /// Sets the paused-partitions gauge.
    fn report_paused(&self) {
        let partitions = if self.maintenance {
            self.paused_all
        } else {
            self.backoffs.len()
        };
        PausedPartitions::new(self.flavor, partitions).emit();
    }

    /// Whether a flavor-wide pause window holds the source.
    pub(super) fn stopped_for_maintenance(&self) -> bool {
        self.maintenance
    }

    /// Opens or closes a flavor-wide pause window: all partitions pause, and
    /// resume at its end (except those an event's backoff still holds).
    pub(super) fn set_maintenance(&mut self, on: bool, control: &dyn SourceControl) {
        if on == self.maintenance {
            return;
        }
        self.maintenance = on;
        let assigned = control.assigned();
        if on {
            control.pause(&assigned);
            self.paused_all = assigned.len();
        } else {
            let resume: Vec<Tp> = assigned
                .into_iter()
                .filter(|tp| !self.backoffs.contains_key(tp))
                .collect();
            control.resume(&resume);
        }
        self.report_paused();
    }

    /// An event of `tp` entered a backoff: the partition pauses.
    pub(super) fn backoff_started(&mut self, tp: &Tp, control: &dyn SourceControl) {
        let n = self.backoffs.entry(tp.clone()).or_default();
        *n += 1;
        if *n == 1 {
            control.pause(std::slice::from_ref(tp));
            self.report_paused();
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
            if !self.maintenance {
                control.resume(std::slice::from_ref(tp));
            }
            self.report_paused();
        }
    }

    /// The partition was revoked.
    pub(super) fn forget(&mut self, tp: &Tp) {
        if self.backoffs.remove(tp).is_some() {
            self.report_paused();
        }
    }
}
