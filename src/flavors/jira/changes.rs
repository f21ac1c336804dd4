//! Pure: the field writes of one change or one snapshot, minus those whose
//! value was already synced (part of the plan).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::adf;
use super::config::{FieldShape, ProjectConfig, SyncMode};
use super::plan::{digest, Action, Synced};
use crate::event::pb::{CaseSnapshot, Priority, StatusGroup};

/// Longest summary Jira takes, in UTF-16 code units (Jira is Java: "Summary
/// must be less than 255 characters" counts those).
pub const SUMMARY_MAX: usize = 255;

/// A case title as a Jira summary, the same on create and on every update:
/// one line, and when longer than [`SUMMARY_MAX`], cut on a character
/// boundary with an ellipsis so the result is exactly within the limit.
pub fn summary(title: &str) -> String {
    let line: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.encode_utf16().count() <= SUMMARY_MAX {
        return line;
    }
    let budget = SUMMARY_MAX - 1; // the ellipsis is one UTF-16 unit
    let mut used = 0;
    let mut out = String::new();
    for c in line.chars() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

/// Collects writes, dropping the ones whose value was already synced.
pub struct Changes<'a> {
    hashes: &'a BTreeMap<String, String>,
    pub edit: Map<String, Value>,
    pub edit_synced: Vec<Synced>,
    pub others: Vec<Action>,
}

impl<'a> Changes<'a> {
    pub fn new(hashes: &'a BTreeMap<String, String>) -> Self {
        Self {
            hashes,
            edit: Map::new(),
            edit_synced: Vec::new(),
            others: Vec::new(),
        }
    }

    fn unchanged(&self, s: &Synced) -> bool {
        self.hashes.get(&s.field) == Some(&s.digest)
    }

    pub fn edit(&mut self, field: &str, value: Value, comparable: &str) {
        let synced = Synced {
            field: field.into(),
            digest: digest(field, comparable),
        };
        if !self.unchanged(&synced) {
            self.edit.insert(field.into(), value);
            self.edit_synced.push(synced);
        }
    }

    pub fn push(&mut self, action: Action) {
        let synced = match &action {
            Action::Assign { synced, .. } | Action::Transition { synced, .. } => Some(synced),
            Action::Labels { synced, .. } => synced.as_ref(),
            Action::Edit { .. } | Action::Comment { .. } => None,
        };
        if !synced.is_some_and(|s| self.unchanged(s)) {
            self.others.push(action);
        }
    }

    pub fn title(&mut self, title: &str) {
        let summary = summary(title);
        self.edit("summary", json!(summary), &summary);
    }

    pub fn description(&mut self, markdown: &str) {
        let adf = if markdown.trim().is_empty() {
            Value::Null
        } else {
            adf::from_markdown(markdown)
        };
        self.edit("description", adf, markdown);
    }

    pub fn priority(&mut self, cfg: &ProjectConfig, p: Priority) {
        if let Some(jira) = cfg.priorities.get(&p.into()) {
            self.edit("priority", json!({"name": jira}), jira);
        }
    }

    pub fn status(&mut self, cfg: &ProjectConfig, group: StatusGroup) {
        let category = match group {
            StatusGroup::Open => &cfg.statuses.open,
            StatusGroup::InProgress => &cfg.statuses.in_progress,
            StatusGroup::Closed => &cfg.statuses.closed,
            StatusGroup::Unspecified => return,
        };
        let category = category.key();
        let synced = Synced {
            field: "status".into(),
            digest: digest("status", category),
        };
        self.push(Action::Transition {
            category: category.to_owned(),
            synced,
        });
    }

    pub fn assignee(&mut self, cfg: &ProjectConfig, user: Option<&str>) {
        match user.map(|u| cfg.users.get(u)) {
            None => self.edit("assignee", Value::Null, ""),
            Some(None) => {} // not mapped: leave Jira's assignee alone
            Some(Some(account)) => self.push(Action::Assign {
                account_id: account.clone(),
                synced: Synced {
                    field: "assignee".into(),
                    digest: digest("assignee", account),
                },
            }),
        }
    }

    pub fn due_date(&mut self, cfg: &ProjectConfig, date: Option<&str>) {
        let value = date.map_or(Value::Null, |d| json!(d));
        self.edit(&cfg.due_date_field, value, date.unwrap_or(""));
    }

    pub fn custom(&mut self, field_id: &str, shape: FieldShape, values: &[String]) {
        let value = match (shape, values.first()) {
            (_, None) => Value::Null,
            (FieldShape::Text, Some(_)) => json!(values.join(", ")),
            (FieldShape::Number, Some(v)) => match v.parse::<f64>() {
                Ok(n) => json!(n),
                Err(_) => return,
            },
            (FieldShape::Select, Some(v)) => json!({"value": v}),
            (FieldShape::MultiSelect, Some(_)) => {
                Value::Array(values.iter().map(|v| json!({"value": v})).collect())
            }
        };
        self.edit(field_id, value, &values.join(","));
    }

    pub fn finish(self) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.edit.is_empty() {
            out.push(Action::Edit {
                fields: self.edit,
                synced: self.edit_synced,
            });
        }
        out.extend(self.others);
        out
    }
}

/// Every field of a snapshot whose mode passes `want`.
pub fn snapshot_changes<'a>(
    s: &CaseSnapshot,
    cfg: &ProjectConfig,
    want: fn(SyncMode) -> bool,
    hashes: &'a BTreeMap<String, String>,
) -> Changes<'a> {
    let f = &cfg.fields;
    let mut c = Changes::new(hashes);
    if want(f.title) {
        c.title(&s.title);
    }
    if want(f.description) && !s.description.trim().is_empty() {
        c.description(&s.description);
    }
    if want(f.priority) {
        c.priority(cfg, s.priority());
    }
    if want(f.due_date) && s.due_date.is_some() {
        c.due_date(cfg, s.due_date.as_deref());
    }
    if want(f.assignee) && s.assignee_id.is_some() {
        c.assignee(cfg, s.assignee_id.as_deref());
    }
    if want(f.status) {
        c.status(cfg, s.status_group());
    }
    if want(f.labels) {
        let labels = managed_labels(s, cfg);
        if !labels.is_empty() {
            let synced = Synced {
                field: "labels".into(),
                digest: digest("labels", &labels.join(" ")),
            };
            c.push(Action::Labels {
                add: labels,
                remove: Vec::new(),
                synced: Some(synced),
            });
        }
    }
    for field in cfg.custom_fields.iter().filter(|x| want(x.mode)) {
        if let Some(v) = s.custom_attributes.get(&field.attribute) {
            c.custom(&field.field_id, field.shape, &v.values);
        }
    }
    c
}

/// The labels the case's attributes ask for, sorted.
pub fn managed_labels(s: &CaseSnapshot, cfg: &ProjectConfig) -> Vec<String> {
    let mut out: Vec<String> = cfg
        .label_attributes
        .iter()
        .filter_map(|k| s.attributes.get(k).map(|v| (k, v)))
        .flat_map(|(k, list)| list.values.iter().map(move |v| label(k, v)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A Jira label for an attribute value (labels cannot hold spaces).
pub fn label(key: &str, value: &str) -> String {
    format!("{key}:{value}").replace(char::is_whitespace, "_")
}
