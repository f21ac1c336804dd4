//! `google.protobuf.Timestamp` with the proto3 JSON mapping: RFC 3339 in
//! UTC with a `Z` and 0, 3, 6 or 9 fractional digits
//! (`2026-12-04T00:10:31.133Z`); any offset is accepted on input. The
//! generated types use this one (build.rs `extern_path`); pbjson-types'
//! own writes `+00:00`, which the mapping does not allow.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time: seconds since the Unix epoch and nanoseconds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Message)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Non-negative fraction of a second, in nanoseconds (0..=999,999,999).
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// The proto3 JSON range: 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

impl Timestamp {
    /// As a UTC date-time, if within the proto3 JSON range.
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        if !(MIN_SECONDS..=MAX_SECONDS).contains(&self.seconds) {
            return None;
        }
        DateTime::from_timestamp(self.seconds, u32::try_from(self.nanos).ok()?)
            .filter(|_| self.nanos < 1_000_000_000)
    }

    /// The proto3 JSON text, if within range.
    pub fn to_json_string(self) -> Option<String> {
        let at = self.to_datetime()?;
        let digits = match self.nanos {
            0 => SecondsFormat::Secs,
            n if n % 1_000_000 == 0 => SecondsFormat::Millis,
            n if n % 1_000 == 0 => SecondsFormat::Micros,
            _ => SecondsFormat::Nanos,
        };
        Some(at.to_rfc3339_opts(digits, true))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Self {
        Self {
            seconds: at.timestamp(),
            nanos: at.timestamp_subsec_nanos() as i32,
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.to_json_string().ok_or_else(|| {
            serde::ser::Error::custom(format!(
                "timestamp {}s {}ns is outside 0001-01-01..9999-12-31 or has invalid nanos",
                self.seconds, self.nanos
            ))
        })?;
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TimestampVisitor)
    }
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp such as 2026-12-04T00:10:31.133Z")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
        let at = DateTime::parse_from_rfc3339(s)
            .map_err(|e| E::custom(format!("timestamp `{s}`: {e}")))?;
        let ts = Timestamp::from(at.with_timezone(&Utc));
        match ts.to_datetime() {
            Some(_) => Ok(ts),
            None => Err(E::custom(format!("timestamp `{s}` is outside 0001..9999"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(seconds: i64, nanos: i32) -> String {
        serde_json::to_string(&Timestamp { seconds, nanos }).unwrap()
    }

    #[test]
    fn written_in_utc_with_z_and_0_3_6_or_9_fraction_digits() {
        assert_eq!(json(1_796_343_031, 0), "\"2026-12-04T00:10:31Z\"");
        assert_eq!(
            json(1_796_343_031, 133_000_000),
            "\"2026-12-04T00:10:31.133Z\""
        );
        assert_eq!(
            json(1_796_343_031, 133_400_000),
            "\"2026-12-04T00:10:31.133400Z\""
        );
        assert_eq!(
            json(1_796_343_031, 133_400_001),
            "\"2026-12-04T00:10:31.133400001Z\""
        );
        assert_eq!(json(MIN_SECONDS, 0), "\"0001-01-01T00:00:00Z\"");
        assert_eq!(
            json(MAX_SECONDS, 999_999_999),
            "\"9999-12-31T23:59:59.999999999Z\""
        );
    }

    #[test]
    fn out_of_range_values_are_errors_not_strange_text() {
        for (s, n) in [
            (MAX_SECONDS + 1, 0),
            (MIN_SECONDS - 1, 0),
            (0, -1),
            (0, 1_000_000_000),
        ] {
            assert!(
                serde_json::to_string(&Timestamp {
                    seconds: s,
                    nanos: n
                })
                .is_err(),
                "{s} {n}"
            );
        }
    }

    #[test]
    fn any_offset_is_read_and_normalised_to_utc() {
        let read = |s: &str| serde_json::from_str::<Timestamp>(&format!("\"{s}\"")).unwrap();
        let utc = read("2026-12-04T00:10:31.133Z");
        assert_eq!(read("2026-12-04T01:10:31.133+01:00"), utc);
        assert_eq!(read("2026-12-04T00:10:31.133+00:00"), utc);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
        assert!(serde_json::from_str::<Timestamp>("1796256631").is_err());
    }
}
