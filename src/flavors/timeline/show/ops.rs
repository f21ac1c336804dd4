//! Sentences for what happens around a case: external tickets, pages,
//! incidents, notifications, automations, SLA timers and settings.

use super::words::{duration, quote, system, word, Ctx};
use crate::event::pb::{self, page_target::Target, WorkflowRunResult};

pub(super) fn ticket_linked(cx: &Ctx, p: &pb::ExternalTicketLinked) -> String {
    let key = if p.key.is_empty() { &p.ext_id } else { &p.key };
    let mut text = format!("{} ticket {key} linked{}", system(p.system), cx.by());
    if let Some(state) = word!(ExternalTicketState, p.status) {
        text.push_str(&format!(" ({state})"));
    }
    text
}

pub(super) fn ticket_changed(p: &pb::ExternalTicketChanged) -> String {
    let field = if p.field.is_empty() {
        "a field"
    } else {
        &p.field
    };
    let value = |v: &str| {
        if v.is_empty() {
            "nothing".to_owned()
        } else {
            quote(v, 40)
        }
    };
    format!(
        "{} ticket {} changed {field}: {} → {}",
        system(p.system),
        p.ext_id,
        value(&p.old),
        value(&p.new)
    )
}

pub(super) fn sync_failed(p: &pb::ExternalSyncFailed) -> String {
    let op = word!(SyncOperation, p.operation).unwrap_or_else(|| "sync".into());
    let retry = if p.retryable {
        "will retry"
    } else {
        "will not retry"
    };
    let mut text = format!(
        "{} sync failed to {op} (attempt {}, {retry})",
        system(p.system),
        p.attempt
    );
    if !p.error.trim().is_empty() {
        text.push_str(&format!(": {}", quote(&p.error, 60)));
    }
    text
}

pub(super) fn page_triggered(cx: &Ctx, p: &pb::PageTriggered) -> String {
    let target = match p.target.as_ref().and_then(|t| t.target.as_ref()) {
        Some(Target::TeamHandle(h)) => format!("team {h}"),
        Some(Target::TeamId(id)) => format!("team {id}"),
        Some(Target::UserId(id)) => cx.who(id),
        None => "on-call".into(),
    };
    let mut notes = Vec::new();
    if let Some(u) = word!(PageUrgency, p.urgency) {
        notes.push(format!("{u} urgency"));
    }
    match word!(PageTrigger, p.trigger).as_deref() {
        Some("escalation query") => notes.push("escalation query".into()),
        Some("manual") => notes.push(format!("manual{}", cx.by())),
        _ => {}
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    format!("page {} sent to {target}{notes}", p.page_id)
}

/// `page.acknowledged`, `page.escalated`, `page.resolved`: `what` happened,
/// by user `by` or, when empty, `otherwise`.
pub(super) fn page(cx: &Ctx, page_id: &str, what: &str, by: &str, otherwise: &str) -> String {
    if by.is_empty() && otherwise.is_empty() {
        format!("page {page_id} {what}{}", cx.by())
    } else if by.is_empty() {
        format!("page {page_id} {what} {otherwise}")
    } else {
        format!("page {page_id} {what} by {}", cx.who(by))
    }
}

pub(super) fn incident_declared(cx: &Ctx, p: &pb::IncidentDeclaredFromCase) -> String {
    let mut notes: Vec<String> = [&p.incident_type, &p.severity]
        .into_iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    if word!(IncidentTrigger, p.trigger).as_deref() == Some("auto query") {
        notes.push("auto-escalation".into());
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    format!("incident {} declared{notes}{}", p.incident_id, cx.by())
}

pub(super) fn incident_changed(p: &pb::IncidentChanged) -> String {
    let now: Vec<&str> = [p.status.as_str(), p.severity.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if now.is_empty() {
        return format!("incident {} changed", p.incident_id);
    }
    format!("incident {} is now {}", p.incident_id, now.join(", "))
}

fn channel(value: i32) -> String {
    use pb::NotificationChannel as C;
    match C::try_from(value) {
        Ok(C::Email) => "email".into(),
        Ok(C::SlackChannel) => "Slack".into(),
        Ok(C::MsTeamsChannel) => "Microsoft Teams".into(),
        Ok(C::PagerdutyService) => "PagerDuty".into(),
        Ok(C::Http) => "webhook".into(),
        _ => "a channel".into(),
    }
}

pub(super) fn notified(p: &pb::NotificationDispatched) -> String {
    let to = if p.recipient.is_empty() {
        String::new()
    } else {
        format!(" to {}", p.recipient)
    };
    format!("notification sent by {}{to}", channel(p.channel))
}

pub(super) fn suppressed(p: &pb::NotificationSuppressed) -> String {
    let why = match word!(SuppressionReason, p.reason).as_deref() {
        Some("maintenance") => "maintenance window".to_owned(),
        Some("dedup") => "already sent".to_owned(),
        Some("disabled") => "rule disabled".to_owned(),
        Some(other) => other.to_owned(),
        None => "no reason given".to_owned(),
    };
    format!("{} notification not sent ({why})", channel(p.channel))
}

pub(super) fn rule_fired(p: &pb::AutomationRuleFired) -> String {
    let on = word!(AutomationTrigger, p.trigger)
        .map(|t| format!(" on {t}"))
        .unwrap_or_default();
    let action = match word!(AutomationAction, p.action).as_deref() {
        Some("execute workflow") if !p.workflow_handle.is_empty() => {
            format!("run workflow {}", p.workflow_handle)
        }
        Some(a) => a.to_owned(),
        None => "act".into(),
    };
    format!("automation rule {} fired{on}: {action}", p.rule_id)
}

pub(super) fn workflow(p: &pb::WorkflowTriggerRequested) -> String {
    let outcome = match WorkflowRunResult::try_from(p.result) {
        Ok(WorkflowRunResult::Started) if p.run_id.is_empty() => "started".to_owned(),
        Ok(WorkflowRunResult::Started) => format!("started (run {})", p.run_id),
        Ok(WorkflowRunResult::RateLimited) => "not run (rate limited)".into(),
        Ok(WorkflowRunResult::LoopGuarded) => "not run (loop guard)".into(),
        Ok(WorkflowRunResult::Failed) => "failed to start".into(),
        _ => "requested".into(),
    };
    format!("workflow {} {outcome}", p.workflow_handle)
}

fn metric(value: i32) -> String {
    word!(SlaMetric, value).unwrap_or_else(|| "SLA timer".into())
}

pub(super) fn sla_warning(p: &pb::SlaWarning) -> String {
    format!(
        "SLA warning: {} at {}% ({} of {})",
        metric(p.metric),
        p.warn_at_pct,
        duration(p.elapsed_secs),
        duration(p.target_secs)
    )
}

pub(super) fn sla_breached(p: &pb::SlaBreached) -> String {
    format!(
        "SLA breached: {} took {} (target {})",
        metric(p.metric),
        duration(p.elapsed_secs),
        duration(p.target_secs)
    )
}

pub(super) fn settings(cx: &Ctx, p: &pb::ProjectSettingsChanged) -> String {
    let section = word!(SettingsSection, p.section).unwrap_or_else(|| "project".into());
    format!("project settings changed: {section}{}", cx.by())
}

pub(super) fn rule_changed(cx: &Ctx, p: &pb::RuleChanged) -> String {
    let kind = word!(RuleKind, p.kind).unwrap_or_else(|| "rule".into());
    let change = word!(RuleChange, p.change).unwrap_or_else(|| "changed".into());
    format!("{kind} {} {change}{}", p.rule_id, cx.by())
}
