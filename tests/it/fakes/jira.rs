//! A fake Jira Cloud REST v3, in process on 127.0.0.1:0.
//!
//! Answers like the real one where the sync depends on it: 201 `{id,key,self}`
//! on create, 204 on edit/assign/transition, a per-issue transition graph
//! (To Do → In Progress → Done → Reopen; 400 when a transition is not
//! available now), issue properties (201 then 200), comments with properties,
//! `POST search/jql` with a configurable visibility lag, errors in the
//! `{"errorMessages":[],"errors":{}}` envelope and 401 without the expected
//! `Authorization`, a summary over 255 characters refused with 400 (create
//! and edit). Comment properties come only from `POST /comment/list?expand=
//! properties`, as documented; `GET /issue/{id}/comment` has none. Tests can
//! inject 429 (`Retry-After`, `X-RateLimit-Reset`; on every path or on one
//! endpoint), creates and comments whose answer is lost (applied, the client
//! sees 504) and 400s on transitions. Every request is recorded with its
//! arrival time.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::server::{FakeServer, Fault, Incoming, Vendor};
use issue::issue_op;

mod issue;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub body: Value,
    /// 0 when the connection was closed instead of answered.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

/// A comment.
#[derive(Debug, Clone)]
pub struct Comment {
    pub id: String,
    pub body: Value,
    pub properties: Value,
}

/// An issue.
#[derive(Debug, Clone)]
pub struct Issue {
    pub id: String,
    pub key: String,
    pub fields: Map<String, Value>,
    pub status: String,
    pub properties: BTreeMap<String, Value>,
    pub comments: Vec<Comment>,
    /// Transition ids taken, in order.
    pub history: Vec<String>,
    created: Instant,
}

#[derive(Default)]
struct World {
    project: String,
    auth: String,
    issues: BTreeMap<String, Issue>,
    next: u64,
    search_lag: Duration,
    refuse_transitions: u32,
}

/// Jira's side of the fake (the harness does the rest).
struct Jira(Mutex<World>);

impl Vendor for Jira {
    fn answer(&self, req: &Incoming) -> Response {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let mut w = self.0.lock().unwrap();
        answer(&mut w, &req.method, &req.uri, &req.headers, &body)
    }

    fn refuse(&self, status: StatusCode, retry_after: Option<u64>) -> Response {
        match (status, retry_after) {
            (StatusCode::TOO_MANY_REQUESTS, secs) => too_many(secs.unwrap_or(1)),
            (StatusCode::GATEWAY_TIMEOUT, _) => envelope(status, &["Gateway timeout."], json!({})),
            _ => envelope(
                status,
                &[status.canonical_reason().unwrap_or("Error")],
                json!({}),
            ),
        }
    }
}

/// The running fake.
pub struct FakeJira {
    pub url: String,
    server: FakeServer<Jira>,
}

