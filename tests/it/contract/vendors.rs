//! The coming vendors' trimmed specs: each loads and is fully readable by the
//! validator, a realistic request (tests/specs, shared reference
//! integrations.md) passes and a wrong one is refused naming the field.

use serde_json::{json, Value};

use super::{
    lint_spec, load_spec, validate_request, validate_request_as, DATADOG_SPEC, OPENSEARCH_SPEC,
    OPSGENIE_SPEC, PAGERDUTY_EVENTS_SPEC, SLACK_SPEC, TRIMMED_SPECS,
};

/// `Err` naming `field` (an error line starting with it).
fn refused(result: Result<(), Vec<String>>, field: &str) {
    let errors = result
        .err()
        .unwrap_or_else(|| panic!("the wrong body was accepted ({field})"));
    assert!(
        errors.iter().any(|e| e.starts_with(&format!("{field}:"))),
        "{field} not named in {errors:?}"
    );
}

#[test]
fn contract_every_trimmed_spec_loads_and_every_schema_keyword_is_known() {
    for path in TRIMMED_SPECS {
        let spec = load_spec(path);
        assert!(
            spec.get("openapi").and_then(Value::as_str).is_some(),
            "{path}: not OpenAPI 3"
        );
        assert!(
            spec["paths"].as_object().is_some_and(|p| !p.is_empty()),
            "{path}: no paths"
        );
        let problems = lint_spec(spec);
        assert!(problems.is_empty(), "{path}: {problems:#?}");
    }
}

#[test]
fn contract_validator_reads_openapi_3_1_keywords() {
    let spec = json!({"components": {"schemas": {
        "S": {"type": "object", "properties": {
            "n": {"type": ["string", "null"]},
            "k": {"const": "index"},
            "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
        }, "propertyNames": {"pattern": "^[a-z]$"}, "unevaluatedProperties": false},
        "T": {"$ref": "#/components/schemas/S", "minLength": 1},
        "U": {"type": "string", "if": {"minLength": 1}},
    }}});
    let s = json!({"$ref": "#/components/schemas/S"});
    let check = |schema: &Value, v: Value| {
        super::validate_schema(&spec, schema, &v, super::Direction::Request)
    };
    assert_eq!(check(&s, json!({"n": null, "k": "index", "x": 5})), Ok(()));
    refused(check(&s, json!({"n": 1})), "$.n");
    refused(check(&s, json!({"k": "create"})), "$.k");
    refused(check(&s, json!({"x": 0})), "$.x");
    refused(check(&s, json!({"x": 10})), "$.x");
    refused(check(&s, json!({"zz": 1})), "$.zz");
    let t = json!({"$ref": "#/components/schemas/T"});
    refused(check(&t, json!({})), "$");
    let u = json!({"$ref": "#/components/schemas/U"});
    let errors = check(&u, json!("a")).unwrap_err();
    assert!(
        errors[0].contains("unsupported schema keyword `if`"),
        "{errors:?}"
    );
}

/// NDJSON lines as the JSON array the spec models.
fn ndjson(text: &str) -> Value {
    assert!(text.ends_with('\n'), "_bulk bodies end with a newline");
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect()
}

