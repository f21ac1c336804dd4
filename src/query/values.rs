//! Typed values of CQ: priority names, numbers and time expressions, with
//! their parsing and canonical spelling.

use std::fmt;

use chrono::{DateTime, NaiveDate, TimeDelta, Timelike, Utc};

use crate::event::pb::Priority;

/// Canonical names of the priorities a query can name.
const PRIORITY_NAMES: [(&str, Priority); 6] = [
    ("P1", Priority::P1),
    ("P2", Priority::P2),
    ("P3", Priority::P3),
    ("P4", Priority::P4),
    ("P5", Priority::P5),
    ("NOT_DEFINED", Priority::NotDefined),
];

/// Parses a priority name (`P1`…`P5`, `NOT_DEFINED`), case-insensitively.
pub(crate) fn parse_priority(s: &str) -> Option<Priority> {
    PRIORITY_NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|&(_, p)| p)
}

/// Canonical name of a priority; `PRIORITY_UNSPECIFIED` reads as `NOT_DEFINED`.
pub(crate) fn priority_name(p: Priority) -> &'static str {
    PRIORITY_NAMES
        .iter()
        .find(|&&(_, q)| q == p)
        .map_or("NOT_DEFINED", |&(name, _)| name)
}

/// Urgency rank for ordering (P1 = 5 … P5 = 1); `None` for `NOT_DEFINED`
/// and unspecified, which take part in no comparison.
pub(crate) fn urgency(p: Priority) -> Option<u8> {
    match p {
        Priority::P1 => Some(5),
        Priority::P2 => Some(4),
        Priority::P3 => Some(3),
        Priority::P4 => Some(2),
        Priority::P5 => Some(1),
        Priority::Unspecified | Priority::NotDefined => None,
    }
}

/// Parses a finite number written as in JSON: `-?digits(.digits)?(e[+-]?digits)?`
/// (`3`, `-2.5`, `1e3`; not `.5`, `+1`, `inf`).
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa
        .strip_prefix('-')
        .unwrap_or(mantissa)
        .split_once('.')
    {
        Some((int, frac)) => (int, Some(frac)),
        None => (mantissa.strip_prefix('-').unwrap_or(mantissa), None),
    };
    let exp_digits = exponent.map(|e| e.strip_prefix(['+', '-']).unwrap_or(e));
    let well_formed =
        all_digits(int) && frac.is_none_or(all_digits) && exp_digits.is_none_or(all_digits);
    well_formed
        .then(|| s.parse::<f64>().ok())
        .flatten()
        .filter(|n| n.is_finite())
}

/// Non-empty and ASCII digits only.
fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A number in the shorter of plain and scientific notation; both re-parse
/// to the same value.
pub(crate) fn fmt_number(n: f64) -> String {
    let plain = format!("{n}");
    let sci = format!("{n:e}");
    if sci.len() < plain.len() {
        sci
    } else {
        plain
    }
}

/// Unit of a relative time offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `m`
    Minutes,
    /// `h`
    Hours,
    /// `d`
    Days,
}

impl TimeUnit {
    fn suffix(self) -> char {
        match self {
            Self::Minutes => 'm',
            Self::Hours => 'h',
            Self::Days => 'd',
        }
    }

    fn from_suffix(c: char) -> Option<Self> {
        match c {
            'm' => Some(Self::Minutes),
            'h' => Some(Self::Hours),
            'd' => Some(Self::Days),
            _ => None,
        }
    }

    fn delta(self, amount: i64) -> Option<TimeDelta> {
        match self {
            Self::Minutes => TimeDelta::try_minutes(amount),
            Self::Hours => TimeDelta::try_hours(amount),
            Self::Days => TimeDelta::try_days(amount),
        }
    }
}

/// Largest `<n>` accepted in `now-<n><unit>` (about 2,700 years in days).
const MAX_OFFSET: i64 = 1_000_000;

