//! Deterministic ids of what a flavor produces.
//!
//! An event or command a flavor publishes gets its id from (flavor, the id
//! of the event that triggered it, purpose): a retried handler publishes the
//! same ids, which the consumers and the case service deduplicate. The id is
//! a UUIDv7 whose time is the trigger's `occurred_at` (ids stay
//! time-ordered) and whose random bits are a SHA-256 of the parts. A timer's
//! firing derives from the event that scheduled it, in the same way.

use sha2::{Digest, Sha256};

use crate::event::CaseEvent;

/// The id of what `flavor` produces from `trigger` for `purpose` (e.g.
/// `case.assign#0`, `sla.warning:ttfr`): the same inputs give the same id.
pub fn derive(flavor: &str, trigger: &CaseEvent, purpose: &str) -> String {
    from_parts(
        trigger.occurred_at_ms(),
        &[flavor, &trigger.event_id, purpose],
    )
}

/// A UUIDv7 at `at_ms` whose random bits are a digest of `parts`.
pub fn from_parts(at_ms: i64, parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let mut random = [0u8; 10];
    random.copy_from_slice(&digest[..10]);
    uuid::Builder::from_unix_timestamp_millis(at_ms.max(0) as u64, &random)
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(id: &str) -> CaseEvent {
        CaseEvent {
            event_id: id.into(),
            occurred_at: Some(crate::event::Timestamp {
                seconds: 1_700_000_000,
                nanos: 5_000_000,
            }),
            ..CaseEvent::default()
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_id_and_any_change_another() {
        let a = trigger("0190f000-0000-7000-8000-0000000000aa");
        let b = trigger("0190f000-0000-7000-8000-0000000000ab");
        let id = derive("rules", &a, "case.assign#0");
        assert_eq!(id, derive("rules", &a, "case.assign#0"));
        let others = [
            derive("routing", &a, "case.assign#0"),
            derive("rules", &b, "case.assign#0"),
            derive("rules", &a, "case.assign#1"),
        ];
        assert!(others.iter().all(|o| o != &id), "{id} {others:?}");
    }

    #[test]
    fn ids_are_uuid_v7_at_the_trigger_time() {
        let id = derive("rules", &trigger("x"), "p");
        let uuid = uuid::Uuid::parse_str(&id).expect("a UUID");
        assert_eq!(uuid.get_version_num(), 7);
        let (secs, _) = uuid.get_timestamp().expect("v7 time").to_unix();
        assert_eq!(secs, 1_700_000_000);
    }

    #[test]
    fn parts_are_separated_so_they_cannot_shift() {
        assert_ne!(from_parts(0, &["ab", "c"]), from_parts(0, &["a", "bc"]));
    }
}
