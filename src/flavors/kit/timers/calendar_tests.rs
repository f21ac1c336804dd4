//! Calendars across DST changes, holidays, weekends and zones.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::{Calendar, CalendarError, Interval, WorkingHours};
use crate::rules::schema::BusinessHours as HoursConfig;

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];
const ALL_DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn h(n: i64) -> TimeDelta {
    TimeDelta::hours(n)
}

fn m(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

fn hours(tz: Tz, days: &[Weekday], spans: &[(&str, &str)], holidays: &[&str]) -> Calendar {
    let open = days.iter().flat_map(|d| {
        spans
            .iter()
            .map(|(o, c)| (*d, Interval::parse(o, c).unwrap()))
    });
    let holidays = holidays.iter().map(|d| d.parse::<NaiveDate>().unwrap());
    Calendar::BusinessHours(WorkingHours::new(tz, open, holidays).unwrap())
}

fn berlin_office() -> Calendar {
    hours(Tz::Europe__Berlin, &WEEKDAYS, &[("09:00", "17:00")], &[])
}

fn berlin_night() -> Calendar {
    hours(Tz::Europe__Berlin, &ALL_DAYS, &[("00:00", "04:00")], &[])
}

#[test]
fn spring_forward_berlin_loses_the_skipped_hour() {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
    let cal = berlin_night();
    let open = at("2026-03-28T23:00:00Z"); // 00:00 CET
    assert_eq!(cal.next_open(at("2026-03-28T20:00:00Z")), Some(open));
    // 00:00 CET – 04:00 CEST is three hours, not four.
    assert_eq!(cal.business_between(open, at("2026-03-29T12:00:00Z")), h(3));
    assert_eq!(cal.add_business(open, h(3)), at("2026-03-29T02:00:00Z"));
    // Half an hour more spills into the next night (00:00 CEST = 22:00Z).
    assert_eq!(
        cal.add_business(open, h(3) + m(30)),
        at("2026-03-29T22:30:00Z")
    );
    // The day before is a normal four hours.
    let before = at("2026-03-27T23:00:00Z");
    assert_eq!(cal.business_between(before, before + h(12)), h(4));
    assert!(!cal.is_open(at("2026-03-29T02:00:00Z")));
}

#[test]
fn spring_forward_opening_in_the_gap_moves_to_the_transition() {
    // 02:30 does not exist on 2026-03-29; it opens at 03:00 CEST (01:00Z).
    let cal = hours(Tz::Europe__Berlin, &ALL_DAYS, &[("02:30", "05:00")], &[]);
    let day = at("2026-03-28T23:00:00Z");
    assert_eq!(cal.next_open(day), Some(at("2026-03-29T01:00:00Z")));
    assert_eq!(cal.business_between(day, day + h(12)), h(2));
    // Closing in the gap: 00:00 CET – 02:30 (→ 03:00 CEST) is two hours.
    let cal = hours(Tz::Europe__Berlin, &ALL_DAYS, &[("00:00", "02:30")], &[]);
    assert_eq!(cal.business_between(day, day + h(12)), h(2));
    // Wholly in the gap: closed that day, open the next.
    let cal = hours(Tz::Europe__Berlin, &ALL_DAYS, &[("02:10", "02:50")], &[]);
    assert_eq!(cal.business_between(day, day + h(12)), TimeDelta::zero());
    assert_eq!(cal.next_open(day), Some(at("2026-03-30T00:10:00Z")));
}

#[test]
fn fall_back_berlin_gains_the_repeated_hour() {
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z).
    let cal = berlin_night();
    let open = at("2026-10-24T22:00:00Z"); // 00:00 CEST
                                           // 00:00 CEST – 04:00 CET is five hours.
    assert_eq!(cal.business_between(open, open + h(12)), h(5));
    assert_eq!(cal.add_business(open, h(5)), at("2026-10-25T03:00:00Z"));
    assert!(cal.is_open(at("2026-10-25T02:30:00Z")));
    // Spills into 00:00 CET (23:00Z) the next night.
    assert_eq!(
        cal.add_business(open, h(5) + m(30)),
        at("2026-10-25T23:30:00Z")
    );
}

#[test]
fn fall_back_ambiguous_times_take_the_earlier_instant() {
    let day = at("2026-10-24T22:00:00Z");
    // Opening at 02:30 is 02:30 CEST (00:30Z); closing at 05:00 CET (04:00Z).
    let cal = hours(Tz::Europe__Berlin, &ALL_DAYS, &[("02:30", "05:00")], &[]);
    assert_eq!(cal.next_open(day), Some(at("2026-10-25T00:30:00Z")));
    assert_eq!(cal.business_between(day, day + h(12)), h(3) + m(30));
    // Closing at 02:30 is 02:30 CEST too: the second 02:00–02:30 is closed.
    let cal = hours(Tz::Europe__Berlin, &ALL_DAYS, &[("00:00", "02:30")], &[]);
    assert_eq!(cal.business_between(day, day + h(12)), h(2) + m(30));
    assert!(!cal.is_open(at("2026-10-25T01:15:00Z")));
}