impl FakeJira {
    /// Serves project `project`; requests must carry `authorization` exactly.
    pub async fn start(project: &str, authorization: &str) -> Self {
        let world = World {
            project: project.into(),
            auth: authorization.into(),
            next: 1,
            ..World::default()
        };
        let server = FakeServer::start(Jira(Mutex::new(world))).await;
        Self {
            url: server.base_url(),
            server,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        f(&mut self.server.vendor().0.lock().unwrap())
    }

    /// New issues stay invisible to search this long.
    pub fn set_search_lag(&self, lag: Duration) {
        self.with(|w| w.search_lag = lag);
    }

    /// The next `n` requests get 429.
    pub fn rate_limit_next(&self, n: usize) {
        self.server
            .inject(std::iter::repeat_n(Fault::RateLimited(1), n));
    }

    /// The next `n` requests to a path ending in `endpoint` get 429 with
    /// `Retry-After: retry_after_secs`.
    pub fn rate_limit_endpoint(&self, endpoint: &str, n: usize, retry_after_secs: u64) {
        (self.server).inject_on(endpoint, Fault::RateLimited(retry_after_secs), n);
    }

    /// The next `n` comment POSTs are applied but answer 504.
    pub fn lose_next_comment_answers(&self, n: usize) {
        (self.server).inject_on("POST /comment", Fault::Lost(Some(504)), n);
    }

    /// The next `n` creates are applied but answer 504.
    pub fn lose_next_create_answers(&self, n: usize) {
        (self.server).inject_on("POST /issue", Fault::Lost(Some(504)), n);
    }

    /// The next `n` transition POSTs get 400 even when available.
    pub fn refuse_next_transitions(&self, n: u32) {
        self.with(|w| w.refuse_transitions = n);
    }

    /// Creates an issue directly, as if an earlier process had.
    pub fn seed_issue(&self, fields: Value) -> Issue {
        self.with(|w| create(w, fields, Value::Null))
    }

    /// Deletes an issue, as someone in Jira might.
    pub fn delete_issue(&self, id: &str) {
        self.with(|w| w.issues.remove(id));
    }

    pub fn issues(&self) -> Vec<Issue> {
        self.with(|w| w.issues.values().cloned().collect())
    }

    /// Every request so far, with the status the client got.
    pub fn requests(&self) -> Vec<Request> {
        (self.server.exchanges().into_iter())
            .map(|e| Request {
                method: e.request.method.to_string(),
                path: e.path(),
                body: serde_json::from_slice(&e.request.body).unwrap_or(Value::Null),
                status: e.status.unwrap_or(0),
                at: e.at,
            })
            .collect()
    }
}

fn envelope(status: StatusCode, messages: &[&str], errors: Value) -> Response {
    let body = json!({"errorMessages": messages, "errors": errors});
    (status, Json(body)).into_response()
}

fn create(w: &mut World, fields: Value, properties: Value) -> Issue {
    let n = w.next;
    w.next += 1;
    let issue = Issue {
        id: (10000 + n).to_string(),
        key: format!("{}-{n}", w.project),
        fields: fields.as_object().cloned().unwrap_or_default(),
        status: "To Do".into(),
        properties: (properties.as_array().into_iter().flatten())
            .map(|p| (p["key"].as_str().unwrap_or("").into(), p["value"].clone()))
            .collect(),
        comments: Vec::new(),
        history: Vec::new(),
        created: Instant::now(),
    };
    w.issues.insert(issue.id.clone(), issue.clone());
    issue
}

fn answer(
    w: &mut World,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Value,
) -> Response {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(w.auth.as_str()) {
        return envelope(
            StatusCode::UNAUTHORIZED,
            &["You are not authenticated."],
            json!({}),
        );
    }
    let query = uri.query().unwrap_or("");
    let segments: Vec<&str> = uri
        .path()
        .trim_start_matches("/rest/api/3/")
        .split('/')
        .collect();
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["issue"]) => create_issue(w, body),
        ("POST", ["search", "jql"]) => search(w, body),
        ("POST", ["comment", "list"]) => comment_list(w, query, body),
        (m, ["issue", id, rest @ ..]) => {
            let Some(issue) = w.issues.values_mut().find(|i| i.id == *id || i.key == *id) else {
                return envelope(
                    StatusCode::NOT_FOUND,
                    &["Issue does not exist or you do not have permission to see it."],
                    json!({}),
                );
            };
            let refuse = &mut w.refuse_transitions;
            issue_op(issue, m, rest, query, body, refuse)
        }
        _ => envelope(StatusCode::NOT_FOUND, &["No such resource."], json!({})),
    }
}

/// 429 as Jira sends it: `Retry-After`, `X-RateLimit-Reset`, the reason.
fn too_many(secs: u64) -> Response {
    {
        let reset = (chrono::Utc::now() + chrono::Duration::seconds(secs as i64)).to_rfc3339();
        let mut r = envelope(
            StatusCode::TOO_MANY_REQUESTS,
            &["Rate limit exceeded."],
            json!({}),
        );
        r.headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
        r.headers_mut()
            .insert("x-ratelimit-reset", reset.parse().unwrap());
        r.headers_mut()
            .insert("ratelimit-reason", "jira-burst-based".parse().unwrap());
        r
    }
}

