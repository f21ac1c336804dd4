//! The rate limiter's own log, captured in this process: every hold a vendor
//! asked for (`from_us`, `until_us`) and every call the limiter admitted
//! (`at_us`), stamped on the limiter's clock under the lock that orders them.
//!
//! A hold test decides "this call started during the hold" from these, not
//! from when requests reached a fake: on a loaded machine a request admitted
//! just before the 429 came back may arrive a second later, and a test that
//! judged by arrival times could not tell it from one started inside the hold.
//!
//! [`install`] sets a process-wide subscriber that listens to the limiter's
//! target only (everything else stays disabled, as without a subscriber).
//! Holds are per dependency and process-wide, so a call admitted inside any
//! hold of its dependency is wrong, whichever test made it.

use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

const TARGET: &str = "case_event_handler::resilience::rate_limit";

/// One line of the limiter's log.
#[derive(Debug, Default, Clone)]
struct Line {
    dependency: String,
    message: String,
    at_us: Option<u64>,
    from_us: Option<u64>,
    until_us: Option<u64>,
}

impl Visit for Line {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "at_us" => self.at_us = Some(value),
            "from_us" => self.from_us = Some(value),
            "until_us" => self.until_us = Some(value),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "dependency" {
            self.dependency = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        }
    }
}

#[derive(Default)]
struct Capture {
    lines: Mutex<Vec<Line>>,
}

impl Subscriber for Capture {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        match self.enabled(meta) {
            true => Interest::always(),
            false => Interest::never(),
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        meta.is_event() && meta.target() == TARGET
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1) // never called: no span is enabled
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        self.lines.lock().unwrap().push(line);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Arc<Capture>> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Arc::new(Capture::default());
        tracing::subscriber::set_global_default(capture.clone())
            .expect("no other global subscriber in the integration tests");
        capture
    })
}

/// Starts capturing the limiter's log (once per process; call it before the
/// run whose holds the test checks).
pub fn install() {
    capture();
}

/// What the limiter logged for one dependency so far.
#[derive(Debug)]
pub struct LimiterLog {
    /// Each hold: from, until (µs on the limiter's clock).
    pub holds: Vec<(u64, u64)>,
    /// Each admitted call (µs on the limiter's clock).
    pub admitted: Vec<u64>,
}

impl LimiterLog {
    /// The calls admitted while a hold was in force.
    pub fn admitted_inside_a_hold(&self) -> Vec<u64> {
        (self.admitted.iter().copied())
            .filter(|at| (self.holds.iter()).any(|(from, until)| from <= at && at < until))
            .collect()
    }

    /// The first hold that lasted at least `length`.
    pub fn hold_of_at_least(&self, length: std::time::Duration) -> Option<(u64, u64)> {
        let micros = length.as_micros() as u64;
        (self.holds.iter().copied()).find(|(from, until)| until - from >= micros)
    }

    /// The calls admitted at or after `since` (µs).
    pub fn admitted_since(&self, since: u64) -> usize {
        self.admitted.iter().filter(|at| **at >= since).count()
    }
}

/// The limiter's log of `dependency` so far.
pub fn of(dependency: &str) -> LimiterLog {
    let lines = capture().lines.lock().unwrap().clone();
    let lines = lines.into_iter().filter(|l| l.dependency == dependency);
    let (mut holds, mut admitted) = (Vec::new(), Vec::new());
    for line in lines {
        match (line.at_us, line.from_us, line.until_us) {
            (Some(at), _, _) => admitted.push(at),
            (_, Some(from), Some(until)) => holds.push((from, until)),
            _ => panic!("a limiter line without its stamps: {line:?}"),
        }
    }
    LimiterLog { holds, admitted }
}