#[test]
fn round_the_clock_in_local_time_follows_the_day_length() {
    let cal = hours(Tz::Europe__Berlin, &ALL_DAYS, &[("00:00", "24:00")], &[]);
    let mar = at("2026-03-28T23:00:00Z");
    assert_eq!(cal.business_between(mar, at("2026-03-29T22:00:00Z")), h(23));
    assert_eq!(cal.add_business(mar, h(23)), at("2026-03-29T22:00:00Z"));
    let oct = at("2026-10-24T22:00:00Z");
    assert_eq!(cal.business_between(oct, at("2026-10-25T23:00:00Z")), h(25));
    assert_eq!(cal.add_business(oct, h(30)), at("2026-10-26T04:00:00Z"));
    assert!(cal.is_open(at("2026-10-25T01:30:00Z")));
}

#[test]
fn new_york_office_hours_across_both_changes() {
    let cal = hours(Tz::America__New_York, &WEEKDAYS, &[("09:00", "17:00")], &[]);
    // Fri 2026-03-06 16:00 EST + 2h → Mon 03-09 10:00 EDT (DST began Sun 03-08).
    let fri = at("2026-03-06T21:00:00Z");
    assert_eq!(cal.add_business(fri, h(2)), at("2026-03-09T14:00:00Z"));
    assert_eq!(cal.business_between(fri, at("2026-03-09T14:00:00Z")), h(2));
    // Fri 2026-10-30 16:00 EDT + 2h → Mon 11-02 10:00 EST (DST ended Sun 11-01).
    let fri = at("2026-10-30T20:00:00Z");
    assert_eq!(cal.add_business(fri, h(2)), at("2026-11-02T15:00:00Z"));
    // The night windows on the change days: 2h in March, 4h in November.
    let night = hours(Tz::America__New_York, &ALL_DAYS, &[("00:00", "03:00")], &[]);
    let mar = at("2026-03-08T05:00:00Z");
    assert_eq!(night.business_between(mar, mar + h(12)), h(2));
    let nov = at("2026-11-01T04:00:00Z");
    assert_eq!(night.business_between(nov, nov + h(12)), h(4));
}

#[test]
fn holidays_are_skipped() {
    let cfg = HoursConfig {
        timezone: "Europe/Berlin".into(),
        days: ["mon", "tue", "wed", "thu", "fri"].map(String::from).into(),
        start: "09:00".into(),
        end: "17:00".into(),
        holidays: vec!["2026-12-24".parse().unwrap(), "2026-12-25".parse().unwrap()],
    };
    let cal = Calendar::try_from(&cfg).unwrap();
    // Wed 12-23 16:00 CET + 2h: Thu and Fri are holidays → Mon 12-28 10:00 CET.
    let wed = at("2026-12-23T15:00:00Z");
    assert_eq!(cal.add_business(wed, h(2)), at("2026-12-28T09:00:00Z"));
    assert!(!cal.is_open(at("2026-12-24T10:00:00Z")));
    assert_eq!(cal.business_between(wed, at("2026-12-28T08:00:00Z")), h(1));
    // The same start without holidays lands on Thursday.
    assert_eq!(
        berlin_office().add_business(wed, h(2)),
        at("2026-12-24T09:00:00Z")
    );
}

#[test]
fn starting_outside_hours_waits_for_the_opening() {
    let cal = berlin_office();
    let sat = at("2026-12-05T12:00:00Z");
    assert!(!cal.is_open(sat));
    assert_eq!(cal.next_open(sat), Some(at("2026-12-07T08:00:00Z")));
    assert_eq!(cal.add_business(sat, h(1)), at("2026-12-07T09:00:00Z"));
    // Before opening and after closing on a weekday.
    assert_eq!(
        cal.add_business(at("2026-12-08T06:00:00Z"), h(1)),
        at("2026-12-08T09:00:00Z")
    );
    assert_eq!(
        cal.add_business(at("2026-12-07T17:00:00Z"), m(30)),
        at("2026-12-08T08:30:00Z")
    );
    // No work is due at once, even when closed.
    assert_eq!(cal.add_business(sat, TimeDelta::zero()), sat);
    assert_eq!(Calendar::Always.next_open(sat), Some(sat));
}

