//! Random but structurally valid events covering every payload variant, for
//! property tests. Unlike `Synth`, values are not meant to be plausible: they
//! explore the encoding (unicode, escapes, empty vs. unset, extreme numbers).

use std::collections::BTreeMap;

use crate::event::Timestamp;
use rand::Rng;

use super::world::uuid_v7;
use crate::event::pb::{page_target::Target, *};
use crate::event::{EventType, Scope};

/// Characters strings are drawn from: ASCII, JSON escapes, control and
/// non-BMP characters.
const CHARS: &[char] = &[
    'a', 'Z', '0', ' ', '-', '"', '\\', '/', '\n', '\t', '\u{0}', 'é', '中', '😀',
];

/// Latest timestamp drawn: 2100-01-01T00:00:00Z.
const MAX_SECONDS: i64 = 4_102_444_800;

/// An event of a random type; see [`arbitrary_event_of`].
pub fn arbitrary_event<R: Rng + ?Sized>(rng: &mut R) -> CaseEvent {
    let kind = EventType::ALL[rng.random_range(0..EventType::ALL.len())];
    arbitrary_event_of(rng, kind)
}

/// An event with a `kind` payload and random field values everywhere else.
/// It passes [`validate`](crate::event::validate): a UUIDv7 `event_id`, the
/// matching `event_type` and the key of its scope are always set. Enum fields
/// hold known values and timestamps lie in 1970-2100, so it also has a
/// canonical JSON form.
pub fn arbitrary_event_of<R: Rng + ?Sized>(rng: &mut R, kind: EventType) -> CaseEvent {
    let mut g = Gen { rng };
    let millis = g.rng.random_range(0..MAX_SECONDS * 1000);
    let mut event = CaseEvent {
        event_id: uuid_v7(g.rng, millis),
        event_type: kind.as_str().to_owned(),
        schema_version: g.rng.random(),
        org_id: g.s(),
        project_id: g.s(),
        project_key: g.s(),
        case_id: g.s(),
        case_key: g.s(),
        aggregate_version: g.rng.random(),
        occurred_at: g.ts(),
        published_at: g.ts(),
        actor: g.opt(|g| Actor {
            kind: g.e::<ActorKind>(),
            id: g.s(),
            display_name: g.s(),
        }),
        origin: g.opt(|g| Origin {
            channel: g.e::<OriginChannel>(),
            external_ref: g.os(),
        }),
        causation_id: g.s(),
        correlation_id: g.s(),
        chain_depth: g.rng.random(),
        trace: g.opt(|g| TraceContext {
            traceparent: g.s(),
            tracestate: g.s(),
        }),
        case_after: g.opt(Gen::snapshot),
        payload: Some(g.payload(kind)),
    };
    let key = match kind.scope() {
        Scope::Case => &mut event.case_id,
        Scope::Project => &mut event.project_id,
    };
    key.insert(0, 'k'); // Never empty.
    event
}

/// Random field values drawn from one rng.
pub(super) struct Gen<'a, R: Rng + ?Sized> {
    pub rng: &'a mut R,
}

impl<R: Rng + ?Sized> Gen<'_, R> {
    pub(super) fn s(&mut self) -> String {
        let len = self.rng.random_range(0..12);
        (0..len)
            .map(|_| CHARS[self.rng.random_range(0..CHARS.len())])
            .collect()
    }

    pub(super) fn os(&mut self) -> Option<String> {
        self.rng.random_bool(0.5).then(|| self.s())
    }

    pub(super) fn vs(&mut self) -> Vec<String> {
        (0..self.rng.random_range(0..4)).map(|_| self.s()).collect()
    }

    /// A known value of the prost enum `E` (all start at 0, none exceed 31).
    pub(super) fn e<E: TryFrom<i32>>(&mut self) -> i32 {
        loop {
            let value = self.rng.random_range(0..32);
            if E::try_from(value).is_ok() {
                return value;
            }
        }
    }

    pub(super) fn opt<T>(&mut self, make: impl FnOnce(&mut Self) -> T) -> Option<T> {
        self.rng.random_bool(0.75).then(|| make(self))
    }

    pub(super) fn ts(&mut self) -> Option<Timestamp> {
        self.opt(|g| Timestamp {
            seconds: g.rng.random_range(0..MAX_SECONDS),
            nanos: g.rng.random_range(0..1_000_000_000),
        })
    }

    pub(super) fn map<T>(&mut self, mut value: impl FnMut(&mut Self) -> T) -> BTreeMap<String, T> {
        (0..self.rng.random_range(0..3))
            .map(|_| (self.s(), value(self)))
            .collect()
    }

    pub(super) fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> T) -> Vec<T> {
        (0..self.rng.random_range(0..3))
            .map(|_| item(self))
            .collect()
    }

    pub(super) fn snapshot(&mut self) -> CaseSnapshot {
        CaseSnapshot {
            id: self.s(),
            key: self.s(),
            project_id: self.s(),
            title: self.s(),
            description: self.s(),
            type_id: self.s(),
            status_name: self.s(),
            status_group: self.e::<StatusGroup>(),
            priority: self.e::<Priority>(),
            assignee_id: self.os(),
            created_by: self.os(),
            modified_by: self.os(),
            attributes: self.map(|g| StringList { values: g.vs() }),
            custom_attributes: self.map(Self::custom_value),
            created_at: self.ts(),
            modified_at: self.ts(),
            closed_at: self.ts(),
            archived_at: self.ts(),
            due_date: self.os(),
            security_resolved_reason: self.os(),
            jira_issue: self.opt(|g| JiraIssue {
                status: g.e::<ExternalTicketState>(),
                issue_id: g.s(),
                issue_key: g.s(),
                issue_url: g.s(),
                project_key: g.s(),
            }),
            service_now_ticket: self.opt(|g| ServiceNowTicket {
                status: g.e::<ExternalTicketState>(),
                sys_target_link: g.s(),
            }),
            insights: self.list(Self::insight),
            links: self.list(Self::link),
            watchers: self.vs(),
            reviewers: self.list(|g| Reviewer {
                user_id: g.s(),
                state: g.e::<ReviewState>(),
            }),
        }
    }

    pub(super) fn custom_value(&mut self) -> CustomAttributeValue {
        CustomAttributeValue {
            r#type: self.e::<CustomAttributeType>(),
            is_multi: self.rng.random(),
            values: self.vs(),
        }
    }

    pub(super) fn insight(&mut self) -> Insight {
        Insight {
            r#type: self.e::<InsightType>(),
            resource_id: self.s(),
            r#ref: self.s(),
        }
    }

    pub(super) fn link(&mut self) -> CaseLink {
        let entity = |g: &mut Self| EntityRef {
            r#type: g.e::<LinkedEntityType>(),
            id: g.s(),
        };
        CaseLink {
            link_id: self.s(),
            parent: self.opt(entity),
            child: self.opt(entity),
            relationship: self.e::<LinkRelationship>(),
        }
    }

    pub(super) fn page_target(&mut self) -> PageTarget {
        let target = match self.rng.random_range(0..4) {
            0 => None,
            1 => Some(Target::TeamId(self.s())),
            2 => Some(Target::TeamHandle(self.s())),
            _ => Some(Target::UserId(self.s())),
        };
        PageTarget { target }
    }
}
