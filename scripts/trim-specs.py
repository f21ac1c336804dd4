#!/usr/bin/env python3
"""Copies the parts of the vendor specs that the contract tests use into
tests/specs/, from the shared reference folder (../shared/specs by default).

Usage: scripts/trim-specs.py [SHARED_SPECS_DIR]

A trimmed spec keeps the top-level `openapi`, `info`, `servers`, `security`
and `components.securitySchemes`, the listed paths (every method), and every
component those reference, transitively (`$ref`s are JSON pointers into the
same file). A listed path is a prefix, or with a leading `=` one exact path.
Nothing else is changed: the kept nodes are the vendor's, byte for byte as
values. The ADF schema is copied whole. Run it again when the shared specs
change; tests/specs/README.md says where each file comes from.

Swagger 2.0 specs (Slack, Opsgenie) are first converted to the OpenAPI 3.0
shape, so the contract validator reads one dialect family (see `convert2`);
OpenAPI 3.1 (OpenSearch) is kept as it is and read by the validator.
"""

import json
import os
import shutil
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "specs")
OUT = os.path.join(ROOT, "tests", "specs")

# (source under SHARED, output under OUT, path prefixes kept)
TRIMS = [
    ("datadog/v2/openapi.yaml", "datadog/v2/openapi.trimmed.json",
     ["/api/v2/logs", "/api/v2/events",
      "=/api/v2/incidents", "=/api/v2/incidents/{incident_id}",
      "/api/v2/incidents/{incident_id}/relationships/todos",
      "/api/v2/on-call/pages",
      "/api/v2/workflows/{workflow_id}/instances"]),
    ("opensearch/opensearch-openapi.yaml", "opensearch/opensearch-openapi.trimmed.json",
     ["=/_bulk", "=/{index}/_bulk", "=/_search", "=/{index}/_search", "=/_reindex",
      "=/_index_template", "=/_index_template/{name}",
      "=/_aliases", "=/_aliases/{name}", "=/{index}/_aliases", "=/{index}/_aliases/{name}"]),
    ("slack/web-api/slack_web_openapi_v2.json", "slack/web-api/slack_web_openapi_v2.trimmed.json",
     ["=/chat.postMessage", "=/chat.update", "=/conversations.history"]),
    ("opsgenie/swagger.json", "opsgenie/swagger.trimmed.json",
     ["=/v2/alerts", "=/v2/alerts/{identifier}", "=/v2/alerts/{identifier}/close",
      "=/v2/alerts/{identifier}/acknowledge", "=/v2/alerts/{identifier}/notes",
      "=/v2/alerts/requests/{requestId}"]),
    ("pagerduty/reference/events-v2/openapiv3.json",
     "pagerduty/reference/events-v2/openapiv3.trimmed.json", ["=/enqueue"]),
    ("jira/swagger-v3.v3.json", "jira/swagger-v3.v3.trimmed.json",
     ["/rest/api/3/issue", "/rest/api/3/search", "/rest/api/3/comment"]),
]
# (source, output): copied whole, with the licence files of their folders
WHOLE = [
    ("jira/adf-schema/full.json", "jira/adf-schema/full.json"),
    ("jira/adf-schema/LICENSE", "jira/adf-schema/LICENSE"),
    ("datadog/LICENSE", "datadog/LICENSE"),
    ("datadog/NOTICE", "datadog/NOTICE"),
    ("opensearch/LICENSE.txt", "opensearch/LICENSE.txt"),
    ("opensearch/NOTICE.txt", "opensearch/NOTICE.txt"),
    ("slack/LICENSE", "slack/LICENSE"),
    ("opsgenie/LICENSE", "opsgenie/LICENSE"),
    ("standard-webhooks/LICENSE", "standard-webhooks/LICENSE"),
]


def load(path):
    with open(path) as f:
        return json.load(f) if path.endswith(".json") else yaml.safe_load(f)


def pointer(doc, ref):
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def put(out, ref, value):
    parts = [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]
    node = out
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/"):
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def trim(spec, prefixes):
    out = {k: spec[k] for k in ("openapi", "x-converted-from", "info", "servers", "security")
           if k in spec}
    schemes = spec.get("components", {}).get("securitySchemes")
    if schemes:
        out["components"] = {"securitySchemes": schemes}
    out["paths"] = {p: v for p, v in spec["paths"].items() if any(
        p == x[1:] if x.startswith("=") else p.startswith(x) for x in prefixes)}
    todo, seen = list(refs(out["paths"])), set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        node = pointer(spec, ref)
        put(out, ref, node)
        todo.extend(refs(node))
    return out


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
SCHEMA_KEYS = ("type", "format", "items", "enum", "default", "minimum", "maximum",
               "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
               "pattern", "minItems", "maxItems", "uniqueItems", "multipleOf")
