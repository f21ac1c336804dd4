//! A small OpenAPI 3.0 / 3.1 Schema Object validator (the JSON Schema subset
//! plus `nullable`, `readOnly`, `writeOnly`), with `$ref`s resolved on the way.
//!
//! 3.1 (JSON Schema 2020-12) additions used by the vendor specs: `type` as an
//! array (with `"null"`), numeric `exclusiveMinimum`/`exclusiveMaximum`,
//! `const`, `propertyNames`, `unevaluatedProperties` (properties count as
//! evaluated when a `properties` of this schema, of an `allOf` member or of a
//! matching `anyOf`/`oneOf` member names them, or when one of those has
//! `additionalProperties`), `examples` and `contentEncoding` as annotations.
//! Draft-04 tuple `items` (an array, Slack's response schemas) is positional.

use serde_json::{Map, Value};

use super::scalars::{count, has_type, kind, number, string};

/// Which way a body goes: `readOnly` properties must not be in requests,
/// `writeOnly` ones not in responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// Keywords that annotate and never fail a value.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "example",
    "examples",
    "default",
    "deprecated",
    "externalDocs",
    "xml",
    "discriminator",
    "readOnly",
    "writeOnly",
    "nullable",
    "format",
    "contentEncoding",
    "$ref",
];

/// Follows `$ref`s (`#/a/b`) until a non-reference; errors on cycles of refs.
pub fn resolve<'a>(spec: &'a Value, mut node: &'a Value) -> Result<&'a Value, String> {
    for _ in 0..64 {
        match step(spec, node)? {
            Some(next) => node = next,
            None => return Ok(node),
        }
    }
    Err("$ref chain longer than 64".into())
}

/// The target of `node`'s `$ref`, `None` when it has none.
fn step<'a>(spec: &'a Value, node: &'a Value) -> Result<Option<&'a Value>, String> {
    let Some(target) = node.get("$ref").and_then(Value::as_str) else {
        return Ok(None);
    };
    let pointer = target
        .strip_prefix('#')
        .ok_or_else(|| format!("external $ref {target} is not supported"))?;
    spec.pointer(pointer)
        .map(Some)
        .ok_or_else(|| format!("$ref {target} resolves to nothing"))
}

pub struct Validator<'a> {
    spec: &'a Value,
    dir: Direction,
}

impl<'a> Validator<'a> {
    pub fn new(spec: &'a Value, dir: Direction) -> Self {
        Self { spec, dir }
    }

    /// Appends one `path: problem` line per violation.
    pub fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let mut hop = schema;
        for _ in 0..64 {
            if let Some(map) = hop.as_object() {
                for key in beside_ref(map) {
                    errors.push(format!("{at}: `{key}` beside `$ref` is not supported"));
                }
            }
            match step(self.spec, hop) {
                Ok(Some(next)) => hop = next,
                _ => break,
            }
        }
        let schema = match resolve(self.spec, schema) {
            Ok(Value::Bool(true)) => return,
            Ok(Value::Bool(false)) => {
                return errors.push(format!("{at}: no value is allowed here"))
            }
            Ok(Value::Object(s)) => s,
            Ok(other) => return errors.push(format!("{at}: schema is not an object: {other}")),
            Err(e) => return errors.push(format!("{at}: {e}")),
        };
        let mut fail = |msg: String| errors.push(format!("{at}: {msg}"));
        for key in unknown_keywords(schema) {
            fail(format!("unsupported schema keyword `{key}`"));
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if value.is_null() && !types.is_empty() {
            if schema.get("nullable") != Some(&Value::Bool(true)) && !types.contains(&"null") {
                fail("null is not allowed".into());
            }
            return;
        }
        if !types.is_empty() && !types.iter().any(|t| has_type(value, t)) {
            return fail(format!(
                "expected {}, got {}",
                types.join(" or "),
                kind(value)
            ));
        }
        if let Some(c) = schema.get("const").filter(|c| *c != value) {
            fail(format!("{value} is not the constant {c}"));
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            if !options.contains(value) {
                fail(format!(
                    "{value} is not one of {}",
                    Value::Array(options.clone())
                ));
            }
        }
        self.combinators(schema, value, at, errors);
        match value {
            Value::Object(map) => self.object(schema, map, at, errors),
            Value::Array(items) => self.array(schema, items, at, errors),
            Value::String(s) => string(schema, s, at, errors),
            Value::Number(_) => number(schema, value, at, errors),
            _ => {}
        }
    }

