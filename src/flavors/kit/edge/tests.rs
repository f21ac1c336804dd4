//! The pure decision, and the scenarios on SQLite.

use super::*;

fn row(version: i64, matched: bool, fired: i64) -> EdgeRow {
    EdgeRow {
        rule_version: "v1".into(),
        case_version: version,
        matched,
        fired,
        closed_at: None,
    }
}

fn obs(version: i64, matched: bool, fire: Fire) -> Observation<'static> {
    Observation {
        rule_id: "r",
        rule_version: "v1",
        case_id: "c",
        case_version: version,
        matched,
        closed_at: None,
        fire,
    }
}

#[test]
fn the_first_match_rises_and_fires_and_counts() {
    let (edge, new) = decide(None, &obs(3, true, Fire::OncePerCase));
    assert_eq!(edge, Edge::Rising { fire: true });
    assert_eq!(new, Some(row(3, true, 1)));
    let (edge, new) = decide(None, &obs(3, false, Fire::OncePerCase));
    assert_eq!(
        (edge, new),
        (Edge::Level { matched: false }, Some(row(3, false, 0)))
    );
}

#[test]
fn once_per_case_fires_only_the_first_rising_edge_and_every_fires_each() {
    let fell = row(5, false, 1);
    let (edge, new) = decide(Some(&fell), &obs(6, true, Fire::OncePerCase));
    assert_eq!(
        (edge, new.map(|r| r.fired)),
        (Edge::Rising { fire: false }, Some(1))
    );
    let (edge, new) = decide(Some(&fell), &obs(6, true, Fire::EveryRisingEdge));
    assert_eq!(
        (edge, new.map(|r| r.fired)),
        (Edge::Rising { fire: true }, Some(2))
    );
}

#[test]
fn an_observation_not_newer_than_the_stored_one_changes_nothing() {
    let stored = row(5, true, 1);
    for version in [5, 4, 1] {
        let (edge, new) = decide(Some(&stored), &obs(version, false, Fire::OncePerCase));
        assert_eq!((edge, new), (Edge::Stale, None), "version {version}");
    }
}

#[test]
fn a_row_of_another_rule_version_counts_as_absent() {
    let old = EdgeRow {
        rule_version: "v0".into(),
        ..row(9, true, 1)
    };
    let (edge, new) = decide(Some(&old), &obs(2, true, Fire::OncePerCase));
    assert_eq!(edge, Edge::Rising { fire: true }, "a changed query resets");
    assert_eq!(
        new.map(|r| (r.rule_version, r.case_version)),
        Some(("v1".into(), 2))
    );
}

#[tokio::test]
async fn the_scenarios_hold_on_sqlite() {
    let (_dir, store) = crate::store::Store::temp_sqlite(1).await;
    scenarios::run(&store, "edge-test").await;
}
