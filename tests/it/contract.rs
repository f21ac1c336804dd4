//! Contract checks against vendor OpenAPI 3.0 and 3.1 specs, read offline
//! (Swagger 2.0 specs are converted to the 3.0 shape by
//! `scripts/trim-specs.py`; tests/specs/README.md).
//!
//! [`load_spec`] parses a spec once per test process; [`validate_request`] and
//! [`validate_response`] find the operation by method and concrete path
//! (templates such as `/rest/api/3/issue/{issueIdOrKey}` match any segment)
//! and validate a JSON body against its schema, resolving `$ref`s lazily (so
//! recursive schemas work). OpenAPI 3.0 semantics: `nullable`, boolean
//! `exclusiveMinimum`/`exclusiveMaximum`; 3.1 ones (see `schema`); `readOnly` properties are errors in
//! requests and `writeOnly` ones in responses. A validation keyword this
//! validator does not know is an error, never silently passed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

mod scalars;
mod schema;
mod vendors;

pub use schema::Direction;

/// The parts of the Datadog API v2 spec the tests use (tests/specs/README.md).
pub const DATADOG_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/specs/datadog/v2/openapi.trimmed.json"
);

/// The parts of the OpenSearch spec (OpenAPI 3.1) the tests use.
pub const OPENSEARCH_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/specs/opensearch/opensearch-openapi.trimmed.json"
);

/// The parts of the Slack Web API spec the tests use (Swagger 2.0, converted).
pub const SLACK_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/specs/slack/web-api/slack_web_openapi_v2.trimmed.json"
);

/// The parts of the Opsgenie spec the tests use (Swagger 2.0, converted).
pub const OPSGENIE_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/specs/opsgenie/swagger.trimmed.json"
);

/// PagerDuty Events API v2 (server `https://events.pagerduty.com/v2`).
pub const PAGERDUTY_EVENTS_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/specs/pagerduty/reference/events-v2/openapiv3.trimmed.json"
);

/// Every trimmed spec under tests/specs.
pub const TRIMMED_SPECS: &[&str] = &[
    DATADOG_SPEC,
    OPENSEARCH_SPEC,
    SLACK_SPEC,
    OPSGENIE_SPEC,
    PAGERDUTY_EVENTS_SPEC,
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/specs/jira/swagger-v3.v3.trimmed.json"
    ),
];

/// Every schema keyword in `spec` (components, request bodies, responses and
/// parameters) the validator does not implement; empty when it can read it all.
pub fn lint_spec(spec: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let media = |container: &Value, at: &str, errors: &mut Vec<String>| {
        for (kind, m) in container
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(schema) = m.get("schema") {
                schema::lint(schema, &format!("{at}.{kind}"), errors);
            }
        }
    };
    let section = |k: &str| {
        spec.pointer(&format!("/components/{k}"))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
    };
    for (name, s) in section("schemas") {
        schema::lint(s, &format!("schemas.{name}"), &mut errors);
    }
    for k in ["requestBodies", "responses"] {
        for (name, r) in section(k) {
            media(r, &format!("{k}.{name}"), &mut errors);
        }
    }
    let params = |list: Option<&Value>, at: &str, errors: &mut Vec<String>| {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            if let Some(schema) = p.get("schema") {
                schema::lint(schema, &format!("{at}.parameter"), errors);
            }
        }
    };
    for (name, p) in section("parameters") {
        if let Some(schema) = p.get("schema") {
            schema::lint(schema, &format!("parameters.{name}"), &mut errors);
        }
    }
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        params(item.get("parameters"), path, &mut errors);
        for (method, op) in item.as_object().into_iter().flatten() {
            let at = format!("{method} {path}");
            params(op.get("parameters"), &at, &mut errors);
            if let Some(body) = op.get("requestBody") {
                media(body, &format!("{at} request"), &mut errors);
            }
            for (status, r) in op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                media(r, &format!("{at} {status}"), &mut errors);
            }
        }
    }
    errors
}

/// The spec at `path` as JSON, parsed once per process (YAML or JSON).
pub fn load_spec(path: impl AsRef<Path>) -> &'static Value {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, &'static Value>>> = OnceLock::new();
    let path = path.as_ref().to_path_buf();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    if let Some(spec) = cache.get(&path) {
        return spec;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read spec {}: {e}", path.display()));
    let mut yaml: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml.apply_merge().expect("YAML merge keys");
    let spec: &'static Value = Box::leak(Box::new(yaml_to_json(yaml)));
    cache.insert(path, spec);
    spec
}

