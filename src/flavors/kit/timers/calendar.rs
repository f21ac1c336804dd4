//! Business-hours calendars: when SLA time runs.
//!
//! A [`Calendar`] is either [`Calendar::Always`] (24x7) or
//! [`Calendar::BusinessHours`]: open intervals per weekday in local time of an
//! IANA zone, minus holidays (local dates). Everything here is pure: the
//! functions take instants and never read a clock.
//!
//! Local times are turned into instants by chrono-tz
//! (`from_local_datetime`), never by hand-written offsets, with one policy
//! for openings and closings alike:
//!
//! - a local time in a spring-forward **gap** (e.g. 02:30 in Berlin on the
//!   last Sunday of March) becomes the first valid instant after the gap,
//!   i.e. the transition itself (03:00 CEST);
//! - an **ambiguous** local time (fall-back overlap, e.g. 02:30 in Berlin on
//!   the last Sunday of October) takes the earlier instant (02:30 CEST).
//!
//! So a day that loses an hour has one hour less of `00:00–04:00`, a day
//! that gains one has one more, and an interval that lies wholly in a gap
//! is not open that day.

use std::collections::{BTreeSet, VecDeque};
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::local::{resolve, tz_name};
use crate::rules::schema::BusinessHours as HoursConfig;

const DAY_SECS: u32 = 86_400;
const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];
/// How many local days are scanned for openings before a calendar counts
/// as never open again (its due times are then [`DateTime::<Utc>::MAX_UTC`]).
const HORIZON_DAYS: u32 = 366 * 20;

/// Why a calendar could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Not an IANA zone name chrono-tz knows.
    #[error("unknown time zone `{0}`")]
    TimeZone(String),
    /// Not `mon` … `sun`.
    #[error("`{0}` is not a weekday (mon, tue, wed, thu, fri, sat, sun)")]
    Day(String),
    /// Not `HH:MM` (`24:00` is allowed as a closing time).
    #[error("`{0}` is not a time `HH:MM`")]
    Time(String),
    /// Opening not before closing.
    #[error("`{open}`–`{close}` is empty")]
    Empty {
        /// Opening time.
        open: String,
        /// Closing time.
        close: String,
    },
    /// No weekday has open hours.
    #[error("the week has no open hours")]
    NeverOpen,
}

/// One opening within a local day, in seconds after local midnight; `close`
/// may be 86 400 (`24:00`, the next midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "IntervalRow")]
pub struct Interval {
    open: u32,
    close: u32,
}

impl Interval {
    /// `open`–`close` as `HH:MM`; `close` may be `24:00`.
    pub fn parse(open: &str, close: &str) -> Result<Self, CalendarError> {
        let (o, c) = (secs_of(open)?, secs_of(close)?);
        if o < c && o < DAY_SECS {
            Ok(Self { open: o, close: c })
        } else {
            Err(CalendarError::Empty {
                open: open.into(),
                close: close.into(),
            })
        }
    }
}

/// An [`Interval`] as stored, checked on the way back in.
#[derive(Deserialize)]
struct IntervalRow {
    open: u32,
    close: u32,
}

impl TryFrom<IntervalRow> for Interval {
    type Error = CalendarError;

    fn try_from(r: IntervalRow) -> Result<Self, CalendarError> {
        if r.open < r.close && r.close <= DAY_SECS {
            Ok(Self {
                open: r.open,
                close: r.close,
            })
        } else {
            Err(CalendarError::Empty {
                open: format!("{}s", r.open),
                close: format!("{}s", r.close),
            })
        }
    }
}

fn secs_of(hhmm: &str) -> Result<u32, CalendarError> {
    if hhmm == "24:00" {
        return Ok(DAY_SECS);
    }
    NaiveTime::parse_from_str(hhmm, "%H:%M")
        .map(|t| t.num_seconds_from_midnight())
        .map_err(|_| CalendarError::Time(hhmm.into()))
}

/// Open intervals per weekday in a zone, minus holidays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HoursRow")]
pub struct WorkingHours {
    #[serde(with = "tz_name")]
    tz: Tz,
    /// Monday first; sorted, merged.
    week: [Vec<Interval>; 7],
    holidays: BTreeSet<NaiveDate>,
}

impl WorkingHours {
    /// Hours in `tz`: each `(weekday, interval)` opens that weekday (several
    /// per day allowed; overlapping ones merge); `holidays` are closed.
    pub fn new(
        tz: Tz,
        open: impl IntoIterator<Item = (Weekday, Interval)>,
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, CalendarError> {
        let mut week: [Vec<Interval>; 7] = Default::default();
        for (day, iv) in open {
            week[day.num_days_from_monday() as usize].push(iv);
        }
        for day in &mut week {
            day.sort();
            let mut merged: Vec<Interval> = Vec::with_capacity(day.len());
            for iv in day.drain(..) {
                match merged.last_mut() {
                    Some(last) if iv.open <= last.close => last.close = last.close.max(iv.close),
                    _ => merged.push(iv),
                }
            }
            *day = merged;
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NeverOpen);
        }
        Ok(Self {
            tz,
            week,
            holidays: holidays.into_iter().collect(),
        })
    }

    /// Its zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The open spans of one local date, as instants (maybe empty).
    fn day_spans(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let midnight = date.and_time(NaiveTime::MIN);
        let at = |secs: u32| resolve(self.tz, midnight + TimeDelta::seconds(i64::from(secs)));
        self.week[date.weekday().num_days_from_monday() as usize]
            .iter()
            .filter_map(|iv| Some((at(iv.open)?, at(iv.close)?)))
            .filter(|(s, e)| s < e)
            .collect()
    }
}