    fn passes(&self, schema: &Value, value: &Value, at: &str) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        self.check(schema, value, at, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn combinators(
        &self,
        schema: &Map<String, Value>,
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let list = |k: &str| {
            schema
                .get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        for sub in list("allOf") {
            self.check(&sub, value, at, errors);
        }
        for (key, want) in [("anyOf", "at least one"), ("oneOf", "exactly one")] {
            let subs = list(key);
            if subs.is_empty() {
                continue;
            }
            let results: Vec<_> = subs.iter().map(|s| self.passes(s, value, at)).collect();
            let ok = results.iter().filter(|r| r.is_ok()).count();
            if (key == "anyOf" && ok == 0) || (key == "oneOf" && ok != 1) {
                let why: Vec<String> = results
                    .into_iter()
                    .filter_map(|r| r.err()?.into_iter().next())
                    .collect();
                errors.push(format!(
                    "{at}: {ok} of {} `{key}` schemas match, {want} must ({})",
                    subs.len(),
                    why.join("; ")
                ));
            }
        }
        if let Some(not) = schema.get("not") {
            if self.passes(not, value, at).is_ok() {
                errors.push(format!("{at}: matches a `not` schema"));
            }
        }
    }

    fn object(
        &self,
        schema: &Map<String, Value>,
        map: &Map<String, Value>,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let props = schema.get("properties").and_then(Value::as_object);
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default();
            if !map.contains_key(name) {
                errors.push(format!("{at}.{name}: required property missing"));
            }
        }
        if let Some(names) = schema.get("propertyNames") {
            for name in map.keys() {
                let here = format!("{at}.{name}");
                self.check(names, &Value::String(name.clone()), &here, errors);
            }
        }
        if let Some(rest) = schema.get("unevaluatedProperties") {
            let (all, named) = self.evaluated(schema, &Value::Object(map.clone()));
            for (name, v) in map.iter().filter(|(n, _)| !all && !named.contains(n)) {
                let here = format!("{at}.{name}");
                match rest {
                    Value::Bool(false) => errors.push(format!("{here}: property not allowed")),
                    sub => self.check(sub, v, &here, errors),
                }
            }
        }
        let extra = schema.get("additionalProperties");
        for (name, v) in map {
            let here = format!("{at}.{name}");
            match props.and_then(|p| p.get(name)) {
                Some(sub) => {
                    self.direction(sub, &here, errors);
                    self.check(sub, v, &here, errors);
                }
                None => match extra {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{here}: property not allowed"))
                    }
                    Some(sub @ Value::Object(_)) => self.check(sub, v, &here, errors),
                    _ => {}
                },
            }
        }
        count(
            schema,
            "minProperties",
            "maxProperties",
            map.len(),
            at,
            "properties",
            errors,
        );
    }