/// YAML → JSON, with non-string keys (e.g. unquoted status codes) as strings.
fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => b.into(),
        Y::Number(n) => serde_json::to_value(&n).unwrap_or(Value::Null),
        Y::String(s) => s.into(),
        Y::Sequence(items) => items.into_iter().map(yaml_to_json).collect(),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

/// Validates a request body against the operation's `application/json` schema.
/// `path` is the request path (a query string is ignored).
pub fn validate_request(
    spec: &Value,
    method: &str,
    path: &str,
    body: &Value,
) -> Result<(), Vec<String>> {
    validate_request_as(spec, method, path, None, body)
}

/// [`validate_request`] against the schema of media type `media` (e.g.
/// `application/x-www-form-urlencoded`, with the form's fields as a JSON
/// object) instead of the JSON one.
pub fn validate_request_as(
    spec: &Value,
    method: &str,
    path: &str,
    media: Option<&str>,
    body: &Value,
) -> Result<(), Vec<String>> {
    let op = operation(spec, method, path)?;
    let Some(request) = op.get("requestBody") else {
        return if body.is_null() {
            Ok(())
        } else {
            Err(vec![format!("{method} {path} takes no body")])
        };
    };
    let request = schema::resolve(spec, request).map_err(|e| vec![e])?;
    if body.is_null() {
        let required = request
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        return if required {
            Err(vec!["a request body is required".into()])
        } else {
            Ok(())
        };
    }
    let found = match media {
        Some(kind) => request.get("content").and_then(|c| c.get(kind)),
        None => json_media(request),
    };
    let found = found.ok_or_else(|| {
        vec![format!(
            "no {} request body in the spec",
            media.unwrap_or("JSON")
        )]
    })?;
    schema_of(spec, found, body, Direction::Request)
}

/// Validates a response body against the operation's schema for `status`
/// (or its `default` response).
pub fn validate_response(
    spec: &Value,
    method: &str,
    path: &str,
    status: u16,
    body: &Value,
) -> Result<(), Vec<String>> {
    let op = operation(spec, method, path)?;
    let responses = op
        .get("responses")
        .ok_or_else(|| vec!["no responses".to_string()])?;
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get(format!("{}XX", status / 100)))
        .or_else(|| responses.get("default"))
        .ok_or_else(|| vec![format!("{method} {path} documents no {status} response")])?;
    let response = schema::resolve(spec, response).map_err(|e| vec![e])?;
    match json_media(response) {
        Some(media) => schema_of(spec, media, body, Direction::Response),
        None if body.is_null() => Ok(()),
        None => Err(vec![format!(
            "the {status} response has no JSON body in the spec"
        )]),
    }
}

/// Validates `value` against `schema` (which may be a `$ref` into `spec`).
pub fn validate_schema(
    spec: &Value,
    schema: &Value,
    value: &Value,
    dir: Direction,
) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    schema::Validator::new(spec, dir).check(schema, value, "$", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn schema_of(spec: &Value, media: &Value, body: &Value, dir: Direction) -> Result<(), Vec<String>> {
    match media.get("schema") {
        Some(schema) => validate_schema(spec, schema, body, dir),
        None => Ok(()),
    }
}

fn json_media(container: &Value) -> Option<&Value> {
    let content = container.get("content")?.as_object()?;
    content.get("application/json").or_else(|| {
        content
            .iter()
            .find(|(k, _)| k.contains("json"))
            .map(|(_, v)| v)
    })
}

/// The operation of `method` on the path template matching `path`; literal
/// segments beat `{parameters}` when several templates match.
/// A path that starts with the path of a server URL (PagerDuty's
/// `https://events.pagerduty.com/v2`) is also tried without it.
fn operation<'a>(spec: &'a Value, method: &str, path: &str) -> Result<&'a Value, Vec<String>> {
    let path = path.split('?').next().unwrap_or(path);
    let first = template_operation(spec, method, path);
    if first.is_ok() {
        return first;
    }
    let bases = spec
        .get("servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("url")?.as_str())
        .filter_map(|url| {
            let rest = url.split_once("://").map_or(url, |(_, r)| r);
            Some(rest[rest.find('/')?..].trim_end_matches('/'))
        });
    for base in bases.filter(|b| !b.is_empty()) {
        if let Some(rest) = path.strip_prefix(base).filter(|r| r.starts_with('/')) {
            if let Ok(op) = template_operation(spec, method, rest) {
                return Ok(op);
            }
        }
    }
    first
}

