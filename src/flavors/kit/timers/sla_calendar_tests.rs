//! SLA clocks paused and resumed on calendars, driven by a manual clock.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

use super::{Calendar, Clock, Interval, ManualClock, SlaClock, WorkingHours};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn h(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

fn office() -> Calendar {
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let iv = Interval::parse("09:00", "17:00").unwrap();
    let hours = WorkingHours::new(Tz::Europe__Berlin, days.map(|d| (d, iv)), []).unwrap();
    Calendar::BusinessHours(hours)
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn pause_spanning_a_weekend_in_business_hours() {
    // Fri 2026-12-11 10:00 CET, 8h budget: due Mon 10:00 CET.
    let clock = ManualClock::new(at("2026-12-11T09:00:00Z"));
    let mut sla = SlaClock::start(clock.now(), h(8), office());
    assert_eq!(sla.due(), Some(at("2026-12-14T09:00:00Z")));
    // Waiting on the customer from Fri 16:00 to Mon 10:00 CET.
    clock.advance(6 * HOUR);
    sla.pause(clock.now());
    assert!(sla.is_paused());
    assert_eq!(sla.due(), None);
    assert_eq!(sla.elapsed(clock.now()), h(6));
    clock.advance(66 * HOUR);
    assert_eq!(sla.elapsed(clock.now()), h(6), "paused time does not count");
    sla.resume(clock.now());
    // The pause covered Fri 16–17 and Mon 09–10: two business hours, the
    // weekend none. Due Mon 12:00 CET instead of 10:00.
    assert_eq!(sla.due(), Some(at("2026-12-14T11:00:00Z")));
    clock.advance(HOUR);
    assert_eq!(sla.elapsed(clock.now()), h(7));
    assert_eq!(sla.remaining(clock.now()), h(1));
}

#[test]
fn pause_over_the_closed_weekend_moves_nothing() {
    let clock = ManualClock::new(at("2026-12-11T09:00:00Z"));
    let mut sla = SlaClock::start(clock.now(), h(8), office());
    let due = sla.due();
    clock.set(at("2026-12-11T16:30:00Z")); // Fri 17:30 CET, closed
    sla.pause(clock.now());
    clock.set(at("2026-12-14T07:00:00Z")); // Mon 08:00 CET, still closed
    sla.resume(clock.now());
    assert_eq!(sla.due(), due);
}

#[test]
fn pause_spanning_a_weekend_round_the_clock() {
    let clock = ManualClock::new(at("2026-12-11T09:00:00Z"));
    let mut sla = SlaClock::start(clock.now(), h(8), Calendar::Always);
    assert_eq!(sla.due(), Some(at("2026-12-11T17:00:00Z")));
    clock.advance(6 * HOUR); // Fri 15:00Z
    sla.pause(clock.now());
    clock.set(at("2026-12-14T09:00:00Z")); // Mon: 66h later
    sla.resume(clock.now());
    assert_eq!(sla.due(), Some(at("2026-12-11T17:00:00Z") + h(66)));
    assert_eq!(sla.elapsed(at("2026-12-14T10:00:00Z")), h(7));
}

#[test]
fn repeated_and_late_changes_are_harmless() {
    let clock = ManualClock::new(at("2026-12-07T09:00:00Z"));
    let mut sla = SlaClock::start(clock.now(), h(4), office());
    let due = sla.due();
    sla.resume(clock.now() + h(1)); // running: nothing to resume
    assert_eq!(sla.due(), due);
    clock.advance(2 * HOUR);
    sla.pause(clock.now());
    sla.pause(clock.now() + h(1)); // paused already
    assert_eq!(sla.elapsed(clock.now()), h(2));
    sla.resume(clock.now() - h(1)); // late: counts as the pause instant
    assert_eq!(sla.due(), due);
    // A spent budget is due at once on resuming.
    let mut spent = SlaClock::start(clock.now(), h(1), Calendar::Always);
    spent.pause(clock.now() + h(3));
    spent.resume(clock.now() + h(5));
    assert_eq!(spent.remaining(clock.now() + h(5)), -h(2));
    assert_eq!(spent.due(), Some(clock.now() + h(5)));
}

#[test]
fn a_clock_survives_its_timer_row() {
    let mut sla = SlaClock::start(at("2026-03-27T15:00:00Z"), h(8), office());
    sla.pause(at("2026-03-27T15:30:00Z"));
    let row = serde_json::to_string(&sla).unwrap();
    assert!(row.contains("Europe/Berlin"), "{row}");
    let back: SlaClock = serde_json::from_str(&row).unwrap();
    assert_eq!(back, sla);
    sla.resume(at("2026-03-30T07:00:00Z")); // Mon 09:00 CEST, after the change
    assert_eq!(sla.due(), Some(at("2026-03-30T14:30:00Z")));
    let bad = row.replace("Europe/Berlin", "Europe/Atlantis");
    assert!(serde_json::from_str::<SlaClock>(&bad).is_err());
    // Stored hours are checked again: a closed week or an empty interval.
    let closed = serde_json::json!({"business_hours": {"tz": "UTC",
        "week": [[], [], [], [], [], [], []], "holidays": []}});
    assert!(serde_json::from_value::<Calendar>(closed).is_err());
    let empty = serde_json::json!({"business_hours": {"tz": "UTC",
        "week": [[{"open": 600, "close": 60}], [], [], [], [], [], []], "holidays": []}});
    assert!(serde_json::from_value::<Calendar>(empty).is_err());
    let fine = serde_json::json!({"business_hours": {"tz": "UTC",
        "week": [[{"open": 60, "close": 600}], [], [], [], [], [], []], "holidays": []}});
    assert!(serde_json::from_value::<Calendar>(fine).is_ok());
}
