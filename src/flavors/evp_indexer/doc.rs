//! Pure: one event → one flat logs-intake document. No IO.
//!
//! Top-level keys are the envelope (`event_id`, `event_type`, `case_key`, …),
//! the case snapshot flattened under `case.` and the payload flattened under
//! `payload.` (snake_case keys, canonical proto3 JSON values: enums by name,
//! timestamps RFC 3339). Arrays stay arrays. Plus the intake's reserved
//! attributes: `message`, `ddsource`, `service`, `ddtags`, and `timestamp`
//! only when the intake still accepts it (see [`MAX_TIMESTAMP_AGE`]).
//!
//! The kit guarantees a payload: the document is built from the validated
//! [`Event`], so only canonical JSON can refuse an event.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::event::pb::{CaseSnapshot, Priority, StatusGroup};
use crate::event::{CaseEvent, Event, Payload, Timestamp};
use crate::flavors::kit::datadog::tag;

/// The intake drops logs whose `timestamp` is older than 18 h (still answering
/// 202); older events are sent without one, so the intake stamps them on
/// receipt, and keep their time in `occurred_at`. One hour of margin.
pub const MAX_TIMESTAMP_AGE: chrono::Duration = chrono::Duration::hours(17);
/// Longest string value kept; longer ones are cut and the document gets
/// `truncated: true` (the intake would cut logs over 1 MB anyway).
pub const MAX_STRING_CHARS: usize = 16 * 1024;

/// Attributes every document carries.
#[derive(Debug, Clone)]
pub struct DocContext {
    /// `ddsource`.
    pub ddsource: String,
    /// `service`.
    pub service: String,
}

/// Why an event cannot become a document.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// Canonical JSON cannot express a value (enum or timestamp out of range).
    #[error("event is not expressible as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Builds the document of `event` as the intake sees it at `now`.
pub fn document(event: &Event, ctx: &DocContext, now: DateTime<Utc>) -> Result<Value, DocError> {
    let payload = event.payload();
    let mut doc = Map::new();
    envelope(event, &mut doc);
    let snapshot = event.case_after.as_ref().or(match payload {
        Payload::CaseCreated(created) => created.snapshot.as_deref(),
        _ => None,
    });
    if let Some(snapshot) = snapshot {
        flatten(
            "case",
            attributes_as_lists(serde_json::to_value(snapshot)?),
            &mut doc,
        );
    }
    flatten("payload", payload_json(payload)?, &mut doc);
    let occurred = event.occurred_at.and_then(Timestamp::to_datetime);
    if let Some(at) = occurred.filter(|at| *at > now - MAX_TIMESTAMP_AGE) {
        doc.insert(
            "timestamp".into(),
            at.to_rfc3339_opts(SecondsFormat::Millis, true).into(),
        );
    }
    doc.insert("ddsource".into(), ctx.ddsource.clone().into());
    doc.insert("service".into(), ctx.service.clone().into());
    doc.insert("ddtags".into(), ddtags(event, snapshot).into());
    doc.insert("message".into(), message(event).into());
    if truncate_strings(&mut doc) {
        doc.insert("truncated".into(), true.into());
    }
    Ok(Value::Object(doc))
}

fn envelope(e: &CaseEvent, doc: &mut Map<String, Value>) {
    let mut put = |k: &str, v: Value| {
        let empty = matches!(&v, Value::String(s) if s.is_empty());
        if !empty && !v.is_null() {
            doc.insert(k.into(), v);
        }
    };
    put("event_id", e.event_id.clone().into());
    put("event_type", e.event_type.clone().into());
    put("schema_version", e.schema_version.into());
    put("org_id", e.org_id.clone().into());
    put("project_id", e.project_id.clone().into());
    put("project_key", e.project_key.clone().into());
    put("case_id", e.case_id.clone().into());
    put("case_key", e.case_key.clone().into());
    put("aggregate_version", e.aggregate_version.into());
    put("occurred_at", rfc3339(e.occurred_at.as_ref()));
    put("published_at", rfc3339(e.published_at.as_ref()));
    put("causation_id", e.causation_id.clone().into());
    put("correlation_id", e.correlation_id.clone().into());
    put("chain_depth", e.chain_depth.into());
    if let Some(actor) = &e.actor {
        put("actor_kind", actor.kind().as_str_name().into());
        put("actor_id", actor.id.clone().into());
        put("actor_name", actor.display_name.clone().into());
    }
    if let Some(origin) = &e.origin {
        put("origin_channel", origin.channel().as_str_name().into());
        put("origin_external_ref", origin.external_ref.clone().into());
    }
    if let Some(trace) = &e.trace {
        put("traceparent", trace.traceparent.clone().into());
    }
}

