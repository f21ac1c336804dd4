//! The fixed synthetic world a stream plays in: organisations with users and
//! projects, id and time helpers, and word lists for realistic text.

use crate::event::Timestamp;
use chrono::{DateTime, Days};
use rand::Rng;
use uuid::Builder;

use super::SynthSpec;

/// Built-in case types: (name, type id). Ids are stable across runs.
pub(super) const CASE_TYPES: &[(&str, &str)] = &[
    ("Standard", "0190a1b2-0000-7000-8000-000000000001"),
    ("Security", "0190a1b2-0000-7000-8000-000000000002"),
    ("Change Request", "0190a1b2-0000-7000-8000-000000000003"),
    ("Event Management", "0190a1b2-0000-7000-8000-000000000004"),
    ("Error Tracking", "0190a1b2-0000-7000-8000-000000000005"),
];

pub(super) const TEAMS: &[&str] = &[
    "payments", "platform", "security", "search", "mobile", "data",
];
pub(super) const SERVICES: &[&str] = &[
    "checkout-api",
    "auth-service",
    "search-indexer",
    "billing-worker",
    "web-frontend",
    "case-api",
];
pub(super) const ENVIRONMENTS: &[&str] = &["prod", "staging", "dev"];
pub(super) const REGIONS: &[&str] = &["us1", "eu1", "ap1"];
pub(super) const STATUS_IN_PROGRESS: &[&str] = &["In Progress", "Investigating"];
pub(super) const STATUS_CLOSED: &[&str] = &["Closed", "Resolved"];
pub(super) const RESOLVED_REASONS: &[&str] =
    &["FALSE_POSITIVE", "TRUE_POSITIVE", "BENIGN_POSITIVE"];
pub(super) const SYMPTOMS: &[&str] = &[
    "High error rate",
    "Database timeout",
    "Elevated p99 latency",
    "Disk usage above 90%",
    "Suspicious login burst",
    "Memory leak",
    "Certificate expiring",
    "Failed deployments",
];
pub(super) const COMMENTS: &[&str] = &[
    "Looking into it.",
    "Rolled back the last deploy, watching the graphs.",
    "Root cause looks like a **connection pool** exhaustion.",
    "Customer impact confirmed for `eu1`.",
    "Can someone from the owning team take a look?",
    "Fixed by raising the limit; monitoring for an hour.",
];
const PROJECT_KEYS: &[&str] = &[
    "SEC", "OPS", "PAY", "WEB", "DB", "NET", "APP", "DATA", "MOB", "INFRA",
];
const FIRST_NAMES: &[&str] = &[
    "Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen",
];

/// All organisations, plus every case id created so far (link targets).
pub(super) struct World {
    pub orgs: Vec<Org>,
    pub case_ids: Vec<String>,
}

/// One tenant.
pub(super) struct Org {
    pub id: String,
    pub users: Vec<User>,
    pub projects: Vec<Project>,
}

/// A person who acts on cases.
pub(super) struct User {
    pub id: String,
    pub name: String,
}

/// A project with its case-key sequence and settings version.
pub(super) struct Project {
    pub id: String,
    pub key: String,
    /// Jira project key when the project syncs to Jira.
    pub jira_key: Option<String>,
    pub settings_version: u64,
    next_seq: u64,
}

impl World {
    /// Builds the orgs, users and projects of `spec` (each count at least 1).
    pub fn new<R: Rng + ?Sized>(rng: &mut R, spec: &SynthSpec) -> Self {
        let mut project_no = 0;
        let orgs = (0..spec.orgs.max(1))
            .map(|_| {
                let users = (0..spec.users_per_org.max(1))
                    .map(|_| User {
                        id: uuid_v4(rng),
                        name: format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)),
                    })
                    .collect();
                let projects = (0..spec.projects_per_org.max(1))
                    .map(|_| {
                        project_no += 1;
                        Project::new(rng, project_no)
                    })
                    .collect();
                Org {
                    id: uuid_v4(rng),
                    users,
                    projects,
                }
            })
            .collect();
        Self {
            orgs,
            case_ids: Vec::new(),
        }
    }
}

impl Project {
    /// The `n`th project (1-based); keys are unique within a world.
    fn new<R: Rng + ?Sized>(rng: &mut R, n: usize) -> Self {
        let base = PROJECT_KEYS[(n - 1) % PROJECT_KEYS.len()];
        let key = match (n - 1) / PROJECT_KEYS.len() {
            0 => base.to_owned(),
            round => format!("{base}{}", round + 1),
        };
        Self {
            id: uuid_v4(rng),
            jira_key: rng.random_bool(0.5).then(|| format!("J{key}")),
            key,
            settings_version: 1,
            next_seq: 0,
        }
    }

    /// Allocates the next case key, `<KEY>-<seq>`.
    pub fn next_case_key(&mut self) -> String {
        self.next_seq += 1;
        format!("{}-{}", self.key, self.next_seq)
    }
}

/// A uniformly chosen element of a non-empty slice.
pub(super) fn pick<'a, R: Rng + ?Sized, T>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A random (version 4) UUID drawn from `rng`.
pub(super) fn uuid_v4<R: Rng + ?Sized>(rng: &mut R) -> String {
    Builder::from_random_bytes(rng.random())
        .into_uuid()
        .to_string()
}

/// A UUIDv7 for `millis` since the epoch, random bits drawn from `rng`.
pub(super) fn uuid_v7<R: Rng + ?Sized>(rng: &mut R, millis: i64) -> String {
    let millis = u64::try_from(millis).unwrap_or_default();
    Builder::from_unix_timestamp_millis(millis, &rng.random())
        .into_uuid()
        .to_string()
}

/// Protobuf timestamp of `millis` since the epoch.
pub(super) fn timestamp(millis: i64) -> Timestamp {
    Timestamp {
        seconds: millis.div_euclid(1000),
        // In 0..1e9, so the cast cannot truncate.
        nanos: (millis.rem_euclid(1000) * 1_000_000) as i32,
    }
}

/// `YYYY-MM-DD` of the day `days` after `millis`.
pub(super) fn date_after(millis: i64, days: u64) -> String {
    DateTime::from_timestamp_millis(millis)
        .and_then(|t| t.date_naive().checked_add_days(Days::new(days)))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}
