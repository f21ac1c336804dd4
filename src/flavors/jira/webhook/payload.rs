//! The Jira webhook document: what a delivery carries, as far as the sync
//! reads it.

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
pub struct Delivery {
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(rename = "webhookEvent", default)]
    pub webhook_event: String,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub issue: Option<Issue>,
    #[serde(default)]
    pub changelog: Option<Changelog>,
    #[serde(default)]
    pub comment: Option<Comment>,
}

#[derive(Deserialize, Default, Clone)]
pub struct User {
    #[serde(rename = "accountId", default)]
    pub account_id: String,
    #[serde(rename = "displayName", default)]
    pub display_name: String,
}

impl User {
    /// The name to show: the display name, else the account id.
    pub fn shown(&self) -> String {
        match self.display_name.is_empty() {
            true => self.account_id.clone(),
            false => self.display_name.clone(),
        }
    }
}

#[derive(Deserialize)]
pub struct Issue {
    pub id: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub fields: Value,
}

impl Issue {
    /// `fields.updated` in ms since the epoch.
    pub fn updated_ms(&self) -> Option<i64> {
        jira_time(self.fields.get("updated")?.as_str()?)
    }
}

#[derive(Deserialize)]
pub struct Changelog {
    #[serde(default)]
    pub items: Vec<Item>,
}

#[derive(Deserialize)]
pub struct Item {
    #[serde(default)]
    pub field: String,
    #[serde(rename = "fieldId", default)]
    pub field_id: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(rename = "fromString", default)]
    pub from_string: Option<String>,
    #[serde(rename = "toString", default)]
    pub to_string: Option<String>,
}

#[derive(Deserialize)]
pub struct Comment {
    pub id: String,
    /// Wiki text (the webhook's v2 form) or an ADF document.
    #[serde(default)]
    pub body: Value,
    #[serde(default)]
    pub author: Option<User>,
    #[serde(rename = "updateAuthor", default)]
    pub update_author: Option<User>,
    #[serde(default)]
    pub updated: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
}

impl Comment {
    /// Who wrote this version of the comment.
    pub fn editor(&self) -> Option<&User> {
        self.update_author.as_ref().or(self.author.as_ref())
    }

    /// When this version was written, in ms since the epoch.
    pub fn updated_ms(&self) -> Option<i64> {
        let at = self.updated.as_deref().or(self.created.as_deref())?;
        jira_time(at)
    }

    /// The body as plain text: a string as is, an ADF document's text nodes
    /// (paragraphs on their own lines).
    pub fn text(&self) -> String {
        fn walk(node: &Value, out: &mut String) {
            if let Some(text) = node.get("text").and_then(Value::as_str) {
                out.push_str(text);
            }
            let children = node.get("content").and_then(Value::as_array);
            for child in children.into_iter().flatten() {
                walk(child, out);
            }
            if node.get("type").and_then(Value::as_str) == Some("paragraph") {
                out.push('\n');
            }
        }
        match &self.body {
            Value::String(text) => text.clone(),
            doc => {
                let mut out = String::new();
                walk(doc, &mut out);
                out.trim_end().to_string()
            }
        }
    }
}

/// Jira's timestamps (`2026-12-05T07:00:00.000+0000`, or RFC 3339) in ms.
pub fn jira_time(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|at| at.timestamp_millis())
}

/// The form of a changelog value that `plan::digest` saw when we wrote it.
pub fn comparable(field: &str, item: &Item, issue: &Issue, due_date_field: &str) -> String {
    let category = issue.fields.pointer("/status/statusCategory/key");
    match field {
        "assignee" => item.to.clone().unwrap_or_default(),
        f if f == due_date_field => item.to.clone().unwrap_or_default(),
        "status" => category
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| item.to_string.clone())
            .unwrap_or_default(),
        _ => item.to_string.clone().unwrap_or_default(),
    }
}
