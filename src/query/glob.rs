//! Matching text against a [`Pattern`]: literal equality or an anchored glob
//! (`*` any run, `?` one character), optionally case-insensitive.

use super::ast::{GlobPart, Pattern};

/// One glob element after expansion to characters.
#[derive(Debug, Clone, Copy, PartialEq)]
enum El {
    Char(char),
    One,
    Run,
}

impl Pattern {
    /// Whether all of `text` matches; `ci` compares case-insensitively.
    pub(crate) fn matches(&self, text: &str, ci: bool) -> bool {
        match self {
            Self::Literal(lit) if ci => lit.to_lowercase() == text.to_lowercase(),
            Self::Literal(lit) => lit == text,
            Self::Glob(parts) => glob_match(&elements(parts, ci, false), &fold(text, ci)),
        }
    }

    /// Whether the pattern occurs anywhere in `text`, case-insensitively
    /// (free-text search of the title).
    pub(crate) fn occurs_in(&self, text: &str) -> bool {
        match self {
            Self::Literal(lit) => text.to_lowercase().contains(&lit.to_lowercase()),
            Self::Glob(parts) => glob_match(&elements(parts, true, true), &fold(text, true)),
        }
    }
}

/// `text` as characters, lower-cased if `ci`.
fn fold(text: &str, ci: bool) -> Vec<char> {
    if ci {
        text.to_lowercase().chars().collect()
    } else {
        text.chars().collect()
    }
}

/// Expands `parts` to elements; `unanchored` adds a `*` at both ends.
fn elements(parts: &[GlobPart], ci: bool, unanchored: bool) -> Vec<El> {
    let mut out = Vec::new();
    if unanchored {
        out.push(El::Run);
    }
    for part in parts {
        match part {
            GlobPart::Text(t) => out.extend(fold(t, ci).into_iter().map(El::Char)),
            GlobPart::AnyChar => out.push(El::One),
            GlobPart::AnyRun => out.push(El::Run),
        }
    }
    if unanchored {
        out.push(El::Run);
    }
    out
}

/// Classic linear-backtracking wildcard match: on a mismatch, retry from the
/// last `*` with it absorbing one more character.
fn glob_match(pat: &[El], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut last_run: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(El::Run) => {
                last_run = Some((p, t));
                p += 1;
            }
            Some(El::One) => (p, t) = (p + 1, t + 1),
            Some(El::Char(c)) if *c == text[t] => (p, t) = (p + 1, t + 1),
            _ => match last_run {
                Some((rp, rt)) => {
                    last_run = Some((rp, rt + 1));
                    (p, t) = (rp + 1, rt + 1);
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|e| *e == El::Run)
}
