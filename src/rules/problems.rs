//! [`RuleProblem`]: one thing wrong with a rules file — file, rule id, key
//! path, line and column — rendered with the offending line and a caret.

use std::fmt;

use super::positions::{Node, Positions};
use super::secrets::mask_secrets;

/// One problem of a rules file. Messages and the quoted line never show a
/// secret-looking value (they are masked with `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    /// The file's name inside the rules directory (`SEC.yaml`).
    pub file: String,
    /// The id (or name) of the rule the problem is in, if any.
    pub rule_id: Option<String>,
    /// Key path inside the file (`notification_rules[0].query`).
    pub path: String,
    /// 1-based line; 0 when unknown.
    pub line: usize,
    /// 1-based column, in characters; 0 when unknown.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// The file's line `line`, secrets masked (empty when unknown).
    pub source_line: String,
}

impl RuleProblem {
    /// The problem and, under it, the offending line with a caret.
    pub fn render(&self) -> String {
        let mut out = self.to_string();
        if self.line > 0 && !self.source_line.is_empty() {
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            let indent: String = (self.source_line.chars())
                .take(self.col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!(
                "\n{gutter} | {}\n{pad} | {indent}^",
                self.source_line
            ));
        }
        out
    }
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        if let Some(id) = &self.rule_id {
            write!(f, "rule `{id}`: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Where a problem points inside its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    /// At the key (unknown fields).
    Key,
    /// At the value.
    Value,
    /// At this character offset into a scalar value (query errors, secrets).
    Offset(usize),
}

/// Builds the problems of one file: positions from the text, rule ids from
/// the parsed tree.
pub(crate) struct FileProblems<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub positions: &'a Positions,
    pub tree: &'a serde_yaml::Value,
    pub found: Vec<RuleProblem>,
}

impl FileProblems<'_> {
    /// Records `message` at `path`.
    pub fn push(&mut self, path: &str, anchor: Anchor, message: impl Into<String>) {
        let (line, col) = match self.positions.find(path) {
            Some((found, node)) => place(node, anchor, found == path),
            None => (0, 0),
        };
        let source_line = (line > 0)
            .then(|| self.text.lines().nth(line - 1))
            .flatten()
            .map(mask_secrets)
            .unwrap_or_default();
        self.found.push(RuleProblem {
            file: self.file.to_owned(),
            rule_id: rule_id(self.tree, path),
            path: path.to_owned(),
            line,
            col,
            message: mask_secrets(&message.into()),
            source_line,
        });
    }

    /// Records the error of `result`, if any, at `path`'s value.
    pub fn result(&mut self, path: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.push(path, Anchor::Value, message);
        }
    }

    /// Records a problem at a known line and column (parse errors).
    pub fn push_at(&mut self, line: usize, col: usize, message: impl Into<String>) {
        let source_line = (line > 0)
            .then(|| self.text.lines().nth(line - 1))
            .flatten()
            .map(mask_secrets)
            .unwrap_or_default();
        self.found.push(RuleProblem {
            file: self.file.to_owned(),
            rule_id: None,
            path: String::new(),
            line,
            col,
            message: mask_secrets(&message.into()),
            source_line,
        });
    }
}

/// Line and column of `anchor` in `node` (`exact`: the node itself, not an
/// ancestor standing in for a missing one).
fn place(node: Node, anchor: Anchor, exact: bool) -> (usize, usize) {
    let value = node.value.or(node.key);
    let pos = match anchor {
        Anchor::Key if exact => node.key.or(node.value),
        Anchor::Key | Anchor::Value => value,
        Anchor::Offset(n) if exact && !node.block => {
            return node
                .value
                .map_or((0, 0), |p| (p.line, p.col + usize::from(node.quoted) + n));
        }
        Anchor::Offset(_) => value,
    };
    pos.map_or((0, 0), |p| (p.line, p.col))
}

/// The `id` (or webhook `name`) of the rule `path` is in: the element
/// `<section>[i]`, or the `incident_escalation` block.
fn rule_id(tree: &serde_yaml::Value, path: &str) -> Option<String> {
    let section_end = path.find(['.', '[']).unwrap_or(path.len());
    let section = &path[..section_end];
    let element = match section {
        "incident_escalation" => tree.get(section)?,
        "assignment" => {
            let rest = path.strip_prefix("assignment.routes[")?;
            let index: usize = rest[..rest.find(']')?].parse().ok()?;
            tree.get("assignment")?.get("routes")?.get(index)?
        }
        _ => {
            let rest = path[section_end..].strip_prefix('[')?;
            let index: usize = rest[..rest.find(']')?].parse().ok()?;
            tree.get(section)?.get(index)?
        }
    };
    let id = element.get("id").or_else(|| element.get("name"))?;
    id.as_str().map(str::to_owned)
}
