//! Sentences of tickets, pages, incidents, notifications, automations, SLA
//! timers and settings.

use super::{by_system, sentence, BOB};
use crate::event::pb::*;
use crate::event::Payload as P;

#[test]
fn external_ticket_linked() {
    let p = P::ExternalTicketLinked(ExternalTicketLinked {
        system: ExternalSystem::Jira as i32,
        ext_id: "10042".into(),
        key: "OPS-17".into(),
        url: "https://example.atlassian.net/browse/OPS-17".into(),
        status: ExternalTicketState::Completed as i32,
    });
    assert_eq!(
        sentence(p),
        "Jira ticket OPS-17 linked by Ana Ruiz (completed)"
    );
}

#[test]
fn external_ticket_changed() {
    let p = P::ExternalTicketChanged(ExternalTicketChanged {
        system: ExternalSystem::Jira as i32,
        ext_id: "OPS-17".into(),
        field: "status".into(),
        old: "To Do".into(),
        new: "Done".into(),
        ext_event_id: "wh-1".into(),
        ext_item_id: String::new(),
        ext_version: 1_764_918_000_000,
    });
    assert_eq!(
        by_system(p),
        "Jira ticket OPS-17 changed status: “To Do” → “Done”"
    );
}

#[test]
fn external_sync_failed() {
    let p = P::ExternalSyncFailed(ExternalSyncFailed {
        system: ExternalSystem::Servicenow as i32,
        operation: SyncOperation::AddComment as i32,
        error: "HTTP 503".into(),
        retryable: true,
        attempt: 2,
    });
    assert_eq!(
        by_system(p),
        "ServiceNow sync failed to add comment (attempt 2, will retry): “HTTP 503”"
    );
}

#[test]
fn page_triggered() {
    let p = P::PageTriggered(PageTriggered {
        page_id: "PG-9".into(),
        rule_id: "eq-1".into(),
        target: Some(PageTarget {
            target: Some(page_target::Target::TeamHandle("payments-oncall".into())),
        }),
        urgency: PageUrgency::High as i32,
        trigger: PageTrigger::EscalationQuery as i32,
    });
    assert_eq!(
        by_system(p),
        "page PG-9 sent to team payments-oncall (high urgency, escalation query)"
    );
}

#[test]
fn page_acknowledged() {
    let p = P::PageAcknowledged(PageAcknowledged {
        page_id: "PG-9".into(),
        by: BOB.into(),
    });
    assert_eq!(sentence(p), "page PG-9 acknowledged by Bob Lee");
}

#[test]
fn page_escalated() {
    let p = P::PageEscalated(PageEscalated {
        page_id: "PG-9".into(),
        by: String::new(),
    });
    assert_eq!(by_system(p), "page PG-9 escalated after a timeout");
}

#[test]
fn page_resolved() {
    let p = P::PageResolved(PageResolved {
        page_id: "PG-9".into(),
        by: String::new(),
    });
    assert_eq!(by_system(p), "page PG-9 resolved automatically");
}

#[test]
fn incident_declared_from_case() {
    let p = P::IncidentDeclaredFromCase(IncidentDeclaredFromCase {
        incident_id: "INC-42".into(),
        incident_type: "Security".into(),
        severity: "SEV-1".into(),
        trigger: IncidentTrigger::AutoQuery as i32,
    });
    assert_eq!(
        by_system(p),
        "incident INC-42 declared (Security, SEV-1, auto-escalation)"
    );
}

#[test]
fn incident_changed() {
    let p = P::IncidentChanged(IncidentChanged {
        incident_id: "INC-42".into(),
        status: "stable".into(),
        severity: "SEV-2".into(),
    });
    assert_eq!(by_system(p), "incident INC-42 is now stable, SEV-2");
}

#[test]
fn notification_dispatched() {
    let p = P::NotificationDispatched(NotificationDispatched {
        rule_id: "nr-1".into(),
        channel: NotificationChannel::SlackChannel as i32,
        recipient: "#payments-alerts".into(),
        trigger_event_id: "e-1".into(),
    });
    assert_eq!(
        by_system(p),
        "notification sent by Slack to #payments-alerts"
    );
}

#[test]
fn notification_suppressed() {
    let p = P::NotificationSuppressed(NotificationSuppressed {
        rule_id: "nr-1".into(),
        channel: NotificationChannel::Email as i32,
        reason: SuppressionReason::Maintenance as i32,
        trigger_event_id: "e-1".into(),
    });
    assert_eq!(
        by_system(p),
        "email notification not sent (maintenance window)"
    );
}

#[test]
fn automation_rule_fired() {
    let p = P::AutomationRuleFired(AutomationRuleFired {
        rule_id: "ar-1".into(),
        trigger: AutomationTrigger::StatusTransitioned as i32,
        action: AutomationAction::ExecuteWorkflow as i32,
        workflow_handle: "triage".into(),
        trigger_event_id: "e-1".into(),
    });
    assert_eq!(
        by_system(p),
        "automation rule ar-1 fired on status transitioned: run workflow triage"
    );
}

#[test]
fn workflow_trigger_requested() {
    let p = P::WorkflowTriggerRequested(WorkflowTriggerRequested {
        rule_id: "ar-1".into(),
        workflow_handle: "triage".into(),
        run_id: "run-7".into(),
        result: WorkflowRunResult::Started as i32,
    });
    assert_eq!(by_system(p), "workflow triage started (run run-7)");
}

#[test]
fn sla_warning() {
    let p = P::SlaWarning(SlaWarning {
        policy_id: "sla-1".into(),
        metric: SlaMetric::TimeToAssign as i32,
        target_secs: 3600,
        elapsed_secs: 2880,
        warn_at_pct: 80,
    });
    assert_eq!(
        by_system(p),
        "SLA warning: time to assign at 80% (48m of 1h)"
    );
}

#[test]
fn sla_breached() {
    let p = P::SlaBreached(SlaBreached {
        policy_id: "sla-1".into(),
        metric: SlaMetric::TimeToResolve as i32,
        target_secs: 86_400,
        elapsed_secs: 93_900,
    });
    assert_eq!(
        by_system(p),
        "SLA breached: time to resolve took 1d 2h (target 1d)"
    );
}

#[test]
fn project_settings_and_rules() {
    let settings = P::ProjectSettingsChanged(ProjectSettingsChanged {
        project_id: "p-1".into(),
        section: SettingsSection::IntegrationJira as i32,
        settings_version: 3,
    });
    assert_eq!(
        sentence(settings),
        "project settings changed: integration jira by Ana Ruiz"
    );
    let rule = P::RuleChanged(RuleChanged {
        project_id: "p-1".into(),
        kind: RuleKind::NotificationRule as i32,
        rule_id: "nr-1".into(),
        change: RuleChange::Updated as i32,
        settings_version: 4,
    });
    assert_eq!(sentence(rule), "notification rule nr-1 updated by Ana Ruiz");
}