/// A point in time as written in a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeValue {
    /// `YYYY-MM-DD`: a calendar day (UTC); compares at day granularity.
    Date(NaiveDate),
    /// RFC 3339 (`2024-05-01T10:00:00Z`, or without zone = UTC).
    Instant(DateTime<Utc>),
    /// `now`, `now-<n><unit>` or `now+<n><unit>`, relative to the `now`
    /// passed to evaluation. `offset` 0 is always stored with `Minutes`.
    Now {
        /// Signed amount of `unit`s added to `now`.
        offset: i64,
        /// Unit of `offset`.
        unit: TimeUnit,
    },
}

/// A [`TimeValue`] resolved against `now`: a day or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved {
    Day(NaiveDate),
    At(DateTime<Utc>),
}

impl Resolved {
    /// Calendar day (UTC) of the point.
    pub(crate) fn day(self) -> NaiveDate {
        match self {
            Self::Day(d) => d,
            Self::At(t) => t.date_naive(),
        }
    }
}

impl TimeValue {
    /// Parses `YYYY-MM-DD`, RFC 3339 (with a zone: `Z` or `±hh:mm`) or
    /// `now[±<n>{m,h,d}]`.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        if let Some(rest) = s.strip_prefix("now") {
            return Self::parse_relative(rest);
        }
        let b = s.as_bytes();
        // Exactly `YYYY-MM-DD`: chrono's `%Y` alone would also take a signed
        // or short year ("-024-05-01"), which prints back as another text.
        let date_shape = |(i, c): (usize, &u8)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        };
        if b.len() == 10 && b.iter().enumerate().all(date_shape) {
            return NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(Self::Date);
        }
        let t = DateTime::parse_from_rfc3339(s).ok()?;
        Some(Self::Instant(t.with_timezone(&Utc)))
    }

    /// Parses what follows `now`: empty, or `-<n><unit>` / `+<n><unit>`.
    fn parse_relative(rest: &str) -> Option<Self> {
        if rest.is_empty() {
            return Some(Self::now(0, TimeUnit::Minutes));
        }
        let sign = match rest.chars().next()? {
            '-' => -1,
            '+' => 1,
            _ => return None,
        };
        let unit = TimeUnit::from_suffix(rest.chars().last()?)?;
        let digits = &rest[1..rest.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let amount: i64 = digits.parse().ok().filter(|&n| n <= MAX_OFFSET)?;
        Some(Self::now(sign * amount, unit))
    }

    /// `now` plus `offset` `unit`s, normalised so that 0 has one spelling.
    fn now(offset: i64, unit: TimeUnit) -> Self {
        let unit = if offset == 0 { TimeUnit::Minutes } else { unit };
        Self::Now { offset, unit }
    }

    /// Whether the value depends on `now`.
    pub(crate) fn is_relative(self) -> bool {
        matches!(self, Self::Now { .. })
    }

    /// The day or instant this value denotes at `now`; `None` on overflow.
    pub(crate) fn resolve(self, now: DateTime<Utc>) -> Option<Resolved> {
        match self {
            Self::Date(d) => Some(Resolved::Day(d)),
            Self::Instant(t) => Some(Resolved::At(t)),
            Self::Now { offset, unit } => now
                .checked_add_signed(unit.delta(offset)?)
                .map(Resolved::At),
        }
    }
}

impl fmt::Display for TimeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Self::Instant(t) => fmt_instant(t, f),
            Self::Now { offset: 0, .. } => f.write_str("now"),
            Self::Now { offset, unit } => {
                let sign = if offset < 0 { '-' } else { '+' };
                write!(f, "now{sign}{}{}", offset.unsigned_abs(), unit.suffix())
            }
        }
    }
}

/// RFC 3339 in UTC with `Z`, and only the fraction digits that are needed.
fn fmt_instant(t: DateTime<Utc>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S"))?;
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        write!(f, ".{}", digits.trim_end_matches('0'))?;
    }
    f.write_str("Z")
}