/// The payload variant's canonical JSON; a created case's snapshot is left
/// out (it is the `case.` part already).
fn payload_json(payload: &Payload) -> Result<Value, DocError> {
    let mut payload = payload.clone();
    if let Payload::CaseCreated(created) = &mut payload {
        created.snapshot = None;
    }
    let only = CaseEvent {
        payload: Some(payload),
        ..CaseEvent::default()
    };
    let value = serde_json::to_value(only)?;
    Ok(match value {
        Value::Object(map) => map.into_iter().next().map(|(_, v)| v).unwrap_or_default(),
        other => other,
    })
}

/// `attributes: {teams: {values: [..]}}` → `attributes: {teams: [..]}`.
fn attributes_as_lists(mut snapshot: Value) -> Value {
    if let Some(Value::Object(attrs)) = snapshot.get_mut("attributes") {
        for list in attrs.values_mut() {
            *list = list.get_mut("values").map(Value::take).unwrap_or_default();
        }
    }
    snapshot
}

/// Objects become dotted snake_case keys under `prefix`; other values stay.
pub fn flatten(prefix: &str, value: Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{prefix}.{}", snake_case(&k)), v, out);
            }
        }
        Value::Null => {}
        other => {
            out.insert(prefix.to_string(), other);
        }
    }
}

/// `fromStatusName` → `from_status_name`.
pub fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `project:<key>,priority:<p>,status:<name>,status_group:<g>,team:<t>…`,
/// each normalised to the intake's tag rules.
pub fn ddtags(event: &CaseEvent, snapshot: Option<&CaseSnapshot>) -> String {
    let mut tags = vec![tag("project", &event.project_key)];
    if let Some(s) = snapshot {
        tags.push(tag("priority", &priority_name(s.priority)));
        tags.push(tag("status", &s.status_name));
        let group = StatusGroup::try_from(s.status_group).unwrap_or_default();
        tags.push(tag(
            "status_group",
            group.as_str_name().trim_start_matches("STATUS_GROUP_"),
        ));
        let teams = s.attributes.get("teams").map(|l| l.values.as_slice());
        tags.extend(teams.unwrap_or_default().iter().map(|t| tag("team", t)));
    }
    tags.retain(|t| !t.is_empty());
    tags.join(",")
}

/// `p1`..`p5`, or `not_defined` (also for unset and unknown values).
fn priority_name(priority: i32) -> String {
    match Priority::try_from(priority).unwrap_or(Priority::NotDefined) {
        Priority::Unspecified => "not_defined".into(),
        p => p
            .as_str_name()
            .trim_start_matches("PRIORITY_")
            .to_lowercase(),
    }
}

/// One line for the log explorer: `SEC-42 case.status_changed by Alice`.
fn message(e: &CaseEvent) -> String {
    let subject = [&e.case_key, &e.project_key, &e.case_id]
        .into_iter()
        .find(|s| !s.is_empty())
        .map_or("-", String::as_str);
    let by = e.actor.as_ref().map(|a| {
        if a.display_name.is_empty() {
            a.kind()
                .as_str_name()
                .trim_start_matches("ACTOR_KIND_")
                .to_lowercase()
        } else {
            a.display_name.clone()
        }
    });
    match by {
        Some(by) => format!("{subject} {} by {by}", e.event_type),
        None => format!("{subject} {}", e.event_type),
    }
}

/// Cuts string values (also inside arrays) to [`MAX_STRING_CHARS`]; true when any was cut.
fn truncate_strings(doc: &mut Map<String, Value>) -> bool {
    fn cut(v: &mut Value) -> bool {
        match v {
            Value::String(s) => match s.char_indices().nth(MAX_STRING_CHARS) {
                Some((at, _)) => {
                    s.truncate(at);
                    true
                }
                None => false,
            },
            Value::Array(items) => items.iter_mut().fold(false, |any, i| cut(i) | any),
            Value::Object(map) => map.values_mut().fold(false, |any, i| cut(i) | any),
            _ => false,
        }
    }
    doc.values_mut().fold(false, |any, v| cut(v) | any)
}

fn rfc3339(ts: Option<&Timestamp>) -> Value {
    ts.and_then(|t| t.to_datetime()).map_or(Value::Null, |at| {
        at.to_rfc3339_opts(SecondsFormat::Millis, true).into()
    })
}

#[cfg(test)]
#[path = "doc_tests.rs"]
mod tests;