    /// The property names `schema` evaluates for `value` (see the module doc),
    /// and whether it evaluates all of them.
    fn evaluated(&self, schema: &Map<String, Value>, value: &Value) -> (bool, Vec<String>) {
        let mut names: Vec<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let mut all = schema.contains_key("additionalProperties");
        let subs = |k: &str| {
            schema
                .get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut members = subs("allOf");
        for key in ["anyOf", "oneOf"] {
            members.extend(
                subs(key)
                    .into_iter()
                    .filter(|s| self.passes(s, value, "$").is_ok()),
            );
        }
        for sub in members {
            if let Ok(Value::Object(sub)) = resolve(self.spec, &sub) {
                let (sub_all, sub_names) = self.evaluated(sub, value);
                all |= sub_all;
                names.extend(sub_names);
            }
        }
        (all, names)
    }

    fn direction(&self, prop: &Value, at: &str, errors: &mut Vec<String>) {
        let Ok(prop) = resolve(self.spec, prop) else {
            return;
        };
        let flag = |k: &str| prop.get(k) == Some(&Value::Bool(true));
        match self.dir {
            Direction::Request if flag("readOnly") => {
                errors.push(format!("{at}: readOnly property sent in a request"))
            }
            Direction::Response if flag("writeOnly") => {
                errors.push(format!("{at}: writeOnly property in a response"))
            }
            _ => {}
        }
    }

    fn array(
        &self,
        schema: &Map<String, Value>,
        items: &[Value],
        at: &str,
        errors: &mut Vec<String>,
    ) {
        match schema.get("items") {
            Some(Value::Array(tuple)) => {
                for (i, (item, v)) in tuple.iter().zip(items).enumerate() {
                    self.check(item, v, &format!("{at}[{i}]"), errors);
                }
            }
            Some(item) => {
                for (i, v) in items.iter().enumerate() {
                    self.check(item, v, &format!("{at}[{i}]"), errors);
                }
            }
            None => {}
        }
        count(
            schema,
            "minItems",
            "maxItems",
            items.len(),
            at,
            "items",
            errors,
        );
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            let dup = items
                .iter()
                .enumerate()
                .any(|(i, a)| items[..i].contains(a));
            if dup {
                errors.push(format!("{at}: items are not unique"));
            }
        }
    }
}

/// Validation keywords this validator implements.
const KNOWN: &[&str] = &[
    "type",
    "enum",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "const",
    "propertyNames",
    "unevaluatedProperties",
];

fn unknown_keywords(schema: &Map<String, Value>) -> impl Iterator<Item = &String> {
    schema.keys().filter(|key| {
        !ANNOTATIONS.contains(&key.as_str())
            && !key.starts_with("x-")
            && !KNOWN.contains(&key.as_str())
    })
}

/// Keywords beside a `$ref` that would be ignored by [`resolve`] (only
/// annotations may sit there).
fn beside_ref(schema: &Map<String, Value>) -> Vec<&String> {
    if !schema.contains_key("$ref") {
        return Vec::new();
    }
    schema
        .keys()
        .filter(|k| !ANNOTATIONS.contains(&k.as_str()) && !k.starts_with("x-"))
        .collect()
}

/// Every schema keyword in `schema` and its subschemas (not following `$ref`s)
/// that the validator does not implement, as `at: problem` lines.
pub fn lint(schema: &Value, at: &str, errors: &mut Vec<String>) {
    let Value::Object(map) = schema else {
        if !schema.is_boolean() {
            errors.push(format!("{at}: schema is not an object"));
        }
        return;
    };
    for key in unknown_keywords(map) {
        errors.push(format!("{at}: unsupported schema keyword `{key}`"));
    }
    for key in beside_ref(map) {
        errors.push(format!("{at}: `{key}` beside `$ref` is not supported"));
    }
    if let Some(props) = map.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            lint(sub, &format!("{at}.properties.{name}"), errors);
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "items"] {
        if let Some(list) = map.get(key).and_then(Value::as_array) {
            for (i, sub) in list.iter().enumerate() {
                lint(sub, &format!("{at}.{key}[{i}]"), errors);
            }
        }
    }
    for key in [
        "items",
        "not",
        "additionalProperties",
        "unevaluatedProperties",
        "propertyNames",
    ] {
        if let Some(sub) = map.get(key).filter(|s| !s.is_array()) {
            lint(sub, &format!("{at}.{key}"), errors);
        }
    }
}
