//! Time fields: ISO and relative (`now-<n>{m,h,d}`) values, day granularity,
//! ranges, and purity (the answer depends only on the `now` passed in).

use super::*;

/// The fixture (created 2024-05-01T10:00Z), due 2024-05-09, closed 2024-05-10T11:30Z.
fn closed() -> CaseSnapshot {
    with(|c| {
        c.due_date = Some("2024-05-09".into());
        c.closed_at = ts("2024-05-10T11:30:00Z");
        c.modified_at = ts("2024-05-10T11:30:00Z");
    })
}

#[test]
fn iso_instants_compare_exactly() {
    let c = case(); // created 2024-05-01T10:00:00Z
    yes(
        &c,
        &[
            "created_at:>=2024-05-01T10:00:00Z",
            "created_at:<2024-05-01T10:00:01Z",
            "created_at:2024-05-01T10:00:00Z",
        ],
    );
    yes(
        &c,
        &[
            "created_at:>2024-05-01T11:00:00+02:00",
            "created_at:2024-05-01T12:00:00+02:00",
        ],
    );
    yes(
        &c,
        &[
            "created_at:2024-05-01T10:00:00.000Z",
            "created_at:2024-05-01t10:00:00z",
        ],
    );
    no(
        &c,
        &[
            "created_at:>2024-05-01T10:00:00Z",
            "created_at:<2024-05-01T10:00:00Z",
            "created_at:2024-05-01T10:00:01Z",
        ],
    );
}

#[test]
fn dates_compare_by_utc_day() {
    let c = case(); // created 2024-05-01T10:00:00Z
    yes(
        &c,
        &[
            "created_at:2024-05-01",
            "created_at:<=2024-05-01",
            "created_at:>=2024-05-01",
            "created_at:>2024-04-30",
        ],
    );
    yes(
        &c,
        &[
            "created_at:[2024-05-01 TO 2024-05-01]",
            "created_at:[2024-04-01 TO 2024-05-31]",
        ],
    );
    no(
        &c,
        &[
            "created_at:>2024-05-01",
            "created_at:<2024-05-01",
            "created_at:2024-05-02",
        ],
    );
}

#[test]
fn relative_times_are_taken_from_the_given_now() {
    let c = case(); // created 9 days 2 hours before now()
    yes(
        &c,
        &[
            "created_at:<now-9d",
            "created_at:>now-10d",
            "created_at:<now-217h",
            "created_at:>now-219h",
        ],
    );
    yes(
        &c,
        &[
            "created_at:<now",
            "created_at:[now-10d TO now-9d]",
            "created_at:[now-9d TO now-10d]",
        ],
    );
    yes(
        &c,
        &[
            "created_at:>now-13081m",
            "created_at:<now-13079m",
            "created_at:<now+1m",
        ],
    );
    no(
        &c,
        &[
            "created_at:>now-9d",
            "created_at:<now-10d",
            "created_at:>now",
            "created_at:[now-1d TO now]",
        ],
    );
    let q = parse("created_at:>now-7d");
    assert!(!q.matches(&c, now()));
    assert!(q.matches(&c, at("2024-05-07T12:00:00Z")));
    assert!(!q.matches(&c, at("2024-05-08T10:00:01Z")));
}

#[test]
fn now_plus_reaches_into_the_future() {
    let c = closed(); // due 2024-05-09, now 2024-05-10
    yes(
        &c,
        &[
            "due_date:<now",
            "due_date:<now+1d",
            "due_date:now-1d",
            "due_date:>now-2d",
        ],
    );
    no(&c, &["due_date:>=now", "due_date:now", "due_date:>now+3d"]);
}

#[test]
fn due_date_compares_as_a_day() {
    let c = closed(); // due 2024-05-09
    yes(
        &c,
        &[
            "due_date:2024-05-09",
            "due_date:<=2024-05-09",
            "due_date:<2024-05-10T00:00:00Z",
            "due_date:*",
        ],
    );
    yes(
        &c,
        &[
            "due_date:2024-05-09T23:59:59Z",
            "due_date:[2024-05-01 TO 2024-05-31]",
            "due_date:[now-1d TO now]",
        ],
    );
    no(
        &c,
        &[
            "due_date:<2024-05-09",
            "due_date:>2024-05-09",
            "due_date:2024-05-08T23:59:59Z",
        ],
    );
    no(
        &case(),
        &["due_date:*", "due_date:<now", "due_date:>2000-01-01"],
    );
    let junk = with(|c| c.due_date = Some("soon".into()));
    yes(&junk, &["due_date:*"]);
    no(&junk, &["due_date:<now", "due_date:>now"]);
}

#[test]
fn missing_times_fail_comparisons() {
    let c = case(); // not closed, not modified
    no(
        &c,
        &[
            "closed_at:<now",
            "closed_at:>2000-01-01",
            "closed_at:[* TO *]",
            "modified_at:*",
        ],
    );
    yes(
        &closed(),
        &[
            "closed_at:>now-1h",
            "closed_at:*",
            "modified_at:[now-1h TO now]",
        ],
    );
}

#[test]
fn open_ranges_bound_one_side() {
    let c = case();
    yes(
        &c,
        &[
            "created_at:[* TO now]",
            "created_at:[2024-05-01 TO *]",
            "created_at:[* TO *]",
        ],
    );
    no(
        &c,
        &["created_at:[* TO 2024-04-30]", "created_at:[now-1d TO *]"],
    );
}

#[test]
fn overflowing_relative_times_match_nothing() {
    let q = parse("created_at:>now-1000000d");
    assert!(q.matches(&case(), now()));
    let far = DateTime::<Utc>::MIN_UTC;
    assert!(!q.matches(&case(), far));
    assert!(parse("-created_at:>now-1000000d").matches(&case(), far));
}
