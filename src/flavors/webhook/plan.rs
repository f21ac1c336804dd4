//! What the webhook flavor enqueues for an event (pure: the rules snapshot
//! in force and the event are its only inputs, relative query times are the
//! event's): one delivery per endpoint of the event's project that is
//! enabled, takes the event's type and, with a query, matches the case
//! after the event. The payload is the Standard Webhooks envelope:
//! `{"type", "timestamp", "data"}`, where `data` is the event in proto3
//! JSON, with its case snapshot (`caseAfter`).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::event::Event;
use crate::flavors::kit::delivery::Wanted;
use crate::rules::schema::WebhookEndpoint;
use crate::rules::RulesSnapshot;
use crate::store::rows::PlanError;

/// The destination of `endpoint` of `project`: `<PROJECT>/<name>`.
pub fn destination(project: &str, endpoint: &str) -> String {
    format!("{project}/{endpoint}")
}

/// The endpoint a destination names, in `snapshot`.
pub fn endpoint<'a>(snapshot: &'a RulesSnapshot, destination: &str) -> Option<&'a WebhookEndpoint> {
    let (project, name) = destination.split_once('/')?;
    let project = snapshot.project(project)?;
    project.rules.webhooks.iter().find(|w| w.name == name)
}

/// The deliveries `event` asks for under `snapshot`.
pub fn plan(snapshot: &RulesSnapshot, event: &Event) -> Result<Vec<Wanted>, PlanError> {
    let Some(project) = snapshot.project(&event.project_key) else {
        return Ok(Vec::new());
    };
    let kind = event.kind().as_str();
    let at = DateTime::from_timestamp_millis(event.occurred_at_ms()).unwrap_or_default();
    let wanted: Vec<&WebhookEndpoint> = (project.rules.webhooks.iter())
        .filter(|w| w.enabled && wants(w, kind, event, at))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let payload = envelope_of(event)?;
    Ok(wanted
        .into_iter()
        .map(|w| Wanted {
            destination: destination(&project.key, &w.name),
            payload: payload.clone(),
        })
        .collect())
}

/// Whether `endpoint` takes an event of type `kind` on its case.
fn wants(endpoint: &WebhookEndpoint, kind: &str, event: &Event, at: DateTime<Utc>) -> bool {
    let typed = endpoint.events.is_empty() || endpoint.events.iter().any(|t| t == kind);
    typed
        && match (&endpoint.query, &event.case_after) {
            (None, _) => true,
            (Some(cq), Some(case)) => cq.query().matches(case, at),
            // A query needs the case: without a snapshot it cannot match.
            (Some(_), None) => false,
        }
}

/// The Standard Webhooks envelope of `event`: what its endpoints get.
pub fn envelope_of(event: &Event) -> Result<Value, PlanError> {
    let data = serde_json::to_value(&**event)
        .map_err(|e| PlanError::Invalid(format!("the event has no JSON form: {e}")))?;
    let timestamp = (data.get("occurredAt").cloned()).unwrap_or(Value::Null);
    Ok(json!({
        "type": event.kind().as_str(),
        "timestamp": timestamp,
        "data": data,
    }))
}
