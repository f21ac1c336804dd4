//! Every JSON output follows the proto3 JSON mapping, checked against the
//! schema in proto/: field names in lowerCamelCase, 64-bit integers as
//! strings, enums by name, timestamps as RFC 3339 with `Z` and 0/3/6/9
//! fraction digits, 32-bit numbers and bools as JSON numbers and bools.
//! Events of every type (random contents, many seeds) and commands.

use std::collections::HashMap;
use std::path::Path;

use case_event_handler::event::command::{
    AddComment, AssignCase, CaseCommand, LinkEntity, Payload as Command, SetPriority,
};
use case_event_handler::event::pb::{EntityRef, Priority};
use case_event_handler::event::synth::arbitrary_event_of;
use case_event_handler::event::{to_json_line, EventType, Timestamp};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::Value;

/// A field's declared type.
#[derive(Debug, Clone)]
enum Ty {
    Scalar(String),
    Named(String),
    Map(String),
    Repeated(Box<Ty>),
}

/// Messages (field JSON name → type) and enums (value names) of proto/.
#[derive(Default)]
struct Schema {
    messages: HashMap<String, HashMap<String, Ty>>,
    enums: HashMap<String, Vec<String>>,
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        match (c, upper) {
            ('_', _) => upper = true,
            (c, true) => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

fn short(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).to_string()
}

fn parse(schema: &mut Schema, text: &str) {
    let (mut message, mut en): (Option<String>, Option<String>) = (None, None);
    for raw in text.lines() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("message ") {
            let name = rest.split_whitespace().next().unwrap_or("").to_string();
            schema.messages.entry(name.clone()).or_default();
            message = (!rest.ends_with('}')).then_some(name);
        } else if let Some(rest) = line.strip_prefix("enum ") {
            en = rest.split_whitespace().next().map(str::to_string);
        } else if line == "}" {
            (message, en) = (None, None);
        } else if let Some(e) = &en {
            if let Some((value, _)) = line.split_once('=') {
                let values = schema.enums.entry(e.clone()).or_default();
                values.push(value.trim().to_string());
            }
        } else if let (Some(m), Some((name, ty))) = (&message, field_line(line)) {
            schema.messages.get_mut(m).unwrap().insert(camel(&name), ty);
        }
    }
}

/// `[repeated|optional] <type|map<k, v>> <name> = <n>;` → (name, type).
fn field_line(line: &str) -> Option<(String, Ty)> {
    let (left, _) = line.split_once('=')?;
    let mut words = left.trim();
    let repeated = words.starts_with("repeated ");
    for label in ["repeated ", "optional "] {
        words = words.strip_prefix(label).unwrap_or(words);
    }
    let (ty, name) = words.rsplit_once(char::is_whitespace)?;
    let (ty, name) = (ty.trim(), name.trim());
    let keyword = ["oneof", "option", "reserved", "syntax", "package", "import"].contains(&ty);
    if keyword || name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let map_value = ty
        .strip_prefix("map<")
        .and_then(|m| m.strip_suffix('>'))
        .and_then(|m| m.split_once(','))
        .map(|(_, v)| short(v.trim()));
    let base = match map_value {
        Some(value) => Ty::Map(value),
        None if is_scalar(ty) => Ty::Scalar(ty.to_string()),
        None => Ty::Named(short(ty)),
    };
    let ty = match repeated {
        true => Ty::Repeated(Box::new(base)),
        false => base,
    };
    Some((name.to_string(), ty))
}

fn is_scalar(t: &str) -> bool {
    [
        "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
        "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
    ]
    .contains(&t)
}

fn schema() -> Schema {
    let mut schema = Schema::default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("proto/casemgmt");
    for dir in ["events/v1", "commands/v1"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            parse(&mut schema, &text);
        }
    }
    assert!(
        schema.messages.len() > 40,
        "parsed {} messages",
        schema.messages.len()
    );
    schema
}

fn is_timestamp(s: &str) -> bool {
    let Some(body) = s.strip_suffix('Z') else {
        return false;
    };
    let (secs, fraction) = body.split_once('.').unwrap_or((body, ""));
    chrono::NaiveDateTime::parse_from_str(secs, "%Y-%m-%dT%H:%M:%S").is_ok()
        && [0, 3, 6, 9].contains(&fraction.len())
        && fraction.chars().all(|c| c.is_ascii_digit())
}

