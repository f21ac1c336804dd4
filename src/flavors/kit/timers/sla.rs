//! A pausable SLA budget measured on a [`Calendar`].

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;

/// A budget of business time that runs, pauses and resumes; pure data
/// (it is stored in a timer row), every change takes the instant it happens.
///
/// Pausing and resuming moves the due time by the business time the pause
/// covered: a pause over a weekend moves it by nothing on Mon–Fri hours and
/// by the whole weekend on [`Calendar::Always`]. Instants earlier than the
/// last change count as that change (events may arrive late); pausing a
/// paused clock or resuming a running one changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    calendar: Calendar,
    #[serde(with = "millis")]
    budget: TimeDelta,
    /// Business time used by the runs before the current one.
    #[serde(with = "millis")]
    used: TimeDelta,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
enum State {
    Running {
        since: DateTime<Utc>,
        due: DateTime<Utc>,
    },
    Paused {
        since: DateTime<Utc>,
    },
}

impl SlaClock {
    /// Starts `budget` of business time at `at`.
    pub fn start(at: DateTime<Utc>, budget: TimeDelta, calendar: Calendar) -> Self {
        let due = calendar.add_business(at, budget);
        Self {
            calendar,
            budget,
            used: TimeDelta::zero(),
            state: State::Running { since: at, due },
        }
    }

    /// Stops the clock at `at` (the due time is unknown until it resumes).
    pub fn pause(&mut self, at: DateTime<Utc>) {
        if let State::Running { since, .. } = self.state {
            let at = at.max(since);
            self.used += self.calendar.business_between(since, at);
            self.state = State::Paused { since: at };
        }
    }

    /// Runs it again from `at`; the due time moves by the paused business time.
    pub fn resume(&mut self, at: DateTime<Utc>) {
        if let State::Paused { since } = self.state {
            let at = at.max(since);
            let due = self.calendar.add_business(at, self.budget - self.used);
            self.state = State::Running { since: at, due };
        }
    }

    /// When the budget runs out; `None` while paused. An already spent
    /// budget is due at the instant it resumed.
    pub fn due(&self) -> Option<DateTime<Utc>> {
        match self.state {
            State::Running { due, .. } => Some(due),
            State::Paused { .. } => None,
        }
    }

    /// Business time used up to `at`.
    pub fn elapsed(&self, at: DateTime<Utc>) -> TimeDelta {
        match self.state {
            State::Running { since, .. } => self.used + self.calendar.business_between(since, at),
            State::Paused { .. } => self.used,
        }
    }

    /// Budget left at `at` (negative once overdue).
    pub fn remaining(&self, at: DateTime<Utc>) -> TimeDelta {
        self.budget - self.elapsed(at)
    }

    /// Whether it is paused.
    pub fn is_paused(&self) -> bool {
        matches!(self.state, State::Paused { .. })
    }

    /// The whole budget.
    pub fn budget(&self) -> TimeDelta {
        self.budget
    }

    /// The calendar it runs on.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }
}

/// A [`TimeDelta`] as whole milliseconds.
mod millis {
    use chrono::TimeDelta;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &TimeDelta, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_milliseconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TimeDelta, D::Error> {
        let ms = i64::deserialize(d)?;
        TimeDelta::try_milliseconds(ms).ok_or_else(|| D::Error::custom("duration out of range"))
    }
}
