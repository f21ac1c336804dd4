//! What an intent is: its key, the case it belongs to, the external object
//! it made, its state and row, and the per-target mode and lease.

use std::time::Duration;

/// Which intent: whose effect, on what, where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntentKey<'a> {
    /// The flavor that owns the effect.
    pub flavor: &'a str,
    /// What of ours the effect stands for (`case`, `comment`, `page`).
    pub kind: &'a str,
    /// Its id (a case id, a comment cell id).
    pub entity_key: &'a str,
    /// Where it goes (`issue`, an issue id, a service, a channel).
    pub target: &'a str,
}

/// The case an intent belongs to; inbound changes of the external object
/// become events of this case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub case_id: String,
    pub org_id: String,
    pub project_id: String,
    pub case_key: String,
}

/// The external object an effect made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtRef {
    /// The vendor's id.
    pub id: String,
    /// Its human key, when it has one (`OPS-7`, `INC0010001`).
    pub key: Option<String>,
    /// Its web address, when known.
    pub url: Option<String>,
}

/// Where an intent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The call is in flight or its outcome is not known yet.
    Claimed,
    /// The external object is known.
    Linked,
    /// A crash hid the outcome and the vendor cannot be asked.
    Unknown,
}

impl State {
    /// The column value.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Claimed => "claimed",
            State::Linked => "linked",
            State::Unknown => "unknown",
        }
    }
}

/// One intent row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: String,
    pub entity_key: String,
    pub target: String,
    pub state: State,
    pub ext: Option<ExtRef>,
    /// The external object is gone or no longer synced.
    pub stale: bool,
    pub subject: Subject,
    /// Vendor calls made for it so far.
    pub attempts: i64,
    /// When the current attempt began (Unix ms): the lookup window's start.
    pub intent_at: i64,
    /// Until when a worker's call is in flight (Unix ms; 0: none).
    pub lease_until: i64,
}

/// How a claimed intent whose outcome is unknown is resolved; each flavor
/// states it per target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Exactly once: the vendor can be asked ([`Effect::lookup`]). A miss
    /// inside `window` (search may lag) is transient; after it the effect
    /// is sent again.
    Lookup { window: Duration },
    /// Exactly once: the vendor dedupes on a key the effect carries
    /// (PagerDuty `dedup_key`, `webhook-id`), so sending again is safe.
    IdempotencyKey,
    /// At most one duplicate per effect in flight at a crash: the intent
    /// ends `unknown`; `resend_unknown` sends it again (with the same
    /// idempotency hint: Message-ID, Slack metadata), otherwise it stays.
    NoLookup { resend_unknown: bool },
}

/// The mode and the lease of one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// How long a worker owns an in-flight call: longer than the vendor
    /// call's timeout, so a live call is never doubled.
    pub lease: Duration,
}
