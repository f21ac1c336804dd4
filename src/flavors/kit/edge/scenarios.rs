//! The edge-state scenarios every backend must pass, run against a real
//! store (SQLite in the unit tests, PostgreSQL in `tests/it`): rising and
//! falling edges, once-per-case and every-rising-edge firing, a redelivery,
//! a late older version, a changed rule, expiry. Panics on the first
//! difference, naming the step.
#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failure is a panic that names the step"
)]

use super::{Edge, Edges, Fire, Observation};
use crate::store::Store;

/// One step: (rule, rule version, case, case version, matched, closed at).
type Step = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    bool,
    Option<i64>,
);

/// Runs every scenario against `store` under flavor `flavor`.
pub async fn run(store: &Store, flavor: &'static str) {
    let edges = Edges::new(flavor);
    let once = |s: Step| obs(s, Fire::OncePerCase);
    let every = |s: Step| obs(s, Fire::EveryRisingEdge);
    let r = Edge::Rising { fire: true };
    let quiet = Edge::Rising { fire: false };
    let steps: Vec<(&str, Observation<'static>, Edge)> = vec![
        (
            "no match yet",
            once(("r1", "v1", "c1", 1, false, None)),
            level(false),
        ),
        (
            "starts matching: fires",
            once(("r1", "v1", "c1", 2, true, None)),
            r,
        ),
        (
            "still matching",
            once(("r1", "v1", "c1", 3, true, None)),
            level(true),
        ),
        (
            "redelivery of v3",
            once(("r1", "v1", "c1", 3, true, None)),
            Edge::Stale,
        ),
        (
            "late older version",
            once(("r1", "v1", "c1", 1, false, None)),
            Edge::Stale,
        ),
        (
            "stops matching",
            once(("r1", "v1", "c1", 4, false, None)),
            Edge::Falling,
        ),
        (
            "matches again: once per case",
            once(("r1", "v1", "c1", 5, true, None)),
            quiet,
        ),
        (
            "another case, same rule",
            once(("r1", "v1", "c2", 1, true, None)),
            r,
        ),
        (
            "every edge: first",
            every(("r2", "v1", "c1", 1, true, None)),
            r,
        ),
        (
            "every edge: falls",
            every(("r2", "v1", "c1", 2, false, None)),
            Edge::Falling,
        ),
        (
            "every edge: rises again",
            every(("r2", "v1", "c1", 3, true, None)),
            r,
        ),
        (
            "a changed query resets",
            once(("r1", "v2", "c1", 6, true, None)),
            r,
        ),
        (
            "closed, under the new query",
            once(("r1", "v2", "c2", 2, false, Some(1_000))),
            level(false),
        ),
    ];
    for (what, o, want) in &steps {
        let mut tx = store.pool().begin().await.expect("begin");
        let got = edges.observe(&mut tx, o).await.expect(what);
        tx.commit().await.expect("commit");
        assert_eq!(got, *want, "{what}");
    }
    // A rolled-back transaction leaves no trace: the firing and its edge
    // commit together or not at all.
    let mut tx = store.pool().begin().await.expect("begin");
    let o = once(("r3", "v1", "c1", 1, true, None));
    assert!(edges.observe(&mut tx, &o).await.expect("observe").fires());
    tx.rollback().await.expect("rollback");
    let mut tx = store.pool().begin().await.expect("begin");
    assert!(
        edges.observe(&mut tx, &o).await.expect("again").fires(),
        "rolled back"
    );
    tx.commit().await.expect("commit");
    // Expiry: closed before 2,000 (r1/c2) and rules no longer defined (r3).
    let gone = edges.expire(store.pool(), &["r1", "r2"], 2_000).await;
    assert_eq!(gone.expect("expire"), 2, "r1/c2 closed, r3 undefined");
    let mut tx = store.pool().begin().await.expect("begin");
    let kept = edges
        .observe(&mut tx, &once(("r2", "v1", "c1", 3, true, None)))
        .await;
    assert_eq!(kept.expect("kept"), Edge::Stale, "r2/c1 kept");
    let other = Edges::new("another-flavor");
    let theirs = other
        .observe(&mut tx, &once(("r2", "v1", "c1", 1, true, None)))
        .await;
    assert!(theirs.expect("theirs").fires(), "state is per flavor");
    tx.commit().await.expect("commit");
}

fn level(matched: bool) -> Edge {
    Edge::Level { matched }
}

fn obs(s: Step, fire: Fire) -> Observation<'static> {
    let (rule_id, rule_version, case_id, case_version, matched, closed_at) = s;
    Observation {
        rule_id,
        rule_version,
        case_id,
        case_version,
        matched,
        closed_at,
        fire,
    }
}
