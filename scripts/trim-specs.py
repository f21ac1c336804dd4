#!/usr/bin/env python3
"""Copies the parts of the vendor specs that the contract tests use into
tests/specs/, from the shared reference folder (../shared/specs by default).

Usage: scripts/trim-specs.py [SHARED_SPECS_DIR]

A trimmed spec keeps the top-level `openapi`, `info`, `servers`, `security`
and `components.securitySchemes`, the listed paths (every method), and every
component those reference, transitively (`$ref`s are JSON pointers into the
same file). Nothing else is changed: the kept nodes are the vendor's, byte for
byte as values. The ADF schema is copied whole. Run it again when the shared
specs change; tests/specs/README.md says where each file comes from.
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
     ["/api/v2/logs", "/api/v2/events"]),
    ("jira/swagger-v3.v3.json", "jira/swagger-v3.v3.trimmed.json",
     ["/rest/api/3/issue", "/rest/api/3/search", "/rest/api/3/comment"]),
]
# (source, output): copied whole, with the licence files of their folders
WHOLE = [
    ("jira/adf-schema/full.json", "jira/adf-schema/full.json"),
    ("jira/adf-schema/LICENSE", "jira/adf-schema/LICENSE"),
    ("datadog/LICENSE", "datadog/LICENSE"),
    ("datadog/NOTICE", "datadog/NOTICE"),
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
    out = {k: spec[k] for k in ("openapi", "info", "servers", "security") if k in spec}
    schemes = spec.get("components", {}).get("securitySchemes")
    if schemes:
        out["components"] = {"securitySchemes": schemes}
    out["paths"] = {p: v for p, v in spec["paths"].items() if any(p.startswith(x) for x in prefixes)}
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


def main():
    for src, dst, prefixes in TRIMS:
        spec = load(os.path.join(SHARED, src))
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
