//! Repeated client errors logged once, then at most every few seconds with a
//! count: a broker outage makes librdkafka report the same error every
//! ~100 ms, and a log line each would flood the log (and a blocked log pipe
//! would stall the service).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Least time between two lines about the same kind of error.
const EVERY: Duration = Duration::from_secs(10);

/// One throttle per kind of error.
#[derive(Default)]
pub(crate) struct Throttle {
    state: Mutex<Option<(Instant, u64)>>,
}

impl Throttle {
    /// `Some(n)` when a line is due, `n` being how many were held back since
    /// the last one; `None` to stay quiet.
    pub(crate) fn due(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().ok()?;
        match *state {
            Some((last, held)) if now.duration_since(last) < EVERY => {
                *state = Some((last, held + 1));
                None
            }
            Some((_, held)) => {
                *state = Some((now, 0));
                Some(held)
            }
            None => {
                *state = Some((now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_error_logs_then_one_line_per_period_with_the_count_held_back() {
        let t = Throttle::default();
        let start = Instant::now();
        assert_eq!(t.due(start), Some(0));
        for i in 1..=50 {
            assert_eq!(t.due(start + Duration::from_millis(100 * i)), None);
        }
        assert_eq!(t.due(start + EVERY + Duration::from_millis(1)), Some(50));
        assert_eq!(t.due(start + EVERY + Duration::from_millis(2)), None);
    }
}
