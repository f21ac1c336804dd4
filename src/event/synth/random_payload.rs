//! Random payloads of a given variant, for `arbitrary_event_of`.

use rand::Rng;

use super::arbitrary::Gen;
use crate::event::pb::{case_event::Payload as P, *};
use crate::event::EventType;

impl<R: Rng + ?Sized> Gen<'_, R> {
    /// A random payload of variant `kind`.
    pub(super) fn payload(&mut self, kind: EventType) -> P {
        use EventType as K;
        let r = &mut *self;
        match kind {
            K::CaseCreated => P::CaseCreated(CaseCreated {
                snapshot: r.opt(Self::snapshot).map(Box::new),
                creation_source: r.s(),
            }),
            K::CaseTitleChanged => P::CaseTitleChanged(CaseTitleChanged {
                old: r.s(),
                new: r.s(),
            }),
            K::CaseDescriptionChanged => P::CaseDescriptionChanged(CaseDescriptionChanged {
                old: r.s(),
                new: r.s(),
            }),
            K::CaseStatusChanged => P::CaseStatusChanged(CaseStatusChanged {
                from_status_name: r.s(),
                to_status_name: r.s(),
                from_group: r.e::<StatusGroup>(),
                to_group: r.e::<StatusGroup>(),
                resolved_reason: r.os(),
                reason: r.e::<StatusChangeReason>(),
            }),
            K::CasePriorityChanged => P::CasePriorityChanged(CasePriorityChanged {
                from: r.e::<Priority>(),
                to: r.e::<Priority>(),
            }),
            K::CaseAssigned => P::CaseAssigned(CaseAssigned {
                from: r.os(),
                to: r.s(),
                reason: r.e::<AssignmentReason>(),
            }),
            K::CaseUnassigned => P::CaseUnassigned(CaseUnassigned {
                from: r.s(),
                reason: r.e::<AssignmentReason>(),
            }),
            K::CaseAttributeChanged => P::CaseAttributeChanged(CaseAttributeChanged {
                key: r.s(),
                added: r.vs(),
                removed: r.vs(),
            }),
            K::CaseCustomAttributeChanged => {
                P::CaseCustomAttributeChanged(CaseCustomAttributeChanged {
                    key: r.s(),
                    r#type: r.e::<CustomAttributeType>(),
                    old: r.opt(Self::custom_value),
                    new: r.opt(Self::custom_value),
                })
            }
            K::CaseDueDateChanged => P::CaseDueDateChanged(CaseDueDateChanged {
                old: r.os(),
                new: r.os(),
            }),
            K::CaseArchived => P::CaseArchived(CaseArchived {}),
            K::CaseUnarchived => P::CaseUnarchived(CaseUnarchived {}),
            K::CaseMovedToProject => P::CaseMovedToProject(CaseMovedToProject {
                from_project_id: r.s(),
                to_project_id: r.s(),
                old_key: r.s(),
                new_key: r.s(),
            }),
            K::CaseCommentAdded => P::CaseCommentAdded(CaseCommentAdded {
                cell_id: r.s(),
                author_id: r.s(),
                markdown: r.s(),
                mentions: r.vs(),
            }),
            K::CaseCommentEdited => P::CaseCommentEdited(CaseCommentEdited {
                cell_id: r.s(),
                markdown: r.s(),
            }),
            K::CaseCommentDeleted => P::CaseCommentDeleted(CaseCommentDeleted { cell_id: r.s() }),
            K::CaseWatcherAdded => P::CaseWatcherAdded(CaseWatcherAdded { user_id: r.s() }),
            K::CaseWatcherRemoved => P::CaseWatcherRemoved(CaseWatcherRemoved { user_id: r.s() }),
            K::CaseInsightAdded => P::CaseInsightAdded(CaseInsightAdded {
                insight: r.opt(Self::insight),
            }),
            K::CaseInsightRemoved => P::CaseInsightRemoved(CaseInsightRemoved {
                insight: r.opt(Self::insight),
            }),
            K::CaseLinked => P::CaseLinked(CaseLinked {
                link: r.opt(Self::link),
            }),
            K::CaseUnlinked => P::CaseUnlinked(CaseUnlinked {
                link: r.opt(Self::link),
            }),
            K::CaseReviewRequested => P::CaseReviewRequested(CaseReviewRequested {
                reviewer_ids: r.vs(),
                message: r.s(),
            }),
            K::CaseReviewDecided => P::CaseReviewDecided(CaseReviewDecided {
                reviewer_id: r.s(),
                decision: r.e::<ReviewState>(),
                requested_count: r.rng.random(),
                approved_count: r.rng.random(),
                declined_count: r.rng.random(),
                satisfied: r.list(|g| g.e::<ApprovalType>()),
            }),
            K::CaseSignalCorrelated => P::CaseSignalCorrelated(CaseSignalCorrelated {
                correlation_group_id: r.s(),
                new_event_refs: r.vs(),
                new_alert_refs: r.vs(),
                total_count: r.rng.random(),
            }),
            K::ExternalTicketLinked => P::ExternalTicketLinked(ExternalTicketLinked {
                system: r.e::<ExternalSystem>(),
                ext_id: r.s(),
                key: r.s(),
                url: r.s(),
                status: r.e::<ExternalTicketState>(),
            }),
            K::ExternalTicketChanged => P::ExternalTicketChanged(ExternalTicketChanged {
                system: r.e::<ExternalSystem>(),
                ext_id: r.s(),
                field: r.s(),
                old: r.s(),
                new: r.s(),
                ext_event_id: r.s(),
                ext_item_id: r.s(),
                ext_version: r.rng.random(),
            }),
            K::ExternalSyncFailed => P::ExternalSyncFailed(ExternalSyncFailed {
                system: r.e::<ExternalSystem>(),
                operation: r.e::<SyncOperation>(),
                error: r.s(),
                retryable: r.rng.random(),
                attempt: r.rng.random(),
            }),
            K::PageTriggered => P::PageTriggered(PageTriggered {
                page_id: r.s(),
                rule_id: r.s(),
                target: r.opt(Self::page_target),
                urgency: r.e::<PageUrgency>(),
                trigger: r.e::<PageTrigger>(),
            }),
            K::PageAcknowledged => P::PageAcknowledged(PageAcknowledged {
                page_id: r.s(),
                by: r.s(),
            }),
            K::PageEscalated => P::PageEscalated(PageEscalated {
                page_id: r.s(),
                by: r.s(),
            }),
            K::PageResolved => P::PageResolved(PageResolved {
                page_id: r.s(),
                by: r.s(),
            }),
            K::IncidentDeclaredFromCase => P::IncidentDeclaredFromCase(IncidentDeclaredFromCase {
                incident_id: r.s(),
                incident_type: r.s(),
                severity: r.s(),
                trigger: r.e::<IncidentTrigger>(),
            }),
            K::IncidentChanged => P::IncidentChanged(IncidentChanged {
                incident_id: r.s(),
                status: r.s(),
                severity: r.s(),
            }),
            K::NotificationDispatched => P::NotificationDispatched(NotificationDispatched {
                rule_id: r.s(),
                channel: r.e::<NotificationChannel>(),
                recipient: r.s(),
                trigger_event_id: r.s(),
            }),
            K::NotificationSuppressed => P::NotificationSuppressed(NotificationSuppressed {
                rule_id: r.s(),
                channel: r.e::<NotificationChannel>(),
                reason: r.e::<SuppressionReason>(),
                trigger_event_id: r.s(),
            }),
            K::AutomationRuleFired => P::AutomationRuleFired(AutomationRuleFired {
                rule_id: r.s(),
                trigger: r.e::<AutomationTrigger>(),
                action: r.e::<AutomationAction>(),
                workflow_handle: r.s(),
                trigger_event_id: r.s(),
            }),
            K::WorkflowTriggerRequested => P::WorkflowTriggerRequested(WorkflowTriggerRequested {
                rule_id: r.s(),
                workflow_handle: r.s(),
                run_id: r.s(),
                result: r.e::<WorkflowRunResult>(),
            }),
            K::SlaWarning => P::SlaWarning(SlaWarning {
                policy_id: r.s(),
                metric: r.e::<SlaMetric>(),
                target_secs: r.rng.random(),
                elapsed_secs: r.rng.random(),
                warn_at_pct: r.rng.random(),
            }),
            K::SlaBreached => P::SlaBreached(SlaBreached {
                policy_id: r.s(),
                metric: r.e::<SlaMetric>(),
                target_secs: r.rng.random(),
                elapsed_secs: r.rng.random(),
            }),
            K::ProjectSettingsChanged => P::ProjectSettingsChanged(ProjectSettingsChanged {
                project_id: r.s(),
                section: r.e::<SettingsSection>(),
                settings_version: r.rng.random(),
            }),
            K::RuleChanged => P::RuleChanged(RuleChanged {
                project_id: r.s(),
                kind: r.e::<RuleKind>(),
                rule_id: r.s(),
                change: r.e::<RuleChange>(),
                settings_version: r.rng.random(),
            }),
        }
    }
}
