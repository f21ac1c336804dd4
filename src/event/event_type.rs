//! The closed list of event types: one [`EventType`] per payload variant, with
//! its canonical `event_type` string (`case.status_changed`, ...).

use std::fmt;
use std::str::FromStr;

use super::pb::case_event::Payload;
use super::pb::CaseEvent;

/// What an event is keyed and ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Belongs to one case: `case_id` is required, Kafka key = `case_id`,
    /// `aggregate_version` counts the case's events.
    Case,
    /// Belongs to a project, not a case: `case_id` is empty, Kafka key =
    /// `project_id`, `aggregate_version` is 0.
    Project,
}

/// Error of parsing an unknown `event_type` string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {0:?}")]
pub struct UnknownEventType(pub String);

/// Declares [`EventType`] from one row per payload variant, so that the enum,
/// the string table and the payload mapping cannot drift apart.
macro_rules! event_types {
    ($($variant:ident => $name:literal, $scope:ident;)*) => {
        /// Kind of a [`CaseEvent`], one per variant of its `payload` oneof.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $(
                #[doc = concat!("`", $name, "`: payload [`pb::", stringify!($variant),
                    "`](super::pb::", stringify!($variant), ").")]
                $variant,
            )*
        }

        impl EventType {
            /// Every event type, in `oneof` field-number order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            /// Canonical `event_type` string, e.g. `case.status_changed`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }

            /// Whether the event belongs to a case or to a project.
            pub const fn scope(self) -> Scope {
                match self {
                    $(EventType::$variant => Scope::$scope,)*
                }
            }

            /// Event type of a payload variant.
            pub const fn of(payload: &Payload) -> Self {
                match payload {
                    $(Payload::$variant(_) => EventType::$variant,)*
                }
            }
        }

        impl FromStr for EventType {
            type Err = UnknownEventType;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(EventType::$variant),)*
                    _ => Err(UnknownEventType(s.to_owned())),
                }
            }
        }
    };
}

event_types! {
    CaseCreated => "case.created", Case;
    CaseTitleChanged => "case.title_changed", Case;
    CaseDescriptionChanged => "case.description_changed", Case;
    CaseStatusChanged => "case.status_changed", Case;
    CasePriorityChanged => "case.priority_changed", Case;
    CaseAssigned => "case.assigned", Case;
    CaseUnassigned => "case.unassigned", Case;
    CaseAttributeChanged => "case.attribute_changed", Case;
    CaseCustomAttributeChanged => "case.custom_attribute_changed", Case;
    CaseDueDateChanged => "case.due_date_changed", Case;
    CaseArchived => "case.archived", Case;
    CaseUnarchived => "case.unarchived", Case;
    CaseMovedToProject => "case.moved_to_project", Case;
    CaseCommentAdded => "case.comment_added", Case;
    CaseCommentEdited => "case.comment_edited", Case;
    CaseCommentDeleted => "case.comment_deleted", Case;
    CaseWatcherAdded => "case.watcher_added", Case;
    CaseWatcherRemoved => "case.watcher_removed", Case;
    CaseInsightAdded => "case.insight_added", Case;
    CaseInsightRemoved => "case.insight_removed", Case;
    CaseLinked => "case.linked", Case;
    CaseUnlinked => "case.unlinked", Case;
    CaseReviewRequested => "case.review_requested", Case;
    CaseReviewDecided => "case.review_decided", Case;
    CaseSignalCorrelated => "case.signal_correlated", Case;
    ExternalTicketLinked => "external_ticket.linked", Case;
    ExternalTicketChanged => "external_ticket.changed", Case;
    ExternalSyncFailed => "external_sync.failed", Case;
    PageTriggered => "page.triggered", Case;
    PageAcknowledged => "page.acknowledged", Case;
    PageEscalated => "page.escalated", Case;
    PageResolved => "page.resolved", Case;
    IncidentDeclaredFromCase => "incident.declared_from_case", Case;
    IncidentChanged => "incident.changed", Case;
    NotificationDispatched => "notification.dispatched", Case;
    NotificationSuppressed => "notification.suppressed", Case;
    AutomationRuleFired => "automation_rule.fired", Case;
    WorkflowTriggerRequested => "workflow.trigger_requested", Case;
    SlaWarning => "sla.warning", Case;
    SlaBreached => "sla.breached", Case;
    ProjectSettingsChanged => "project.settings_changed", Project;
    RuleChanged => "rule.changed", Project;
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&Payload> for EventType {
    fn from(payload: &Payload) -> Self {
        Self::of(payload)
    }
}

impl Payload {
    /// Event type of this payload variant.
    pub const fn event_type(&self) -> EventType {
        EventType::of(self)
    }
}

impl CaseEvent {
    /// Event type of the payload that is set, or `None` without a payload.
    /// This looks at the payload only, never at the `event_type` string.
    pub fn payload_kind(&self) -> Option<EventType> {
        self.payload.as_ref().map(EventType::of)
    }

    /// `occurred_at` in ms since the epoch (0 when unset), the time ids,
    /// versions of cells and rule evaluations derive from.
    pub fn occurred_at_ms(&self) -> i64 {
        self.occurred_at.as_ref().map_or(0, |t| {
            t.seconds.saturating_mul(1000) + i64::from(t.nanos / 1_000_000)
        })
    }
}
