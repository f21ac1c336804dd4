//! `case-event-handler timeline show CASE`: a case's timeline for a person,
//! one sentence per cell ("status: Open → In Progress by Ana Ruiz"). The
//! cell's content document is read back as its typed payload, so every event
//! type has a sentence; a cell this build cannot read names its event type.
//! Payloads name users by id; a user who acted in the case is shown by the
//! display name their own events carried, anyone else by id.

mod case;
mod collab;
mod ops;
#[cfg(test)]
mod tests;
mod words;

use std::fmt::Write as _;

use serde::Serialize;
use sqlx::Row;

use self::words::Ctx;
use crate::event::{CaseEvent, EventType, Payload};
use crate::store::{Store, StoreError};

/// One cell as read back.
#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    /// Cell id.
    pub cell_id: String,
    /// Case id.
    pub case_id: String,
    /// Case key.
    pub case_key: String,
    /// Cell type.
    pub cell_type: String,
    /// Event type that made the cell.
    pub event_type: String,
    /// Actor display name (or id).
    pub actor: String,
    /// Actor id (user UUID, rule id, integration name; empty for the system).
    pub actor_id: String,
    /// When it happened (Unix ms).
    pub occurred_at_ms: i64,
    /// Case version of the event; 0 when the producer did not know it (a
    /// vendor's webhook), which orders nothing.
    pub aggregate_version: i64,
    /// The content document.
    pub content: serde_json::Value,
    /// Whether the comment was edited.
    pub edited: bool,
    /// Whether the cell is a tombstone.
    pub deleted: bool,
}

/// The cells of a case (by id or key), oldest first: by `occurred_at`, then
/// case version (events of one instant), then cell id. Not by version first:
/// a change from a vendor's webhook carries version 0 (unknown) and must
/// show when it happened.
pub async fn load(store: &Store, case: &str) -> Result<Vec<CellView>, StoreError> {
    let rows = sqlx::query(
        "SELECT cell_id, case_id, case_key, cell_type, event_type, actor_id, actor_name, occurred_at, \
         aggregate_version, content, edited_at, deleted_at FROM timeline_cells \
         WHERE case_id = $1 OR case_key = $1 ORDER BY occurred_at, aggregate_version, cell_id",
    )
    .bind(case)
    .fetch_all(store.pool())
    .await?;
    let mut cells = Vec::with_capacity(rows.len());
    for row in rows {
        let name: String = row.try_get("actor_name")?;
        let id: String = row.try_get("actor_id")?;
        let content: String = row.try_get("content")?;
        cells.push(CellView {
            cell_id: row.try_get("cell_id")?,
            case_id: row.try_get("case_id")?,
            case_key: row.try_get("case_key")?,
            cell_type: row.try_get("cell_type")?,
            event_type: row.try_get("event_type")?,
            actor: if name.is_empty() { id.clone() } else { name },
            actor_id: id,
            occurred_at_ms: row.try_get("occurred_at")?,
            aggregate_version: row.try_get("aggregate_version")?,
            content: serde_json::from_str(&content).unwrap_or(serde_json::Value::Null),
            edited: row.try_get::<Option<i64>, _>("edited_at")?.is_some(),
            deleted: row.try_get::<Option<i64>, _>("deleted_at")?.is_some(),
        });
    }
    Ok(cells)
}