#[test]
fn contract_opensearch_requests() {
    let spec = load_spec(OPENSEARCH_SPEC);
    let bulk = ndjson(concat!(
        r#"{"index":{"_index":"cases","_id":"C123","version":42,"version_type":"external"}}"#,
        "\n",
        r#"{"case_id":"C123","status":"open","revision":42}"#,
        "\n",
        r#"{"delete":{"_index":"cases","_id":"C9"}}"#,
        "\n"
    ));
    assert_eq!(validate_request(spec, "POST", "/_bulk", &bulk), Ok(()));
    assert_eq!(
        validate_request(spec, "POST", "/cases/_bulk", &bulk),
        Ok(())
    );
    // Vendor quirk: `SortCombinations` is a `oneOf` whose `SortOptions` member
    // takes any one-key object, so `[{"revision": {"order": "desc"}}]` matches
    // two members and is refused; only the plain field-name form is unambiguous.
    let search = json!({"query": {"bool": {"filter": [{"term": {"status": "open"}}]}}, "size": 10, "sort": ["revision"]});
    assert_eq!(
        validate_request(spec, "POST", "/cases/_search", &search),
        Ok(())
    );
    let reindex = json!({"source": {"index": "cases-v1"}, "dest": {"index": "cases-v2", "version_type": "external"}});
    assert_eq!(
        validate_request(spec, "POST", "/_reindex", &reindex),
        Ok(())
    );
    let template = json!({"index_patterns": ["cases-*"], "priority": 100, "template": {"settings": {"number_of_shards": 1}, "mappings": {"dynamic": false, "properties": {"case_id": {"type": "keyword"}}}}});
    assert_eq!(
        validate_request(spec, "PUT", "/_index_template/cases", &template),
        Ok(())
    );
    let aliases = json!({"actions": [{"remove": {"index": "cases-v1", "alias": "cases"}}, {"add": {"index": "cases-v2", "alias": "cases"}}]});
    assert_eq!(
        validate_request(spec, "POST", "/_aliases", &aliases),
        Ok(())
    );

    let mut bad = template.clone();
    bad["priority"] = json!("high");
    refused(
        validate_request(spec, "PUT", "/_index_template/cases", &bad),
        "$.priority",
    );
    refused(
        validate_request(spec, "POST", "/_search", &json!({"size": "ten"})),
        "$.size",
    );
}

#[test]
fn contract_slack_requests() {
    let spec = load_spec(SLACK_SPEC);
    let form = Some("application/x-www-form-urlencoded");
    // The spec models arguments as form fields: `blocks` is JSON text there.
    let post = json!({"channel": "C123", "text": "Case C123 opened", "blocks": "[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"*C123*\"}}]", "thread_ts": "1503435956.000247"});
    assert_eq!(
        validate_request_as(spec, "POST", "/chat.postMessage", form, &post),
        Ok(())
    );
    let update =
        json!({"channel": "C123", "ts": "1503435956.000247", "text": "Case C123 resolved"});
    assert_eq!(
        validate_request_as(spec, "POST", "/chat.update", form, &update),
        Ok(())
    );
    assert_eq!(
        validate_request(
            spec,
            "GET",
            "/conversations.history?channel=C123",
            &Value::Null
        ),
        Ok(())
    );
    refused(
        validate_request_as(
            spec,
            "POST",
            "/chat.update",
            form,
            &json!({"channel": "C123", "text": "x"}),
        ),
        "$.ts",
    );
    refused(
        validate_request_as(
            spec,
            "POST",
            "/chat.postMessage",
            form,
            &json!({"channel": "C123", "unfurl_links": "yes"}),
        ),
        "$.unfurl_links",
    );
}

#[test]
fn contract_opsgenie_requests() {
    let spec = load_spec(OPSGENIE_SPEC);
    let create = json!({"message": "Case C123 opened", "alias": "case-C123", "description": "d", "priority": "P3", "responders": [{"type": "team", "name": "ops"}], "tags": ["case"], "details": {"case": "C123"}, "source": "case-svc"});
    assert_eq!(
        validate_request(spec, "POST", "/v2/alerts", &create),
        Ok(())
    );
    let close = json!({"user": "case-svc", "source": "case-svc", "note": "resolved"});
    assert_eq!(
        validate_request(
            spec,
            "POST",
            "/v2/alerts/case-C123/close?identifierType=alias",
            &close
        ),
        Ok(())
    );
    refused(
        validate_request(spec, "POST", "/v2/alerts", &json!({"alias": "case-C123"})),
        "$.message",
    );
}