fn check(schema: &Schema, ty: &Ty, value: &Value, at: &str, bad: &mut Vec<String>) {
    let mut fail = |why: &str| bad.push(format!("{at}: {why}: {value}"));
    match (ty, value) {
        (Ty::Repeated(inner), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(schema, inner, item, &format!("{at}[{i}]"), bad);
            }
        }
        (Ty::Map(inner), Value::Object(map)) => {
            for (k, v) in map {
                check(
                    schema,
                    &Ty::Named(inner.clone()),
                    v,
                    &format!("{at}.{k}"),
                    bad,
                )
            }
        }
        (Ty::Scalar(t), v) => match (t.as_str(), v) {
            ("int64" | "uint64" | "sint64" | "fixed64" | "sfixed64", Value::String(s))
                if s.parse::<i128>().is_ok() => {}
            ("int32" | "uint32" | "sint32" | "fixed32" | "sfixed32", Value::Number(n))
                if n.is_i64() || n.is_u64() => {}
            ("double" | "float", Value::Number(_)) | ("bool", Value::Bool(_)) => {}
            ("string" | "bytes", Value::String(_)) => {}
            _ => fail(&format!("not the proto3 JSON form of {t}")),
        },
        (Ty::Named(name), v) if name == "Timestamp" => match v {
            Value::String(s) if is_timestamp(s) => {}
            _ => fail("not an RFC 3339 timestamp with Z and 0/3/6/9 digits"),
        },
        (Ty::Named(name), v) if schema.enums.contains_key(name) => match v {
            Value::String(s) if schema.enums[name].contains(s) => {}
            _ => fail(&format!("not a value name of enum {name}")),
        },
        (Ty::Named(name), Value::Object(fields)) => {
            let Some(declared) = schema.messages.get(name) else {
                return fail(&format!("unknown message {name}"));
            };
            for (key, v) in fields {
                match declared.get(key) {
                    Some(ty) => check(schema, ty, v, &format!("{at}.{key}"), bad),
                    None => bad.push(format!("{at}.{key}: not a lowerCamelCase field of {name}")),
                }
            }
        }
        _ => fail("wrong JSON kind"),
    }
}

#[test]
fn every_event_type_is_written_in_the_proto3_json_mapping() {
    let schema = schema();
    let mut bad = Vec::new();
    let mut checked = 0;
    for kind in EventType::ALL {
        for seed in 0..25 {
            let ev = arbitrary_event_of(&mut StdRng::seed_from_u64(seed), *kind);
            let json: Value = serde_json::from_str(&to_json_line(&ev).unwrap()).unwrap();
            check(
                &schema,
                &Ty::Named("CaseEvent".into()),
                &json,
                kind.as_str(),
                &mut bad,
            );
            checked += 1;
        }
    }
    assert!(checked >= EventType::ALL.len() * 25);
    assert!(
        bad.is_empty(),
        "{} violations, e.g.:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
}

#[test]
fn commands_are_written_in_the_proto3_json_mapping() {
    let schema = schema();
    let at = Some(Timestamp {
        seconds: 1_796_343_031,
        nanos: 5_000_000,
    });
    let payloads = [
        Command::AssignCase(AssignCase {
            assignee_id: "u".into(),
        }),
        Command::SetPriority(SetPriority {
            priority: Priority::P2 as i32,
        }),
        Command::AddComment(AddComment {
            markdown: "hi".into(),
            external_ref: Some("10001".into()),
        }),
        Command::LinkEntity(LinkEntity {
            target: Some(EntityRef {
                r#type: 2,
                id: "i-1".into(),
            }),
            relationship: 3,
        }),
    ];
    let mut bad = Vec::new();
    for payload in payloads {
        let cmd = CaseCommand {
            command_id: "0190f000-0000-7000-8000-0000000000c1".into(),
            command_type: payload.command_type().into(),
            expected_version: 12,
            chain_depth: 2,
            issued_at: at,
            payload: Some(payload),
            ..CaseCommand::default()
        };
        let json = serde_json::to_value(&cmd).unwrap();
        assert_eq!(json["expectedVersion"], "12", "uint64 as a string");
        assert_eq!(json["issuedAt"], "2026-12-04T00:10:31.005Z");
        check(
            &schema,
            &Ty::Named("CaseCommand".into()),
            &json,
            "command",
            &mut bad,
        );
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_checker_catches_what_the_mapping_forbids() {
    let schema = schema();
    let ev = arbitrary_event_of(&mut StdRng::seed_from_u64(1), EventType::CaseCreated);
    let mut json: Value = serde_json::from_str(&to_json_line(&ev).unwrap()).unwrap();
    json["occurredAt"] = "2026-12-04T00:10:31.133+00:00".into();
    json["aggregateVersion"] = 7.into();
    json["event_id"] = "x".into();
    let mut bad = Vec::new();
    check(
        &schema,
        &Ty::Named("CaseEvent".into()),
        &json,
        "ev",
        &mut bad,
    );
    for what in ["ev.occurredAt", "ev.aggregateVersion", "ev.event_id"] {
        assert!(
            bad.iter().any(|b| b.starts_with(what)),
            "{what} not caught: {bad:?}"
        );
    }
}
