//! Words for the sentences: who did it, enum values, quoted text, durations.

use std::collections::HashMap;

use super::CellView;

/// The enum value `$v` of generated type `pb::$ty` in words (`PAGE_URGENCY_HIGH`
/// → `high`); `None` for the unspecified value and for values this build
/// does not know.
macro_rules! word {
    ($ty:ident, $v:expr) => {
        $crate::flavors::timeline::show::words::enum_words(
            $crate::event::pb::$ty::try_from($v)
                .ok()
                .map(|e| e.as_str_name()),
            stringify!($ty),
        )
    };
}
pub(super) use word;

/// What a sentence is written from: the cell, and the names of the users
/// seen acting in the case (events carry user ids, and a display name only
/// for their actor).
pub(super) struct Ctx<'a> {
    pub cell: &'a CellView,
    pub names: &'a HashMap<String, String>,
}

impl Ctx<'_> {
    /// The cell's actor: display name, else id; empty for the system.
    pub fn actor(&self) -> &str {
        &self.cell.actor
    }

    /// ` by <actor>`, or nothing when there is no actor.
    pub fn by(&self) -> String {
        match self.actor() {
            "" => String::new(),
            a => format!(" by {a}"),
        }
    }

    /// A user by id: the display name the case's events gave it, else the id.
    pub fn who(&self, user_id: &str) -> String {
        if user_id.is_empty() {
            return "someone".into();
        }
        if user_id == self.cell.actor_id && !self.cell.actor.is_empty() {
            return self.cell.actor.clone();
        }
        self.names
            .get(user_id)
            .cloned()
            .unwrap_or_else(|| user_id.to_owned())
    }

    /// Whether the user is the cell's actor.
    pub fn is_actor(&self, user_id: &str) -> bool {
        !user_id.is_empty() && user_id == self.cell.actor_id
    }
}

/// Display names by user id, from the actors of the cells.
pub(super) fn names(cells: &[CellView]) -> HashMap<String, String> {
    cells
        .iter()
        .filter(|c| !c.actor_id.is_empty() && c.actor != c.actor_id)
        .map(|c| (c.actor_id.clone(), c.actor.clone()))
        .collect()
}

/// `PAGE_URGENCY_HIGH` of type `PageUrgency` → `high`; `None` when unspecified
/// or unknown.
pub(crate) fn enum_words(name: Option<&str>, type_name: &str) -> Option<String> {
    let name = name?;
    let mut prefix = String::new();
    for (i, ch) in type_name.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            prefix.push('_');
        }
        prefix.push(ch.to_ascii_uppercase());
    }
    prefix.push('_');
    let rest = name.strip_prefix(&prefix).unwrap_or(name);
    (rest != "UNSPECIFIED").then(|| rest.to_lowercase().replace('_', " "))
}

/// A priority in words: `P1` … `P5`, or `no priority`.
pub(super) fn priority(value: i32) -> String {
    match word!(Priority, value) {
        Some(p) if p.starts_with('p') => p.to_uppercase(),
        _ => "no priority".into(),
    }
}

/// A status: its name, else its group in words, else `no status`.
pub(super) fn status(name: &str, group: i32) -> String {
    if !name.is_empty() {
        return name.to_owned();
    }
    word!(StatusGroup, group).unwrap_or_else(|| "no status".into())
}

/// Text in typographic quotes, on one line, at most `max` characters of it.
pub(super) fn quote(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("“{}”", truncate(&flat, max))
}

/// At most `max` characters of `text`, cut after a whole word when one
/// ends in the second half, and marked `…` when cut.
pub(super) fn truncate(text: &str, max: usize) -> String {
    let Some((at, _)) = text.char_indices().nth(max) else {
        return text.to_owned();
    };
    let head = &text[..at];
    let head = match head.rfind(' ') {
        Some(space) if head[..space].chars().count() > max / 2 => &head[..space],
        _ => head,
    };
    format!("{}…", head.trim_end_matches([' ', ',', ';', ':', '.']))
}

/// Values joined with `, `, or `nothing`.
pub(super) fn list<S: AsRef<str>>(values: &[S]) -> String {
    if values.is_empty() {
        return "nothing".into();
    }
    values
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1`, `2`, … as `1 event`, `2 events`.
pub(super) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Seconds as `2d 3h`, `1h 5m`, `4m 10s` or `30s`.
pub(super) fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s > 0 => format!("{m}m {s}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

/// `Jira`, `ServiceNow`, or `external`.
pub(super) fn system(value: i32) -> &'static str {
    use crate::event::pb::ExternalSystem as S;
    match S::try_from(value) {
        Ok(S::Jira) => "Jira",
        Ok(S::Servicenow) => "ServiceNow",
        _ => "external",
    }
}