fn template_operation<'a>(
    spec: &'a Value,
    method: &str,
    path: &str,
) -> Result<&'a Value, Vec<String>> {
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| vec!["spec has no paths".to_string()])?;
    let want: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let best = paths
        .iter()
        .filter_map(|(template, item)| {
            let have: Vec<&str> = template.trim_end_matches('/').split('/').collect();
            let fits = have.len() == want.len()
                && have
                    .iter()
                    .zip(&want)
                    .all(|(h, w)| (is_param(h) && !w.is_empty()) || h == w);
            fits.then(|| (have.iter().filter(|h| !is_param(h)).count(), item))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, item)| item)
        .ok_or_else(|| vec![format!("no path in the spec matches {path}")])?;
    best.get(method.to_ascii_lowercase())
        .ok_or_else(|| vec![format!("{path} has no {method} operation")])
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn toy() -> Value {
        json!({
            "paths": {
                "/rest/api/3/issue/{issueIdOrKey}": {"put": {"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Issue"}}}}}},
                "/rest/api/3/issue/createmeta": {"put": {}},
            },
            "components": {"schemas": {
                "Issue": {"type": "object", "required": ["key"], "additionalProperties": false, "properties": {
                    "key": {"type": "string", "pattern": "^[A-Z]+-[0-9]+$"},
                    "id": {"type": "string", "readOnly": true},
                    "parent": {"$ref": "#/components/schemas/Issue"},
                    "due": {"type": "string", "format": "date", "nullable": true},
                    "kind": {"oneOf": [{"type": "integer"}, {"type": "string", "enum": ["bug", "task"]}]},
                }},
            }},
        })
    }

    #[test]
    fn contract_templates_match_and_literals_win() {
        let spec = toy();
        let ok = json!({"key": "SEC-1", "parent": {"key": "SEC-2"}, "due": null, "kind": "bug"});
        assert_eq!(
            validate_request(&spec, "PUT", "/rest/api/3/issue/SEC-1?x=1", &ok),
            Ok(())
        );
        let err = validate_request(&spec, "PUT", "/rest/api/3/issue/createmeta", &ok).unwrap_err();
        assert!(err[0].contains("takes no body"), "{err:?}");
        assert!(validate_request(&spec, "POST", "/rest/api/3/issue/SEC-1", &ok).is_err());
        assert!(validate_request(&spec, "PUT", "/nowhere", &ok).is_err());
    }

    #[test]
    fn contract_violations_are_all_reported_with_their_paths() {
        let spec = toy();
        let bad = json!({"id": "1", "parent": {"key": "lower-1"}, "due": "2025-13-45", "kind": "epic", "extra": 1});
        let errors = validate_request(&spec, "PUT", "/rest/api/3/issue/X-1", &bad).unwrap_err();
        for expected in [
            "$.key",
            "$.id",
            "$.parent.key",
            "$.due",
            "$.kind",
            "$.extra",
        ] {
            assert!(
                errors
                    .iter()
                    .any(|e| e.starts_with(&format!("{expected}:"))),
                "{expected} in {errors:?}"
            );
        }
        assert!(validate_request(&spec, "PUT", "/rest/api/3/issue/X-1", &Value::Null).is_err());
    }

    #[test]
    fn contract_datadog_logs_request_schema_is_enforced() {
        let spec = load_spec(DATADOG_SPEC);
        let good = json!([{"message": "m", "ddtags": "a:b", "any": {"nested": 1}}]);
        assert_eq!(
            validate_request(spec, "POST", "/api/v2/logs", &good),
            Ok(())
        );
        for bad in [
            json!([{"ddtags": "a:b"}]),
            json!([{"message": 1}]),
            json!({"message": "m"}),
            json!(["m"]),
        ] {
            assert!(
                validate_request(spec, "POST", "/api/v2/logs", &bad).is_err(),
                "{bad}"
            );
        }
        let envelope =
            json!({"errors": [{"status": "413", "title": "Payload Too Large", "detail": "x"}]});
        assert_eq!(
            validate_response(spec, "POST", "/api/v2/logs", 413, &envelope),
            Ok(())
        );
        let strings = json!({"errors": ["x"]});
        assert!(validate_response(spec, "POST", "/api/v2/logs", 413, &strings).is_err());
    }
}
