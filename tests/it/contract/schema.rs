//! A small OpenAPI 3.0 Schema Object validator (the JSON Schema subset plus
//! `nullable`, `readOnly`, `writeOnly`), with `$ref`s resolved on the way.

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
    "$ref",
];

/// Follows `$ref`s (`#/a/b`) until a non-reference; errors on cycles of refs.
pub fn resolve<'a>(spec: &'a Value, mut node: &'a Value) -> Result<&'a Value, String> {
    for _ in 0..64 {
        let Some(target) = node.get("$ref").and_then(Value::as_str) else {
            return Ok(node);
        };
        let pointer = target
            .strip_prefix('#')
            .ok_or_else(|| format!("external $ref {target} is not supported"))?;
        node = spec
            .pointer(pointer)
            .ok_or_else(|| format!("$ref {target} resolves to nothing"))?;
    }
    Err("$ref chain longer than 64".into())
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
        for key in schema.keys() {
            if !ANNOTATIONS.contains(&key.as_str())
                && !key.starts_with("x-")
                && !KNOWN.contains(&key.as_str())
            {
                fail(format!("unsupported schema keyword `{key}`"));
            }
        }
        if value.is_null() && schema.contains_key("type") {
            if schema.get("nullable") != Some(&Value::Bool(true)) {
                fail("null is not allowed".into());
            }
            return;
        }
        if let Some(t) = schema.get("type").and_then(Value::as_str) {
            if !has_type(value, t) {
                return fail(format!("expected {t}, got {}", kind(value)));
            }
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
        if let Some(item) = schema.get("items") {
            for (i, v) in items.iter().enumerate() {
                self.check(item, v, &format!("{at}[{i}]"), errors);
            }
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
];
