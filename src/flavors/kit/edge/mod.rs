//! Edge state per (rule, case): for flavors that act when a rule's query
//! *starts* (or stops) matching a case — paging's escalation queries,
//! incident escalation, automation rules with a condition (domain.md §C.3.7).
//!
//! A query is a state predicate over `case_after` (with `now` = the event's
//! `occurred_at`, so a replay fires what the original run fired); the edge
//! is the change of its value between case versions. [`decide`] is pure:
//! from the row as stored ([`EdgeRow`]) and one observation it says whether
//! this is a rising or falling edge, whether the rule fires, and the row to
//! write. [`Edges::observe`] runs it against `rule_edges` inside the
//! caller's transaction (the one that claims the event in the ledger), so
//! the edge and the firing commit together or not at all.
//!
//! - **Out of order**: an observation at a case version not newer than the
//!   stored one changes nothing and never fires (`Edge::Stale`); a
//!   redelivery is one too, besides the ledger.
//! - **Fire**: [`Fire::OncePerCase`] (the default) fires on the first rising
//!   edge of a (rule, case) only; [`Fire::EveryRisingEdge`] on each.
//! - **A changed query resets the state**: a row written under another rule
//!   version counts as absent, so a case that matches the new query is a
//!   rising edge (and fires again, even once-per-case).
//! - **Expiry**: rows of rules no longer defined, and of cases closed longer
//!   than `rules.edges_closed_ttl_days`, are deleted by [`Edges::expire`],
//!   which the app runs hourly for a flavor that reads rules.

pub mod scenarios;
mod store;

use sqlx::{AnyConnection, AnyPool};

use crate::store::now_ms;

pub use crate::rules::schema::Fire;

/// The stored state of one (rule, case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeRow {
    /// The rule's version (content hash) the state was computed under.
    pub rule_version: String,
    /// The newest case version observed.
    pub case_version: i64,
    /// Whether the query matched at that version.
    pub matched: bool,
    /// How often the rule fired for the case (under this rule version).
    pub fired: i64,
    /// When the case closed (Unix ms), if it is closed.
    pub closed_at: Option<i64>,
}

/// One evaluation of a rule's query against a case version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation<'a> {
    pub rule_id: &'a str,
    pub rule_version: &'a str,
    pub case_id: &'a str,
    /// The case's `aggregate_version` the query saw.
    pub case_version: i64,
    /// The query's value on that version.
    pub matched: bool,
    /// The case is closed at that version (Unix ms of the event), for expiry.
    pub closed_at: Option<i64>,
    pub fire: Fire,
}

/// What an observation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// Started matching; `fire` says whether the rule acts now.
    Rising { fire: bool },
    /// Stopped matching.
    Falling,
    /// Unchanged (`matched` is the level).
    Level { matched: bool },
    /// Not newer than the stored version: nothing changes, nothing fires.
    Stale,
}

impl Edge {
    /// Whether the rule acts on this observation.
    pub fn fires(self) -> bool {
        matches!(self, Edge::Rising { fire: true })
    }
}

/// The edge of `obs` against the stored row, and the row to write (none
/// for a stale observation).
pub fn decide(stored: Option<&EdgeRow>, obs: &Observation<'_>) -> (Edge, Option<EdgeRow>) {
    let current = stored.filter(|r| r.rule_version == obs.rule_version);
    if current.is_some_and(|r| r.case_version >= obs.case_version) {
        return (Edge::Stale, None);
    }
    let (was, fired) = current.map_or((false, 0), |r| (r.matched, r.fired));
    let edge = match (was, obs.matched) {
        (false, true) => Edge::Rising {
            fire: obs.fire == Fire::EveryRisingEdge || fired == 0,
        },
        (true, false) => Edge::Falling,
        (_, matched) => Edge::Level { matched },
    };
    let row = EdgeRow {
        rule_version: obs.rule_version.to_string(),
        case_version: obs.case_version,
        matched: obs.matched,
        fired: fired + i64::from(edge.fires()),
        closed_at: obs.closed_at,
    };
    (edge, Some(row))
}

/// The edge state of one flavor.
#[derive(Debug, Clone)]
pub struct Edges {
    flavor: &'static str,
}

impl Edges {
    /// The edge state `flavor` keeps.
    pub fn new(flavor: &'static str) -> Self {
        Self { flavor }
    }

    /// Decides the edge of `obs` and writes the new state, inside the
    /// caller's transaction (`conn`: the ledger claim's).
    pub async fn observe(
        &self,
        conn: &mut AnyConnection,
        obs: &Observation<'_>,
    ) -> Result<Edge, sqlx::Error> {
        let stored = store::load(conn, self.flavor, obs.rule_id, obs.case_id).await?;
        let (edge, row) = decide(stored.as_ref(), obs);
        if let Some(row) = row {
            store::save(conn, self.flavor, obs, &row, now_ms()).await?;
        }
        Ok(edge)
    }

    /// Deletes the rows of rules not in `rules` and of cases closed before
    /// `closed_before_ms`; returns how many went.
    pub async fn expire(
        &self,
        pool: &AnyPool,
        rules: &[&str],
        closed_before_ms: i64,
    ) -> Result<u64, sqlx::Error> {
        store::expire(pool, self.flavor, rules, closed_before_ms).await
    }
}

#[cfg(test)]
mod tests;
