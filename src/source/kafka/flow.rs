//! Who paused which partition. The runtime pauses partitions while their
//! events wait out a backoff (or a maintenance window); the poll thread pauses
//! everything while the runtime's channel is full. A partition fetches only
//! when neither holds it, so one side's resume never undoes the other's pause.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

use super::{tpl_of, tps_of};
use crate::runtime::record::Tp;
use crate::source::SourceMsg;

/// Pause reasons, shared by the poll thread and the runtime's control handle.
#[derive(Debug, Default)]
pub(super) struct Pauses {
    inner: Mutex<PauseState>,
}

#[derive(Debug, Default)]
struct PauseState {
    by_runtime: HashSet<Tp>,
    backpressure: bool,
}

impl Pauses {
    /// The runtime pauses `tps`.
    pub(super) fn runtime_pause<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>, tps: &[Tp]) {
        let Ok(mut s) = self.inner.lock() else { return };
        s.by_runtime.extend(tps.iter().cloned());
        if !s.backpressure {
            pause(consumer, tps);
        }
    }

    /// The runtime resumes `tps` (they fetch unless backpressure holds them).
    pub(super) fn runtime_resume<C: ConsumerContext>(
        &self,
        consumer: &BaseConsumer<C>,
        tps: &[Tp],
    ) {
        let Ok(mut s) = self.inner.lock() else { return };
        for tp in tps {
            s.by_runtime.remove(tp);
        }
        if !s.backpressure {
            resume(consumer, tps);
        }
    }

    /// The runtime's channel is full: stop fetching everything assigned.
    pub(super) fn hold<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>) {
        let Ok(mut s) = self.inner.lock() else { return };
        s.backpressure = true;
        pause(consumer, &assigned(consumer));
    }

    /// The channel has room again: resume what the runtime does not hold.
    pub(super) fn release<C: ConsumerContext>(&self, consumer: &BaseConsumer<C>) {
        let Ok(mut s) = self.inner.lock() else { return };
        if !s.backpressure {
            return;
        }
        s.backpressure = false;
        let free: Vec<Tp> = assigned(consumer)
            .into_iter()
            .filter(|tp| !s.by_runtime.contains(tp))
            .collect();
        resume(consumer, &free);
    }

    /// Revoked partitions are forgotten.
    pub(super) fn forget(&self, tps: &[Tp]) {
        if let Ok(mut s) = self.inner.lock() {
            for tp in tps {
                s.by_runtime.remove(tp);
            }
        }
    }
}

/// Records polled but not yet taken by the runtime (its channel was full).
#[derive(Debug, Default)]
pub(super) struct Held(Mutex<VecDeque<SourceMsg>>);

impl Held {
    pub(super) fn push(&self, msg: SourceMsg) {
        if let Ok(mut q) = self.0.lock() {
            q.push_back(msg);
        }
    }

    /// Offers held records in order until `send` hands one back (refused); returns whether
    /// everything went.
    pub(super) fn drain(&self, mut send: impl FnMut(SourceMsg) -> Option<SourceMsg>) -> bool {
        let Ok(mut q) = self.0.lock() else {
            return false;
        };
        while let Some(msg) = q.pop_front() {
            if let Some(back) = send(msg) {
                q.push_front(back);
                return false;
            }
        }
        true
    }

    /// Drops held records of revoked partitions (their new owner reads them).
    pub(super) fn drop_partitions(&self, tps: &[Tp]) {
        if let Ok(mut q) = self.0.lock() {
            q.retain(|m| !matches!(m, SourceMsg::Record(r) if tps.contains(&r.tp)));
        }
    }
}

fn assigned<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> Vec<Tp> {
    consumer
        .assignment()
        .map(|t| tps_of(&t))
        .unwrap_or_default()
}

fn pause<C: ConsumerContext>(consumer: &BaseConsumer<C>, tps: &[Tp]) {
    if !tps.is_empty() {
        if let Err(err) = consumer.pause(&tpl_of(tps)) {
            tracing::debug!(error = %err, "pause");
        }
    }
}

fn resume<C: ConsumerContext>(consumer: &BaseConsumer<C>, tps: &[Tp]) {
    if !tps.is_empty() {
        if let Err(err) = consumer.resume(&tpl_of(tps)) {
            tracing::debug!(error = %err, "resume");
        }
    }
}
