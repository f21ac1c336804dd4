//! The path-aware deserialization error and the driver that collects every
//! unknown key and type error instead of stopping at the first.

use std::fmt;

use serde::de::{self, DeserializeOwned};
use serde_yaml::Value;

use super::de::ValueDe;
use super::error::Problem;
use super::tree::{self, KeyPath, Segment};

/// A deserialization error that knows which key it belongs to.
#[derive(Debug)]
pub(crate) struct DeError {
    /// Where the error happened; set by the innermost map/sequence access.
    path: Option<KeyPath>,
    /// What went wrong, without the path.
    message: String,
}

impl DeError {
    pub(super) fn at(mut self, path: &KeyPath) -> Self {
        self.path.get_or_insert_with(|| path.clone());
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{path}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            path: None,
            message: msg.to_string(),
        }
    }

    fn unknown_field(_field: &str, expected: &'static [&'static str]) -> Self {
        let message = if expected.is_empty() {
            "unknown field, no fields are allowed here".to_owned()
        } else {
            let names: Vec<String> = expected.iter().map(|f| format!("`{f}`")).collect();
            format!("unknown field, expected one of {}", names.join(", "))
        };
        Self {
            path: None,
            message,
        }
    }
}

/// Deserializes `value` (found at `prefix`) into `T`, collecting as many
/// problems as possible: after each error the offending node is removed and
/// deserialization retried, so later errors are reported too and defaults
/// fill the gaps. Errors on an ancestor of an already reported node are
/// usually caused by that removal and are not reported. Returns `None` only
/// if no value could be produced at all.
pub(crate) fn deserialize_collecting<T: DeserializeOwned>(
    mut value: Value,
    prefix: &KeyPath,
) -> (Option<T>, Vec<Problem>) {
    const MAX_ROUNDS: usize = 100;
    let mut problems = Vec::new();
    let mut reported: Vec<KeyPath> = Vec::new();
    // Removed list items, in the original tree's indices.
    let mut removed: Vec<KeyPath> = Vec::new();
    for _ in 0..MAX_ROUNDS {
        let root = ValueDe::new(&value, prefix.clone());
        let error = match T::deserialize(root) {
            Ok(parsed) => return (Some(parsed), problems),
            Err(error) => error.at(prefix),
        };
        let path = error.path.unwrap_or_default();
        let original = original_path(&path, &removed);
        let follow_up = reported
            .iter()
            .any(|r| r.0.len() > original.0.len() && r.0.starts_with(&original.0));
        if !follow_up {
            problems.push(Problem::new(original.to_string(), error.message));
            reported.push(original.clone());
        }
        let relative = path.0.get(prefix.0.len()..).unwrap_or_default();
        if !tree::remove(&mut value, relative) {
            break;
        }
        if matches!(original.0.last(), Some(Segment::Index(_))) {
            removed.push(original);
        }
    }
    (None, problems)
}

/// `path` (in the tree with the `removed` list items gone) in the original
/// tree's indices, so that problems after a removed item name the right one.
fn original_path(path: &KeyPath, removed: &[KeyPath]) -> KeyPath {
    let mut out = KeyPath::default();
    for segment in &path.0 {
        let segment = match segment {
            Segment::Index(i) => {
                let mut gone: Vec<usize> = (removed.iter())
                    .filter(|r| r.0.len() == out.0.len() + 1 && r.0.starts_with(&out.0))
                    .filter_map(|r| match r.0.last() {
                        Some(Segment::Index(j)) => Some(*j),
                        _ => None,
                    })
                    .collect();
                gone.sort_unstable();
                let mut index = *i;
                for j in gone {
                    if j <= index {
                        index += 1;
                    }
                }
                Segment::Index(index)
            }
            key => key.clone(),
        };
        out.0.push(segment);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Inner {
        n: u32,
        s: String,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Outer {
        inner: Inner,
        list: Vec<Inner>,
        mode: Option<Mode>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Fast,
        Slow { factor: u8 },
    }

    fn run(yaml: &str) -> (Option<Outer>, Vec<String>) {
        let value = serde_yaml::from_str(yaml).unwrap();
        let (parsed, problems) = deserialize_collecting::<Outer>(value, &KeyPath::default());
        (parsed, problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn reports_every_bad_key_with_its_path() {
        let (parsed, problems) =
            run("inner: {n: -1, bogus: 1, s: 7}\nlist: [{n: 1}, {x: 2}]\nmode: medium");
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].starts_with("inner.n: invalid value: integer `-1`"));
        assert!(problems[1].starts_with("inner.bogus: unknown field, expected one of `n`, `s`"));
        assert!(problems[2].starts_with("list[1].x: unknown field"));
        assert!(problems[3].starts_with("mode: unknown variant `medium`"));
        let parsed = parsed.unwrap();
        assert_eq!(parsed.inner.s, "7");
        assert_eq!(parsed.list.len(), 2);
    }

    #[test]
    fn problems_after_a_dropped_list_item_keep_their_index() {
        let (parsed, problems) = run("list: [7, {n: 1}, 8, {z: 3}, {s: a}]");
        let paths: Vec<&str> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(paths, ["list[0]", "list[2]", "list[3].z"], "{problems:#?}");
        assert_eq!(parsed.unwrap().list.len(), 3);
    }

    #[test]
    fn enums_with_data_and_null_sections() {
        let (parsed, problems) = run("inner:\nmode: {slow: {factor: 3}}");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(parsed.unwrap().mode, Some(Mode::Slow { factor: 3 }));
        let (_, problems) = run("mode: {slow: {factor: x}}");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("mode.slow.factor: invalid type"));
    }
}
