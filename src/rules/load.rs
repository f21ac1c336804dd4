//! Reading the rules directory: every `*.yaml` / `*.yml` file (names
//! starting with `.` skipped — a mounted ConfigMap's `..data` links), each
//! parsed, checked for secret-looking values, deserialized with every
//! unknown key and type error collected, then validated; the whole
//! directory becomes one [`RulesSnapshot`] or the list of every problem.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml::Value;
use sha2::{Digest, Sha256};

use super::positions::Positions;
use super::problems::{Anchor, FileProblems, RuleProblem};
use super::schema::ProjectFile;
use super::secrets::looks_like_secret;
use super::{validate, Project, RulesSnapshot};

/// Hex digits kept of a SHA-256 (versions of the directory, projects, rules).
pub const VERSION_LEN: usize = 12;

/// Why the rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The directory cannot be listed.
    #[error("cannot read the rules directory {}: {error}", dir.display())]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A file cannot be read.
    #[error("cannot read rules file {}: {error}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// Files are invalid; every problem found.
    #[error("{}", render(.0))]
    Invalid(Vec<RuleProblem>),
}

fn render(problems: &[RuleProblem]) -> String {
    let noun = if problems.len() == 1 {
        "problem"
    } else {
        "problems"
    };
    let mut out = format!("invalid rules ({} {noun}):", problems.len());
    for p in problems {
        out.push('\n');
        out.push_str(&p.render());
    }
    out
}

/// One file of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Its name (`SEC.yaml`).
    pub name: String,
    /// Its text.
    pub text: String,
}

