//! Keywords on single values: types, lengths and counts, patterns, formats, bounds.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};

pub fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub fn count(
    schema: &Map<String, Value>,
    min: &str,
    max: &str,
    n: usize,
    at: &str,
    what: &str,
    errors: &mut Vec<String>,
) {
    let n = u64::try_from(n).unwrap_or(u64::MAX);
    if let Some(lo) = schema.get(min).and_then(Value::as_u64).filter(|lo| n < *lo) {
        errors.push(format!("{at}: {n} {what}, at least {lo} required"));
    }
    if let Some(hi) = schema.get(max).and_then(Value::as_u64).filter(|hi| n > *hi) {
        errors.push(format!("{at}: {n} {what}, at most {hi} allowed"));
    }
}

pub fn string(schema: &Map<String, Value>, s: &str, at: &str, errors: &mut Vec<String>) {
    count(
        schema,
        "minLength",
        "maxLength",
        s.chars().count(),
        at,
        "characters",
        errors,
    );
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        match regex(pattern) {
            Ok(re) if re.is_match(s) => {}
            Ok(_) => errors.push(format!("{at}: {s:?} does not match /{pattern}/")),
            Err(e) => errors.push(format!("{at}: unsupported pattern /{pattern}/: {e}")),
        }
    }
    let valid = match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        Some("date") => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
        Some("uuid") => uuid::Uuid::try_parse(s).is_ok(),
        _ => true,
    };
    if !valid {
        errors.push(format!("{at}: {s:?} is not a valid {}", schema["format"]));
    }
}

fn regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, regex::Regex>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    if let Some(re) = cache.get(pattern) {
        return Ok(re.clone());
    }
    let re = regex::Regex::new(pattern)?;
    cache.insert(pattern.to_string(), re.clone());
    Ok(re)
}

pub fn number(schema: &Map<String, Value>, v: &Value, at: &str, errors: &mut Vec<String>) {
    let x = v.as_f64().unwrap_or(f64::NAN);
    let flag = |k: &str| schema.get(k) == Some(&Value::Bool(true));
    if let Some(lo) = schema.get("minimum").and_then(Value::as_f64) {
        if x < lo || (flag("exclusiveMinimum") && x == lo) {
            errors.push(format!("{at}: {v} is below the minimum {lo}"));
        }
    }
    if let Some(hi) = schema.get("maximum").and_then(Value::as_f64) {
        if x > hi || (flag("exclusiveMaximum") && x == hi) {
            errors.push(format!("{at}: {v} is above the maximum {hi}"));
        }
    }
    // OpenAPI 3.1 / JSON Schema 2020-12: the exclusive bounds are numbers.
    if let Some(lo) = schema.get("exclusiveMinimum").and_then(Value::as_f64) {
        if x <= lo {
            errors.push(format!("{at}: {v} is not above the exclusive minimum {lo}"));
        }
    }
    if let Some(hi) = schema.get("exclusiveMaximum").and_then(Value::as_f64) {
        if x >= hi {
            errors.push(format!("{at}: {v} is not below the exclusive maximum {hi}"));
        }
    }
    if let Some(m) = schema
        .get("multipleOf")
        .and_then(Value::as_f64)
        .filter(|m| *m > 0.0)
    {
        if ((x / m) - (x / m).round()).abs() > 1e-9 {
            errors.push(format!("{at}: {v} is not a multiple of {m}"));
        }
    }
    let range = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
        _ => None,
    };
    if let Some((lo, hi)) = range.filter(|(lo, hi)| x < *lo || x > *hi) {
        errors.push(format!("{at}: {v} is outside int32 [{lo}, {hi}]"));
    }
}
