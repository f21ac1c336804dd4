//! Flow control: stop reading when too much is in flight (the source's
//! bounded channel then fills and the source holds back by itself), pause a
//! partition while one of its events waits out a backoff, and pause everything
//! while a maintenance window says so. Polling goes on throughout.

use std::collections::HashMap;

use crate::runtime::record::Tp;
use crate::source::SourceControl;
use crate::telemetry::events::{InFlight, PausedPartitions};

/// Which partitions are paused, and why.
#[derive(Debug)]
pub(super) struct Flow {
    max_in_flight: usize,
    full: bool,
    /// A maintenance window in pause mode is open for the whole flavor.
    maintenance: bool,
    backoffs: HashMap<Tp, usize>,
    flavor: &'static str,
    /// Partitions paused by the in-flight limit (all assigned at the time).
    paused_all: usize,
}

impl Flow {
    pub(super) fn new(max_in_flight: usize, flavor: &'static str) -> Self {
        Self {
            max_in_flight: max_in_flight.max(1),
            full: false,
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

    /// Whether reading stops: the in-flight limit is reached, or a pause
    /// window is open.
    pub(super) fn stopped(&self) -> bool {
        self.full || self.maintenance
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

    /// An event was taken in; at the limit the runtime stops reading. (The
    /// source then holds back: its channel fills and it pauses by itself.)
    pub(super) fn taken(&mut self, pending: usize, _control: &dyn SourceControl) {
        InFlight::new(self.flavor, pending).emit();
        if !self.full && pending >= self.max_in_flight {
            self.full = true;
        }
    }

    /// An event completed; reading resumes at half the limit (hysteresis).
    pub(super) fn released(&mut self, pending: usize, _control: &dyn SourceControl) {
        InFlight::new(self.flavor, pending).emit();
        if self.full && pending <= self.max_in_flight / 2 {
            self.full = false;
        }
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
