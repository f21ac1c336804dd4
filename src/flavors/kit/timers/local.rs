//! Local wall times to instants, by chrono-tz: a time in a gap becomes the
//! first valid instant after it, an ambiguous time the earlier instant.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// How far past a nonexistent local time the gap's end is looked for.
const MAX_GAP_SECS: i64 = 3 * 86_400;

/// The instant a local wall time names: a gap moves to the first valid
/// instant after it, an ambiguous time takes the earlier instant.
pub(super) fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => after_gap(tz, local),
    }
}

fn exists(tz: Tz, local: NaiveDateTime) -> bool {
    !matches!(tz.from_local_datetime(&local), LocalResult::None)
}

/// The first valid instant after the gap `local` lies in (the transition):
/// bracket the gap's end by doubling, then bisect to the second.
fn after_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let at = |secs: i64| local.checked_add_signed(TimeDelta::seconds(secs));
    let (mut lo, mut hi) = (0_i64, 60_i64);
    while !exists(tz, at(hi)?) {
        if hi > MAX_GAP_SECS {
            return None;
        }
        lo = hi;
        hi *= 2;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if exists(tz, at(mid)?) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    tz.from_local_datetime(&at(hi)?)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

pub(super) mod tz_name {
    use std::str::FromStr;

    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(tz: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
        let name = String::deserialize(d)?;
        chrono_tz::Tz::from_str(&name)
            .map_err(|_| D::Error::custom(format!("unknown time zone `{name}`")))
    }
}