/// [`WorkingHours`] as stored, rebuilt through [`WorkingHours::new`].
#[derive(Deserialize)]
struct HoursRow {
    #[serde(with = "tz_name")]
    tz: Tz,
    week: [Vec<Interval>; 7],
    holidays: BTreeSet<NaiveDate>,
}

impl TryFrom<HoursRow> for WorkingHours {
    type Error = CalendarError;

    fn try_from(r: HoursRow) -> Result<Self, CalendarError> {
        let open = WEEK
            .into_iter()
            .zip(r.week)
            .flat_map(|(wd, day)| day.into_iter().map(move |iv| (wd, iv)));
        Self::new(r.tz, open, r.holidays)
    }
}

/// When SLA time runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calendar {
    /// 24x7.
    Always,
    /// Working hours in a zone.
    BusinessHours(WorkingHours),
}

impl TryFrom<&HoursConfig> for Calendar {
    type Error = CalendarError;

    /// The rules' `calendar:` (one `start`–`end` on each listed day; an `end`
    /// before `start` runs past midnight into the next day, and a holiday
    /// closes the part on its date).
    fn try_from(c: &HoursConfig) -> Result<Self, CalendarError> {
        let tz =
            Tz::from_str(&c.timezone).map_err(|_| CalendarError::TimeZone(c.timezone.clone()))?;
        let (open, close) = (secs_of(&c.start)?, secs_of(&c.end)?);
        let mut intervals = Vec::new();
        for name in &c.days {
            let day = Weekday::from_str(name).map_err(|_| CalendarError::Day(name.clone()))?;
            if open < close {
                intervals.push((day, Interval { open, close }));
            } else if close < open {
                intervals.push((
                    day,
                    Interval {
                        open,
                        close: DAY_SECS,
                    },
                ));
                if close > 0 {
                    intervals.push((day.succ(), Interval { open: 0, close }));
                }
            } else {
                return Err(CalendarError::Empty {
                    open: c.start.clone(),
                    close: c.end.clone(),
                });
            }
        }
        WorkingHours::new(tz, intervals, c.holidays.iter().copied()).map(Self::BusinessHours)
    }
}

impl Calendar {
    /// A policy's calendar: absent is 24x7.
    pub fn from_policy(c: Option<&HoursConfig>) -> Result<Self, CalendarError> {
        c.map_or(Ok(Self::Always), Self::try_from)
    }

    /// The instant at which `work` business time has elapsed from `start`
    /// (starting outside hours waits for the next opening; no work is
    /// `start`). [`DateTime::<Utc>::MAX_UTC`] if it never opens again.
    pub fn add_business(&self, start: DateTime<Utc>, work: TimeDelta) -> DateTime<Utc> {
        if work <= TimeDelta::zero() {
            return start;
        }
        let mut left = work;
        for (s, e) in self.spans(start) {
            let len = e - s;
            if left <= len {
                return s
                    .checked_add_signed(left)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
            }
            left -= len;
        }
        DateTime::<Utc>::MAX_UTC
    }

    /// Business time in `[a, b)`; zero when `b <= a`.
    pub fn business_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        let mut sum = TimeDelta::zero();
        for (s, e) in self.spans(a) {
            if s >= b {
                break;
            }
            sum += e.min(b) - s;
        }
        sum
    }

    /// Whether business time runs at `t`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        self.spans(t).next().is_some_and(|(s, _)| s == t)
    }

    /// `t` if open, else the next opening; `None` if it never opens again.
    pub fn next_open(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.spans(t).next().map(|(s, _)| s)
    }

    /// Open spans `[s, e)` from `from` on, in order, disjoint, the first
    /// clipped to start no earlier than `from`.
    fn spans(&self, from: DateTime<Utc>) -> Spans<'_> {
        let hours = match self {
            Self::Always => None,
            Self::BusinessHours(h) => Some(h),
        };
        let date = from.with_timezone(&hours.map_or(chrono_tz::UTC, WorkingHours::tz));
        Spans {
            hours,
            from,
            date: date.date_naive().pred_opt().unwrap_or(NaiveDate::MIN),
            left: HORIZON_DAYS,
            queue: VecDeque::new(),
        }
    }
}

struct Spans<'a> {
    /// `None`: always open.
    hours: Option<&'a WorkingHours>,
    /// Nothing before this is yielded (moves to each yielded end).
    from: DateTime<Utc>,
    /// Next local date to expand.
    date: NaiveDate,
    left: u32,
    queue: VecDeque<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Iterator for Spans<'_> {
    type Item = (DateTime<Utc>, DateTime<Utc>);

    fn next(&mut self) -> Option<Self::Item> {
        let Some(hours) = self.hours else {
            if self.left == 0 || self.from == DateTime::<Utc>::MAX_UTC {
                return None;
            }
            self.left = 0;
            return Some((self.from, DateTime::<Utc>::MAX_UTC));
        };
        loop {
            if let Some((s, e)) = self.queue.pop_front() {
                let s = s.max(self.from);
                if s < e {
                    self.from = e;
                    return Some((s, e));
                }
                continue;
            }
            if self.left == 0 {
                return None;
            }
            self.left -= 1;
            self.queue.extend(hours.day_spans(self.date));
            self.date = self.date.succ_opt()?;
        }
    }
}