#[test]
fn budgets_span_several_days_and_split_intervals() {
    let cal = berlin_office();
    // Mon 12-07 10:00 CET + 20h: 7 + 8 + 5 → Wed 14:00 CET.
    let mon = at("2026-12-07T09:00:00Z");
    assert_eq!(cal.add_business(mon, h(20)), at("2026-12-09T13:00:00Z"));
    // Thu 12-10 10:00 CET + 20h: 7 + 8 + weekend + 5 → Mon 12-14 14:00 CET.
    let thu = at("2026-12-10T09:00:00Z");
    assert_eq!(cal.add_business(thu, h(20)), at("2026-12-14T13:00:00Z"));
    assert_eq!(Calendar::Always.add_business(thu, h(20)), thu + h(20));
    // Lunch break: 09–12 and 13–17 (overlapping pieces merge).
    let split = hours(
        Tz::Europe__Berlin,
        &WEEKDAYS,
        &[("09:00", "12:00"), ("13:00", "17:00"), ("10:00", "11:00")],
        &[],
    );
    assert_eq!(
        split.add_business(at("2026-12-07T10:00:00Z"), h(2)),
        at("2026-12-07T13:00:00Z")
    );
    assert_eq!(split.business_between(mon, mon + h(8)), h(6));
    assert_eq!(split.business_between(mon, mon + h(24)), h(7));
}

#[test]
fn rules_calendars_build_or_say_why_not() {
    let cfg = |tz: &str, days: &[&str], start: &str, end: &str| HoursConfig {
        timezone: tz.into(),
        days: days.iter().map(|d| d.to_string()).collect(),
        start: start.into(),
        end: end.into(),
        holidays: Vec::new(),
    };
    let bad = |c: HoursConfig| Calendar::try_from(&c).unwrap_err();
    assert_eq!(
        bad(cfg("Mars/Olympus", &["mon"], "09:00", "17:00")),
        CalendarError::TimeZone("Mars/Olympus".into())
    );
    assert_eq!(
        bad(cfg("UTC", &["funday"], "09:00", "17:00")),
        CalendarError::Day("funday".into())
    );
    assert_eq!(
        bad(cfg("UTC", &["mon"], "9am", "17:00")),
        CalendarError::Time("9am".into())
    );
    assert!(matches!(
        bad(cfg("UTC", &["mon"], "09:00", "09:00")),
        CalendarError::Empty { .. }
    ));
    assert_eq!(
        bad(cfg("UTC", &[], "09:00", "17:00")),
        CalendarError::NeverOpen
    );
    assert_eq!(Calendar::from_policy(None).unwrap(), Calendar::Always);
    // A night shift runs past midnight: Fri 22:00 – Sat 06:00.
    let night = Calendar::try_from(&cfg("UTC", &["fri"], "22:00", "06:00")).unwrap();
    let fri = at("2026-12-11T21:00:00Z");
    assert_eq!(night.add_business(fri, h(8)), at("2026-12-12T06:00:00Z"));
    assert_eq!(night.add_business(fri, h(9)), at("2026-12-18T23:00:00Z"));
}

fn calendars() -> Vec<Calendar> {
    vec![
        Calendar::Always,
        hours(
            Tz::Europe__Berlin,
            &WEEKDAYS,
            &[("09:00", "12:00"), ("13:00", "17:30")],
            &["2026-03-30", "2026-10-26", "2026-12-25"],
        ),
        berlin_night(),
        hours(Tz::America__New_York, &ALL_DAYS, &[("01:30", "02:30")], &[]),
        hours(Tz::Europe__Berlin, &ALL_DAYS, &[("00:00", "24:00")], &[]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// `business_between` undoes `add_business`, and the result is never
    /// earlier than the start; seeded over 2026 (both DST changes included).
    #[test]
    fn business_between_inverts_add_business(
        start_secs in 0_i64..(365 * 86_400),
        work_mins in 0_i64..(80 * 60),
        which in 0_usize..5,
    ) {
        let cal = &calendars()[which];
        let start = at("2026-01-01T00:00:00Z") + TimeDelta::seconds(start_secs);
        let work = m(work_mins);
        let due = cal.add_business(start, work);
        prop_assert!(due >= start);
        prop_assert_eq!(cal.business_between(start, due), work);
        if work > TimeDelta::zero() {
            // Not a minute earlier would do.
            prop_assert!(cal.business_between(start, due - m(1)) < work);
        }
    }
}

#[test]
fn a_whole_missing_day_is_one_gap() {
    // Samoa skipped 2011-12-30: 23:59:59 on the 29th (-10) → 00:00 on the 31st (+14).
    let cal = hours(Tz::Pacific__Apia, &ALL_DAYS, &[("00:00", "24:00")], &[]);
    let dec29 = at("2011-12-29T10:00:00Z");
    assert_eq!(
        cal.business_between(dec29, at("2011-12-30T10:00:00Z")),
        h(24)
    );
    assert_eq!(cal.add_business(dec29, h(25)), at("2011-12-30T11:00:00Z"));
    let noon = hours(Tz::Pacific__Apia, &ALL_DAYS, &[("12:00", "13:00")], &[]);
    assert_eq!(
        noon.next_open(at("2011-12-29T23:30:00Z")),
        Some(at("2011-12-30T22:00:00Z"))
    );
}