/// Aligned text, one line per cell, newest last: version (`v-` when
/// unknown), time, cell type and the sentence (which names the actor).
pub fn render(cells: &[CellView]) -> String {
    let Some(first) = cells.first() else {
        return "no timeline cells for this case\n".into();
    };
    let names = words::names(cells);
    let mut out = format!("{} ({})\n", first.case_key, first.case_id);
    for c in cells {
        let when = chrono::DateTime::from_timestamp_millis(c.occurred_at_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let version = match c.aggregate_version {
            0 => "-".to_owned(),
            v => v.to_string(),
        };
        let _ = writeln!(
            out,
            "  v{:<4} {}  {:<12} {}",
            version,
            when,
            c.cell_type,
            describe(c, &names)
        );
    }
    out
}

/// Longest sentence, in characters.
const MAX_CHARS: usize = 160;

/// One cell as a sentence.
fn describe(cell: &CellView, names: &std::collections::HashMap<String, String>) -> String {
    let cx = Ctx { cell, names };
    let text = if cell.deleted {
        collab::comment_deleted(&cx)
    } else {
        match payload_of(&cell.event_type, &cell.content) {
            Some(p) => sentence(&cx, &p),
            None => format!(
                "{} event{} (not readable by this version; see --json)",
                cell.event_type,
                cx.by()
            ),
        }
    };
    words::truncate(&text, MAX_CHARS)
}

/// The typed payload of a cell: its content document under the payload
/// field its event type names, read as an envelope.
fn payload_of(event_type: &str, content: &serde_json::Value) -> Option<Payload> {
    let kind: EventType = event_type.parse().ok()?;
    let field = kind.as_str().replace('.', "_");
    let envelope = serde_json::json!({ field: content });
    let event: CaseEvent = serde_json::from_value(envelope).ok()?;
    event.payload.filter(|p| EventType::of(p) == kind)
}

fn sentence(cx: &Ctx, payload: &Payload) -> String {
    use Payload as P;
    match payload {
        P::CaseCreated(p) => case::created(cx, p),
        P::CaseTitleChanged(p) => case::title(cx, p),
        P::CaseDescriptionChanged(p) => case::description(cx, p),
        P::CaseStatusChanged(p) => case::status_changed(cx, p),
        P::CasePriorityChanged(p) => case::priority_changed(cx, p),
        P::CaseAssigned(p) => case::assigned(cx, p),
        P::CaseUnassigned(p) => case::unassigned(cx, p),
        P::CaseAttributeChanged(p) => case::attribute(cx, p),
        P::CaseCustomAttributeChanged(p) => case::custom_attribute(cx, p),
        P::CaseDueDateChanged(p) => case::due_date(cx, p),
        P::CaseArchived(_) => case::archived(cx, true),
        P::CaseUnarchived(_) => case::archived(cx, false),
        P::CaseMovedToProject(p) => case::moved(cx, p),
        P::CaseCommentAdded(p) => collab::comment(cx, &p.author_id, &p.markdown),
        P::CaseCommentEdited(p) => collab::comment_edited(cx, p),
        P::CaseCommentDeleted(_) => collab::comment_deleted(cx),
        P::CaseWatcherAdded(p) => collab::watcher(cx, &p.user_id, true),
        P::CaseWatcherRemoved(p) => collab::watcher(cx, &p.user_id, false),
        P::CaseInsightAdded(p) => collab::insight(cx, p.insight.as_ref(), true),
        P::CaseInsightRemoved(p) => collab::insight(cx, p.insight.as_ref(), false),
        P::CaseLinked(p) => collab::link(cx, p.link.as_ref(), true),
        P::CaseUnlinked(p) => collab::link(cx, p.link.as_ref(), false),
        P::CaseReviewRequested(p) => collab::review_requested(cx, p),
        P::CaseReviewDecided(p) => collab::review_decided(cx, p),
        P::CaseSignalCorrelated(p) => collab::signals(p),
        P::ExternalTicketLinked(p) => ops::ticket_linked(cx, p),
        P::ExternalTicketChanged(p) => ops::ticket_changed(p),
        P::ExternalSyncFailed(p) => ops::sync_failed(p),
        P::PageTriggered(p) => ops::page_triggered(cx, p),
        P::PageAcknowledged(p) => ops::page(cx, &p.page_id, "acknowledged", &p.by, ""),
        P::PageEscalated(p) => ops::page(cx, &p.page_id, "escalated", &p.by, "after a timeout"),
        P::PageResolved(p) => ops::page(cx, &p.page_id, "resolved", &p.by, "automatically"),
        P::IncidentDeclaredFromCase(p) => ops::incident_declared(cx, p),
        P::IncidentChanged(p) => ops::incident_changed(p),
        P::NotificationDispatched(p) => ops::notified(p),
        P::NotificationSuppressed(p) => ops::suppressed(p),
        P::AutomationRuleFired(p) => ops::rule_fired(p),
        P::WorkflowTriggerRequested(p) => ops::workflow(p),
        P::SlaWarning(p) => ops::sla_warning(p),
        P::SlaBreached(p) => ops::sla_breached(p),
        P::ProjectSettingsChanged(p) => ops::settings(cx, p),
        P::RuleChanged(p) => ops::rule_changed(cx, p),
    }
}
