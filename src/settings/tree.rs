//! Plumbing on untyped YAML trees: key paths, deep merge, provenance.

use std::collections::BTreeMap;
use std::fmt;

use serde_yaml::{Mapping, Value};

/// One step of a key path: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A full key path such as `runtime.retry.max_attempts` or `kafka.topics[1]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    /// The path of `key` below `self`.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.into()));
        Self(segments)
    }

    /// The path of element `index` below `self`.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        Self(segments)
    }

    /// Builds a path of plain keys.
    pub fn of_keys<S: AsRef<str>>(keys: &[S]) -> Self {
        Self(
            keys.iter()
                .map(|k| Segment::Key(k.as_ref().to_owned()))
                .collect(),
        )
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("<root>");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Renders a mapping key for use in a key path.
pub(crate) fn key_name(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "~".to_owned(),
        _ => "<complex key>".to_owned(),
    }
}

/// Records which layer (file, env var, `--set`) last wrote each leaf.
#[derive(Debug, Default, Clone)]
pub(crate) struct Provenance(BTreeMap<String, String>);

impl Provenance {
    fn record(&mut self, path: &KeyPath, value: &Value, origin: &str) {
        match value {
            Value::Mapping(map) if !map.is_empty() => {
                for (k, v) in map {
                    self.record(&path.key(key_name(k)), v, origin);
                }
            }
            _ => {
                self.0.insert(path.to_string(), origin.to_owned());
            }
        }
    }

    /// The layer responsible for `path`: an exact match, else the layer that
    /// set an enclosing sequence, else the single layer that set everything
    /// below `path`.
    pub fn origin_of(&self, path: &str) -> Option<&str> {
        if let Some(origin) = self.0.get(path) {
            return Some(origin);
        }
        let nested = |outer: &str, inner: &str| {
            inner.len() > outer.len()
                && inner.starts_with(outer)
                && matches!(inner.as_bytes()[outer.len()], b'.' | b'[')
        };
        if let Some((_, origin)) = self.0.iter().find(|(leaf, _)| nested(leaf, path)) {
            return Some(origin);
        }
        let mut below = self
            .0
            .iter()
            .filter(|(leaf, _)| nested(path, leaf))
            .map(|(_, origin)| origin.as_str());
        let first = below.next()?;
        below.all(|o| o == first).then_some(first)
    }
}

/// Deep-merges `overlay` into `base` at `path`: mappings merge key by key,
/// everything else (scalars, sequences) is replaced, and a null in the
/// overlay removes the key so the built-in default applies again.
pub(crate) fn merge(
    base: &mut Value,
    overlay: Value,
    path: &KeyPath,
    origin: &str,
    provenance: &mut Provenance,
) {
    match (base, overlay) {
        (Value::Mapping(base), Value::Mapping(overlay)) => {
            for (key, value) in overlay {
                let child = path.key(key_name(&key));
                if value.is_null() {
                    base.remove(&key);
                    continue;
                }
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value, &child, origin, provenance),
                    None => {
                        provenance.record(&child, &value, origin);
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => {
            provenance.record(path, &overlay, origin);
            *base = overlay;
        }
    }
}

/// Wraps `value` in nested single-key mappings, one per key of `keys`.
pub(crate) fn nest(keys: &[String], value: Value) -> Value {
    keys.iter().rev().fold(value, |inner, key| {
        let mut map = Mapping::new();
        map.insert(Value::String(key.clone()), inner);
        Value::Mapping(map)
    })
}

/// Removes the node at `path` (relative to `root`). Returns whether a node
/// was removed; the root itself cannot be removed.
pub(crate) fn remove(root: &mut Value, path: &[Segment]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut node = root;
    for segment in parents {
        node = match child_mut(node, segment) {
            Some(child) => child,
            None => return false,
        };
    }
    if let Value::Tagged(tagged) = node {
        node = &mut tagged.value;
    }
    match (node, last) {
        (Value::Mapping(map), Segment::Key(key)) => {
            let found = map.keys().find(|k| key_name(k) == *key).cloned();
            found.is_some_and(|k| map.remove(&k).is_some())
        }
        (Value::Sequence(items), Segment::Index(i)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

fn child_mut<'a>(node: &'a mut Value, segment: &Segment) -> Option<&'a mut Value> {
    match (node, segment) {
        (Value::Tagged(tagged), _) => child_mut(&mut tagged.value, segment),
        (Value::Mapping(map), Segment::Key(key)) => map
            .iter_mut()
            .find(|(k, _)| key_name(k) == *key)
            .map(|(_, v)| v),
        (Value::Sequence(items), Segment::Index(i)) => items.get_mut(*i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    #[test]
    fn merge_is_deep_and_replaces_sequences() {
        let mut prov = Provenance::default();
        let mut base = yaml("a: {b: 1, c: [1, 2]}\nd: x");
        merge(
            &mut base,
            yaml("a: {c: [3]}\nd: ~"),
            &KeyPath::default(),
            "o",
            &mut prov,
        );
        assert_eq!(base, yaml("a: {b: 1, c: [3]}"));
        assert_eq!(prov.origin_of("a.c"), Some("o"));
        assert_eq!(prov.origin_of("a.c[0]"), Some("o"));
        assert_eq!(prov.origin_of("a.b"), None);
    }

    #[test]
    fn remove_and_render_paths() {
        let mut v = yaml("a: {b: [1, {c: 2}]}");
        let path = KeyPath::of_keys(&["a", "b"]).index(1).key("c");
        assert_eq!(path.to_string(), "a.b[1].c");
        assert!(remove(&mut v, &path.0));
        assert_eq!(v, yaml("a: {b: [1, {}]}"));
        assert!(!remove(&mut v, &[]));
    }
}