/// `POST /comment/list`: the comments with these ids; properties only with
/// `expand=properties`.
fn comment_list(w: &World, query: &str, body: &Value) -> Response {
    let Some(ids) = body["ids"].as_array() else {
        return envelope(StatusCode::BAD_REQUEST, &["ids is required."], json!({}));
    };
    let wanted: Vec<String> = ids
        .iter()
        .filter_map(Value::as_i64)
        .map(|i| i.to_string())
        .collect();
    let expand = query.contains("expand=properties");
    let values: Vec<Value> = (w.issues.values())
        .flat_map(|i| i.comments.iter())
        .filter(|c| wanted.contains(&c.id))
        .map(|c| {
            let mut v = json!({"id": c.id, "body": c.body});
            if expand {
                v["properties"] = c
                    .properties
                    .as_array()
                    .cloned()
                    .map_or(json!([]), Value::Array);
            }
            v
        })
        .collect();
    let total = values.len();
    Json(
        json!({"values": values, "startAt": 0, "maxResults": 1000, "total": total, "isLast": true}),
    )
    .into_response()
}

fn create_issue(w: &mut World, body: &Value) -> Response {
    let f = &body["fields"];
    let mut errors = Map::new();
    if f["project"]["key"] != json!(w.project) {
        errors.insert("project".into(), json!("valid project is required"));
    }
    if f["issuetype"]["name"].as_str().is_none_or(str::is_empty) {
        errors.insert("issuetype".into(), json!("valid issue type is required"));
    }
    if f["summary"].as_str().is_none_or(|s| s.trim().is_empty()) {
        errors.insert(
            "summary".into(),
            json!("You must specify a summary of the issue."),
        );
    }
    if let Some(problem) = issue::summary_problem(f) {
        errors.insert("summary".into(), json!(problem));
    }
    let labels = f["labels"].as_array().cloned().unwrap_or_default();
    if labels
        .iter()
        .any(|l| l.as_str().is_none_or(|l| l.contains(' ')))
    {
        errors.insert("labels".into(), json!("Labels cannot contain spaces."));
    }
    if !f["description"].is_null() && f["description"]["type"] != "doc" {
        errors.insert(
            "description".into(),
            json!("Operation value must be an Atlassian Document."),
        );
    }
    if !errors.is_empty() {
        return envelope(StatusCode::BAD_REQUEST, &[], Value::Object(errors));
    }
    let issue = create(w, f.clone(), body["properties"].clone());
    let self_url = format!("/rest/api/3/issue/{}", issue.id);
    (
        StatusCode::CREATED,
        Json(json!({"id": issue.id, "key": issue.key, "self": self_url})),
    )
        .into_response()
}

fn search(w: &World, body: &Value) -> Response {
    let jql = body["jql"].as_str().unwrap_or("");
    let quoted = |after: &str| {
        let rest = jql.split(after).nth(1)?;
        let start = rest.find('"')? + 1;
        let len = rest[start..].find('"')?;
        Some(rest[start..start + len].to_string())
    };
    let (Some(project), Some(label)) = (quoted("project ="), quoted("labels =")) else {
        return envelope(
            StatusCode::BAD_REQUEST,
            &["Unsupported JQL in the fake."],
            json!({}),
        );
    };
    let issues: Vec<Value> = (w.issues.values())
        .filter(|i| i.key.starts_with(&format!("{project}-")))
        .filter(|i| i.created.elapsed() >= w.search_lag)
        .filter(|i| {
            i.fields["labels"]
                .as_array()
                .is_some_and(|l| l.contains(&json!(label)))
        })
        .map(|i| json!({"id": i.id, "key": i.key, "fields": {"labels": i.fields["labels"]}}))
        .collect();
    Json(json!({"issues": issues, "isLast": true})).into_response()
}
