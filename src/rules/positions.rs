//! Where each node of a rules file sits: a map from key path (`a.b[2].c`,
//! the form of the settings' collecting deserializer) to the line and
//! column of the key and of the value, built from `saphyr-parser`'s marked
//! events. serde_yaml 0.9 gives a position only for its own (first) error;
//! the semantic checks and the collected type errors need one per node.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A node's key and value positions, and how a scalar value is written.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Node {
    pub key: Option<Pos>,
    pub value: Option<Pos>,
    /// The value is a quoted scalar (its text starts one column later).
    pub quoted: bool,
    /// The value is a block scalar (`|`, `>`): offsets into it are not columns.
    pub block: bool,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

/// The positions of one file's nodes.
#[derive(Debug, Default)]
pub(crate) struct Positions {
    nodes: HashMap<String, Node>,
}

impl Positions {
    /// Positions of every node of `text` up to the first syntax error.
    pub fn of(text: &str) -> Self {
        let mut positions = Self::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let pos = Pos {
                line: span.start.line(),
                col: span.start.col() + 1,
            };
            match event {
                Event::Scalar(value, style, ..) => {
                    let node = positions.node(&mut stack, pos, Some(&value));
                    if let Some(node) = node {
                        node.quoted =
                            matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
                        node.block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                    }
                }
                Event::Alias(_) => {
                    positions.node(&mut stack, pos, None);
                }
                Event::MappingStart(..) => {
                    let path = positions.path_of_next(&stack, None);
                    positions.node(&mut stack, pos, None);
                    stack.push(Frame::Map { path, key: None });
                }
                Event::SequenceStart(..) => {
                    let path = positions.path_of_next(&stack, None);
                    positions.node(&mut stack, pos, None);
                    stack.push(Frame::Seq { path, next: 0 });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        positions
    }

    /// The path the next node gets (a key's own path when it is a key).
    fn path_of_next(&self, stack: &[Frame], scalar: Option<&str>) -> String {
        match stack.last() {
            None => String::new(),
            Some(Frame::Map { path, key: None }) => join(path, scalar.unwrap_or("?")),
            Some(Frame::Map { path, key: Some(k) }) => join(path, k),
            Some(Frame::Seq { path, next }) => format!("{path}[{next}]"),
        }
    }

    /// Records the next node; returns it when it is a value.
    fn node(&mut self, stack: &mut [Frame], pos: Pos, scalar: Option<&str>) -> Option<&mut Node> {
        let path = self.path_of_next(stack, scalar);
        let is_key = match stack.last_mut() {
            None => false,
            Some(Frame::Map { key, .. }) => match key.take() {
                None => {
                    *key = Some(scalar.unwrap_or("?").to_owned());
                    true
                }
                Some(_) => false,
            },
            Some(Frame::Seq { next, .. }) => {
                *next += 1;
                false
            }
        };
        let node = self.nodes.entry(path).or_default();
        if is_key {
            node.key = Some(pos);
            None
        } else {
            node.value = Some(pos);
            Some(node)
        }
    }

    /// The node at `path`, or its nearest recorded ancestor's.
    pub fn find(&self, path: &str) -> Option<(&str, Node)> {
        let mut path = path;
        loop {
            if let Some((found, node)) = self.nodes.get_key_value(path) {
                return Some((found, *node));
            }
            path = parent(path)?;
        }
    }
}

/// `path` without its last segment; `None` at the root.
pub(crate) fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_values_and_items_have_positions() {
        let text = "a:\n  b: 1\n  list:\n    - x: \"q\"\n    - [7, 8]\nc: {d: e}\n";
        let p = Positions::of(text);
        let at = |path: &str| p.find(path).map(|(_, n)| n).unwrap_or_default();
        assert_eq!(at("a.b").key, Some(Pos { line: 2, col: 3 }));
        assert_eq!(at("a.b").value, Some(Pos { line: 2, col: 6 }));
        assert_eq!(at("a.list[0].x").value, Some(Pos { line: 4, col: 10 }));
        assert!(at("a.list[0].x").quoted);
        assert_eq!(at("a.list[1][1]").value, Some(Pos { line: 5, col: 11 }));
        assert_eq!(at("c.d").value, Some(Pos { line: 6, col: 8 }));
        assert_eq!(p.find("a.list[0].nope").map(|(f, _)| f), Some("a.list[0]"));
        assert_eq!(parent("a.list[0]"), Some("a.list"));
        assert_eq!(parent("a"), Some(""));
    }
}