/// The rules files of `dir`, sorted by name.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, RulesError> {
    let dir_error = |error| RulesError::Dir {
        dir: dir.to_owned(),
        error,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(dir_error)? {
        let path = entry.map_err(dir_error)?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        if name.starts_with('.') || !yaml || !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|error| RulesError::File {
            path: path.clone(),
            error,
        })?;
        files.push(SourceFile {
            name: name.to_owned(),
            text,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// SHA-256 of names and contents, as a [`VERSION_LEN`]-digit hex prefix.
pub fn content_hash(files: &[SourceFile]) -> String {
    let mut hash = Sha256::new();
    for f in files {
        hash.update(f.name.as_bytes());
        hash.update([0]);
        hash.update((f.text.len() as u64).to_be_bytes());
        hash.update(f.text.as_bytes());
    }
    short(hash.finalize().as_slice())
}

/// The first [`VERSION_LEN`] hex digits of `digest`.
pub(crate) fn short(digest: &[u8]) -> String {
    let mut hex = hex::encode(digest);
    hex.truncate(VERSION_LEN);
    hex
}

/// Reads and validates `dir` whole.
pub fn load_dir(dir: &Path) -> Result<RulesSnapshot, RulesError> {
    build(&read_dir(dir)?).map_err(RulesError::Invalid)
}

/// Validates `files` whole: a snapshot, or every problem of every file.
pub fn build(files: &[SourceFile]) -> Result<RulesSnapshot, Vec<RuleProblem>> {
    let mut problems = Vec::new();
    let mut projects: BTreeMap<String, Project> = BTreeMap::new();
    for f in files {
        match parse_file(f) {
            Ok(project) => {
                if let Some(other) = projects.get(&project.key) {
                    problems.push(RuleProblem {
                        file: f.name.clone(),
                        rule_id: None,
                        path: String::new(),
                        line: 1,
                        col: 1,
                        message: format!(
                            "project `{}` is also defined by {}",
                            project.key, other.file
                        ),
                        source_line: String::new(),
                    });
                }
                projects.insert(project.key.clone(), project);
            }
            Err(found) => problems.extend(found),
        }
    }
    if problems.is_empty() {
        Ok(RulesSnapshot::new(content_hash(files), projects))
    } else {
        Err(problems)
    }
}

fn parse_file(f: &SourceFile) -> Result<Project, Vec<RuleProblem>> {
    let key = (f.name.strip_suffix(".yaml"))
        .or_else(|| f.name.strip_suffix(".yml"))
        .unwrap_or(&f.name);
    let positions = Positions::of(&f.text);
    let parsed: Result<Value, _> = serde_yaml::from_str(&f.text);
    let tree = match parsed {
        Ok(Value::Null) => Value::Mapping(Default::default()),
        Ok(tree) => tree,
        Err(e) => {
            let mut p = problems(f, &positions, &Value::Null);
            let text = e.to_string();
            let message = text.split(" at line ").next().unwrap_or(&text);
            // serde_yaml places a duplicate key at its mapping; the
            // positions know the duplicate (the last occurrence of the key).
            let duplicate = duplicate_key(message)
                .and_then(|path| positions.find(&path).filter(|(f, _)| *f == path))
                .and_then(|(_, node)| node.key);
            let (line, col) = match (duplicate, e.location()) {
                (Some(pos), _) => (pos.line, pos.col),
                (None, Some(l)) => (l.line(), l.column()),
                (None, None) => (0, 0),
            };
            p.push_at(line, col, format!("not valid YAML: {message}"));
            return Err(p.found);
        }
    };
    let mut p = problems(f, &positions, &tree);
    scan_secrets(&tree, "", &mut p);
    let (file, found) = crate::settings::deserialize_all::<ProjectFile>(tree.clone());
    // The collecting deserializer drops a bad list item and goes on, which
    // shifts the later items' indices: semantic checks would then point at
    // the wrong items, so they wait until the lists deserialize.
    let shifted = found.iter().any(|p| p.path.ends_with(']'));
    for problem in found {
        let path = if problem.path == "<root>" {
            ""
        } else {
            &problem.path
        };
        let anchor = if problem.message.starts_with("unknown field") {
            Anchor::Key
        } else {
            Anchor::Value
        };
        p.push(path, anchor, problem.message);
    }
    if let Some(mut file) = file.filter(|_| !shifted) {
        validate::check(key, &mut file, &mut p);
        if p.found.is_empty() {
            return Ok(Project::new(key, f, file));
        }
    }
    let mut found = p.found;
    found.sort_by_key(|p| (p.line, p.col));
    Err(found)
}

/// The key path of the duplicate in serde_yaml's `<path>: duplicate entry
/// with key "<key>"`.
fn duplicate_key(message: &str) -> Option<String> {
    const DUPLICATE: &str = "duplicate entry with key \"";
    let (path, rest) = match message.strip_prefix(DUPLICATE) {
        Some(rest) => ("", rest),
        None => message.split_once(&format!(": {DUPLICATE}"))?,
    };
    let key = rest.strip_suffix('"')?;
    Some(if path == "." || path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    })
}

fn problems<'a>(f: &'a SourceFile, positions: &'a Positions, tree: &'a Value) -> FileProblems<'a> {
    FileProblems {
        file: &f.name,
        text: &f.text,
        positions,
        tree,
        found: Vec::new(),
    }
}

/// Refuses every string that looks like a secret.
fn scan_secrets(value: &Value, path: &str, p: &mut FileProblems<'_>) {
    match value {
        Value::String(s) => {
            if let Some((kind, offset)) = looks_like_secret(s) {
                let message = format!(
                    "looks like {kind}: secrets never go in rules files; name one instead \
                     (`secret: <name>`, read from rules.secrets_dir or CEH__RULES__SECRETS__<NAME>)"
                );
                p.push(path, Anchor::Offset(offset), message);
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                scan_secrets(item, &format!("{path}[{i}]"), p);
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map {
                let key = match key {
                    Value::String(k) => k.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                };
                let child = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                scan_secrets(item, &child, p);
            }
        }
        Value::Tagged(tagged) => scan_secrets(&tagged.value, path, p),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