REFS = {"#/definitions/": "#/components/schemas/",
        "#/parameters/": "#/components/parameters/",
        "#/responses/": "#/components/responses/"}


def rerefs(node):
    """Swagger 2.0 `$ref`s pointed at their OpenAPI 3.0 places."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                for old, new in REFS.items():
                    if v.startswith(old):
                        v = new + v[len(old):]
            out[k] = rerefs(v)
        return out
    if isinstance(node, list):
        return [rerefs(v) for v in node]
    return node


def param3(p):
    """A non-body Swagger 2.0 parameter as an OpenAPI 3.0 one (type → schema)."""
    if "$ref" in p or "schema" in p:
        return p
    out = {k: v for k, v in p.items() if k not in SCHEMA_KEYS and k != "collectionFormat"}
    out["schema"] = {k: p[k] for k in SCHEMA_KEYS if k in p}
    return out


def response3(r, produces):
    """A Swagger 2.0 response: its `schema` under `content`, per `produces` type."""
    r = dict(r)
    if "schema" in r:
        schema = r.pop("schema")
        r["content"] = {t: {"schema": schema} for t in produces}
    return r


def convert2(spec):
    """Swagger 2.0 → the OpenAPI 3.0 shape: `definitions` → `components/schemas`,
    an `in: body` parameter → `requestBody` (for each `consumes` type, default
    JSON), `formData` parameters → one `requestBody` object schema (property per
    parameter, `required` from theirs) under the form types in `consumes`,
    other parameters get `schema`, responses get `content` per `produces` type.
    Values are otherwise the vendor's."""
    spec = rerefs(spec)
    base = spec.get("basePath", "").rstrip("/")
    out = {"openapi": "3.0.0", "x-converted-from": "swagger " + spec["swagger"],
           "info": spec["info"]}
    if "host" in spec:
        out["servers"] = [{"url": f"https://{spec['host']}{base}"}]
    if "security" in spec:
        out["security"] = spec["security"]
    comps = {"schemas": spec.get("definitions", {}),
             "parameters": {k: param3(v) for k, v in spec.get("parameters", {}).items()},
             "securitySchemes": spec.get("securityDefinitions", {})}
    g_consumes = spec.get("consumes", ["application/json"])
    g_produces = spec.get("produces", ["application/json"])
    comps["responses"] = {k: response3(v, g_produces)
                          for k, v in spec.get("responses", {}).items()}
    out["paths"] = {}
    for path, item in spec["paths"].items():
        new_item = {}
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters":
                continue
            op = dict(op)
            consumes = op.pop("consumes", g_consumes)
            produces = op.pop("produces", g_produces)
            params, form, form_required, body = [], {}, [], None
            for p in shared + op.get("parameters", []):
                if p.get("in") == "body":
                    body = {"required": p.get("required", False),
                            "content": {t: {"schema": p["schema"]} for t in consumes}}
                    if "description" in p:
                        body["description"] = p["description"]
                elif p.get("in") == "formData":
                    prop = {k: p[k] for k in SCHEMA_KEYS + ("description",) if k in p}
                    form[p["name"]] = prop
                    if p.get("required"):
                        form_required.append(p["name"])
                else:
                    params.append(param3(p))
            if form:
                schema = {"type": "object", "properties": form}
                if form_required:
                    schema["required"] = form_required
                types = [t for t in consumes if t in FORM_TYPES] or [FORM_TYPES[0]]
                body = {"required": bool(form_required),
                        "content": {t: {"schema": schema} for t in types}}
            op.pop("parameters", None)
            if params:
                op["parameters"] = params
            if body:
                op["requestBody"] = body
            op["responses"] = {str(code): response3(r, produces)
                               for code, r in op.get("responses", {}).items()}
            new_item[method] = op
        out["paths"][path] = new_item
    out["components"] = comps
    return out


def main():
    for src, dst, prefixes in TRIMS:
        spec = load(os.path.join(SHARED, src))
        if spec.get("swagger", "").startswith("2."):
            spec = convert2(spec)
        out = trim(spec, prefixes)
        path = os.path.join(OUT, dst)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(out, f, indent=1, sort_keys=False, default=str)
            f.write("\n")
        print(f"{dst}: {len(out['paths'])} paths, {os.path.getsize(path):,} bytes")
    for src, dst in WHOLE:
        path = os.path.join(OUT, dst)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(os.path.join(SHARED, src), path)
        print(f"{dst}: copied")


if __name__ == "__main__":
    main()
