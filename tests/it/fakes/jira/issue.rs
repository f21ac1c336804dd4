//! The fake's per-issue operations and its workflow.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{envelope, Comment, Issue};

/// Statuses of the fake workflow: (id, name, category key).
const STATUSES: [(&str, &str, &str); 3] = [
    ("10000", "To Do", "new"),
    ("10001", "In Progress", "indeterminate"),
    ("10002", "Done", "done"),
];
/// Transitions: (id, name, from status name, to status name).
const TRANSITIONS: [(&str, &str, &str, &str); 5] = [
    ("11", "Start", "To Do", "In Progress"),
    ("31", "Done", "To Do", "Done"),
    ("21", "Stop", "In Progress", "To Do"),
    ("32", "Done", "In Progress", "Done"),
    ("41", "Reopen", "Done", "To Do"),
];

fn status_json(name: &str) -> Value {
    let (id, name, cat) = STATUSES.iter().find(|s| s.1 == name).copied().unwrap();
    json!({"id": id, "name": name, "statusCategory": {"key": cat, "name": cat}})
}

/// Jira refuses a summary over 255 characters (UTF-16 units, it is Java).
pub fn summary_problem(fields: &Value) -> Option<&'static str> {
    let summary = fields.get("summary")?.as_str()?;
    (summary.encode_utf16().count() > 255).then_some("Summary must be less than 255 characters.")
}

pub fn issue_op(
    issue: &mut Issue,
    method: &str,
    rest: &[&str],
    query: &str,
    body: &Value,
    refuse: &mut u32,
) -> Response {
    let no_content = || StatusCode::NO_CONTENT.into_response();
    match (method, rest) {
        ("GET", []) => {
            let mut fields = issue.fields.clone();
            fields.insert("status".into(), status_json(&issue.status));
            Json(json!({"id": issue.id, "key": issue.key, "fields": fields})).into_response()
        }
        ("PUT", []) => {
            if let Some(problem) = summary_problem(&body["fields"]) {
                return envelope(StatusCode::BAD_REQUEST, &[], json!({"summary": problem}));
            }
            if body["fields"].is_object() && body["update"].is_object() {
                let both = body["fields"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|k| body["update"].get(k).is_some());
                if both {
                    return envelope(
                        StatusCode::BAD_REQUEST,
                        &["A field is in both fields and update."],
                        json!({}),
                    );
                }
            }
            for (k, v) in body["fields"].as_object().into_iter().flatten() {
                issue.fields.insert(k.clone(), v.clone());
            }
            for op in body["update"]["labels"].as_array().into_iter().flatten() {
                let mut labels = issue
                    .fields
                    .get("labels")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if let Some(add) = op.get("add") {
                    if !labels.contains(add) {
                        labels.push(add.clone());
                    }
                }
                if let Some(remove) = op.get("remove") {
                    labels.retain(|l| l != remove);
                }
                issue.fields.insert("labels".into(), Value::Array(labels));
            }
            no_content()
        }
        ("PUT", ["assignee"]) => {
            let assignee = match &body["accountId"] {
                Value::String(a) => json!({"accountId": a}),
                _ => Value::Null,
            };
            issue.fields.insert("assignee".into(), assignee);
            no_content()
        }
        ("GET", ["transitions"]) => {
            let ts: Vec<Value> = (TRANSITIONS.iter())
                .filter(|t| t.2 == issue.status)
                .map(|t| json!({"id": t.0, "name": t.1, "to": status_json(t.3), "isAvailable": true}))
                .collect();
            Json(json!({"transitions": ts})).into_response()
        }
        ("POST", ["transitions"]) => {
            let id = body["transition"]["id"].as_str().unwrap_or("");
            let available = TRANSITIONS
                .iter()
                .find(|t| t.0 == id && t.2 == issue.status);
            match available {
                Some(t) if *refuse == 0 => {
                    issue.status = t.3.into();
                    issue.history.push(t.0.into());
                    no_content()
                }
                _ => {
                    *refuse = refuse.saturating_sub(1);
                    envelope(
                        StatusCode::BAD_REQUEST,
                        &[&format!(
                            "Transition id '{id}' is not valid for this issue."
                        )],
                        json!({}),
                    )
                }
            }
        }
        ("POST", ["comment"]) => {
            if body["body"]["type"] != "doc" {
                return envelope(
                    StatusCode::BAD_REQUEST,
                    &[],
                    json!({"comment": "Comment body must be an Atlassian Document."}),
                );
            }
            // Comment ids are unique across the site.
            let id = format!("{}{:04}", issue.id, issue.comments.len() + 1);
            issue.comments.push(Comment {
                id: id.clone(),
                body: body["body"].clone(),
                properties: body["properties"].clone(),
            });
            let c = json!({"id": id, "body": body["body"], "author": {"accountId": "acc-bot"}, "created": chrono::Utc::now().to_rfc3339()});
            (StatusCode::CREATED, Json(c)).into_response()
        }
        ("GET", ["comment"]) => {
            // `expand` here takes only `renderedBody`: never properties.
            let mut list: Vec<Value> = (issue.comments.iter())
                .map(|c| json!({"id": c.id, "body": c.body}))
                .collect();
            if query.contains("orderBy=-created") {
                list.reverse();
            }
            let total = list.len();
            Json(json!({"comments": list, "startAt": 0, "maxResults": 100, "total": total}))
                .into_response()
        }
        ("PUT", ["properties", key]) => {
            let created = issue
                .properties
                .insert((*key).into(), body.clone())
                .is_none();
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            status.into_response()
        }
        ("GET", ["properties", key]) => match issue.properties.get(*key) {
            Some(v) => Json(json!({"key": key, "value": v})).into_response(),
            None => envelope(
                StatusCode::NOT_FOUND,
                &["The property was not found."],
                json!({}),
            ),
        },
        _ => envelope(StatusCode::NOT_FOUND, &["No such resource."], json!({})),
    }
}