#[test]
fn contract_pagerduty_events_requests() {
    let spec = load_spec(PAGERDUTY_EVENTS_SPEC);
    let trigger = json!({"routing_key": "0123456789abcdef0123456789abcdef", "event_action": "trigger", "dedup_key": "case-C123", "payload": {"summary": "Case C123 opened", "source": "case-svc", "severity": "critical", "timestamp": "2026-12-07T20:00:00Z", "component": "cases", "group": "ops", "class": "case", "custom_details": {"case": "C123"}}, "links": [{"href": "https://cases.example/C123", "text": "Case"}], "client": "case-svc", "client_url": "https://cases.example"});
    assert_eq!(
        validate_request(spec, "POST", "/v2/enqueue", &trigger),
        Ok(())
    );
    let resolve = json!({"routing_key": "0123456789abcdef0123456789abcdef", "event_action": "resolve", "dedup_key": "case-C123"});
    assert_eq!(
        validate_request(spec, "POST", "/v2/enqueue", &resolve),
        Ok(())
    );
    let mut bad = trigger.clone();
    bad["payload"].as_object_mut().unwrap().remove("severity");
    refused(
        validate_request(spec, "POST", "/v2/enqueue", &bad),
        "$.payload.severity",
    );
    refused(
        validate_request(
            spec,
            "POST",
            "/v2/enqueue",
            &json!({"event_action": "trigger"}),
        ),
        "$.routing_key",
    );
}

#[test]
fn contract_datadog_incident_page_and_workflow_requests() {
    let spec = load_spec(DATADOG_SPEC);
    let incident = json!({"data": {"type": "incidents", "attributes": {"title": "Case C123", "customer_impacted": false, "fields": {"severity": {"type": "dropdown", "value": "SEV-2"}}}}});
    assert_eq!(
        validate_request(spec, "POST", "/api/v2/incidents", &incident),
        Ok(())
    );
    let todo = json!({"data": {"type": "incident_todos", "attributes": {"content": "Follow up on C123", "assignees": ["@ops"]}}});
    assert_eq!(
        validate_request(
            spec,
            "POST",
            "/api/v2/incidents/00000000-0000-0000-0000-000000000001/relationships/todos",
            &todo
        ),
        Ok(())
    );
    let page = json!({"data": {"type": "pages", "attributes": {"title": "Case C123", "description": "d", "urgency": "high", "tags": ["case:C123"], "target": {"type": "team_handle", "identifier": "ops"}}}});
    assert_eq!(
        validate_request(spec, "POST", "/api/v2/on-call/pages", &page),
        Ok(())
    );
    let workflow = json!({"meta": {"payload": {"case": "C123"}}});
    assert_eq!(
        validate_request(spec, "POST", "/api/v2/workflows/wf-1/instances", &workflow),
        Ok(())
    );
    let mut bad = incident.clone();
    bad["data"]["attributes"]["customer_impacted"] = json!("no");
    refused(
        validate_request(spec, "POST", "/api/v2/incidents", &bad),
        "$.data.attributes.customer_impacted",
    );
    let mut bad = page.clone();
    bad["data"]["attributes"]["urgency"] = json!("urgent");
    refused(
        validate_request(spec, "POST", "/api/v2/on-call/pages", &bad),
        "$.data.attributes.urgency",
    );
}

#[test]
fn contract_standard_webhooks_vector_signs_and_a_changed_payload_does_not() {
    use base64::Engine as _;
    use hmac::Mac as _;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/specs/standard-webhooks/test-vectors.json"
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let sign = |secret: &str, id: &str, ts: u64, payload: &str| {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{ts}.{payload}").as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        format!("v1,{sig}")
    };
    for v in file["vectors"].as_array().unwrap() {
        let (secret, id) = (v["secret"].as_str().unwrap(), v["msg_id"].as_str().unwrap());
        let (ts, payload) = (
            v["timestamp"].as_u64().unwrap(),
            v["payload"].as_str().unwrap(),
        );
        assert_eq!(sign(secret, id, ts, payload), v["signature"]);
        assert_ne!(sign(secret, id, ts, &format!("{payload} ")), v["signature"]);
        assert_ne!(sign(secret, id, ts + 1, payload), v["signature"]);
    }
}
