//! Per-channel rendering of a case notification: email (subject, plain text,
//! HTML), Slack (Block Kit), Microsoft Teams (Adaptive Card via Workflows)
//! and PagerDuty (Events v2 summary + custom details). Pure code: no IO.
//! In the kit because every flavor that messages people renders so (the
//! notification flavor first; paging and incident escalation after it).
//!
//! Guarantees, for any [`Notice`] (hostile titles and comments included):
//! - **Templates** live in `templates/notification/` and are compiled into the
//!   binary; a template that fails to parse is a [`RenderError`], never a panic.
//! - **Escaping per channel** ([`escape`]): HTML is autoescaped by the template
//!   engine and a link lands in an `href` only if it is `http(s)`; Slack
//!   mrkdwn has `&`, `<`, `>` escaped, so `<!channel>`, `<@U123>` and
//!   `<https://evil|click>` stay inert text; Adaptive Card markdown control
//!   characters are backslash-escaped so user text cannot forge a link or
//!   emphasis; one-line fields (title, names) have line breaks, control and
//!   bidi-override characters replaced; the email subject has no CR/LF.
//! - **Limits** ([`limits`]): Slack `text` ≤ 40,000 chars, ≤ 50 blocks,
//!   section text ≤ 3,000 chars, header ≤ 150 chars; the Teams body
//!   serializes to ≤ 28,000 bytes; the PagerDuty summary ≤ 1,024 chars; the
//!   email subject ≤ 200 chars. User text is cut on char boundaries with `…`
//!   *before* it is escaped (never inside an escape sequence), and the
//!   escaped result is measured again and cut further until it fits.
//! - **JSON** bodies are built with `serde_json`, never by hand.

mod email;
pub mod escape;
pub mod limits;
mod pagerduty;
mod prepare;
mod slack;
mod teams;
mod templates;

#[cfg(test)]
mod escape_tests;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use minijinja::Environment;

/// What a notification says about a case: the input of every channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The case key, e.g. `SEC-123`.
    pub case_key: String,
    /// The case title (user text).
    pub title: String,
    /// The project's name or key.
    pub project: String,
    /// The case's status name after the change.
    pub status: String,
    /// The case's priority after the change, e.g. `P1`.
    pub priority: String,
    /// What changed.
    pub change: Change,
    /// Who made the change; `None` for the system.
    pub actor_name: Option<String>,
    /// The case URL.
    pub link: String,
    /// The notification rule that matched, if any.
    pub rule_name: Option<String>,
}

/// What changed on the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The case was created.
    Created,
    /// The status moved.
    Status {
        /// Status name before.
        from: String,
        /// Status name after.
        to: String,
    },
    /// The priority moved.
    Priority {
        /// Priority before.
        from: String,
        /// Priority after.
        to: String,
    },
    /// The assignee changed; `None` means unassigned.
    Assigned {
        /// The new assignee's name.
        to: Option<String>,
    },
    /// A comment was added.
    Comment {
        /// The start of the comment (user text, may span lines).
        excerpt: String,
    },
    /// An attribute changed; `None` is "not set".
    Attribute {
        /// The attribute's name.
        field: String,
        /// Value before.
        from: Option<String>,
        /// Value after.
        to: Option<String>,
    },
    /// An SLA goal was breached.
    SlaBreached {
        /// The SLA metric, e.g. `time_to_acknowledge`.
        metric: String,
    },
    /// Anything else, already phrased.
    Other(String),
}

impl Change {
    /// One plain-text line saying what changed (not escaped, not cut).
    pub fn summary(&self) -> String {
        match self {
            Change::Created => "Case created".to_string(),
            Change::Status { from, to } => format!("Status changed from {from} to {to}"),
            Change::Priority { from, to } => format!("Priority changed from {from} to {to}"),
            Change::Assigned { to: Some(to) } => format!("Assigned to {to}"),
            Change::Assigned { to: None } => "Unassigned".to_string(),
            Change::Comment { .. } => "New comment".to_string(),
            Change::Attribute { field, from, to } => attribute_summary(field, from, to),
            Change::SlaBreached { metric } => format!("SLA breached: {metric}"),
            Change::Other(text) => text.clone(),
        }
    }

    /// The multi-line detail of the change (a comment's excerpt), if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Change::Comment { excerpt } => Some(excerpt),
            _ => None,
        }
    }
}

fn attribute_summary(field: &str, from: &Option<String>, to: &Option<String>) -> String {
    match (from, to) {
        (Some(from), Some(to)) => format!("{field} changed from {from} to {to}"),
        (None, Some(to)) => format!("{field} set to {to}"),
        (Some(from), None) => format!("{field} cleared (was {from})"),
        (None, None) => format!("{field} changed"),
    }
}

/// A rendering failure, naming the template or channel and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A template failed to parse when the environment was built.
    #[error("notification template '{template}' does not parse: {message}")]
    Parse {
        /// The template's name.
        template: &'static str,
        /// The template engine's message.
        message: String,
    },
    /// A template failed to render.
    #[error("notification template '{template}' failed to render: {message}")]
    Render {
        /// The template's name.
        template: &'static str,
        /// The template engine's message.
        message: String,
    },
    /// The message cannot fit the channel's limit even with user text cut to nothing.
    #[error("{channel}: {what} cannot fit {limit} {unit} even with all user text cut")]
    TooLarge {
        /// The channel.
        channel: &'static str,
        /// The part that does not fit.
        what: &'static str,
        /// The limit.
        limit: usize,
        /// `chars` or `bytes`.
        unit: &'static str,
    },
    /// A JSON body could not be serialized.
    #[error("{channel}: serializing the body: {message}")]
    Json {
        /// The channel.
        channel: &'static str,
        /// serde_json's message.
        message: String,
    },
}

/// An email: subject, plain-text body and HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// One line, ≤ 200 chars, no CR/LF.
    pub subject: String,
    /// The `text/plain` part.
    pub text: String,
    /// The `text/html` part (user text HTML-escaped).
    pub html: String,
}

/// A Slack message: the fallback `text` and the Block Kit `blocks` array.
#[derive(Debug, Clone, PartialEq)]
pub struct Slack {
    /// The notification fallback (mrkdwn, escaped, ≤ 40,000 chars).
    pub text: String,
    /// The Block Kit blocks (a JSON array, ≤ 50 blocks).
    pub blocks: serde_json::Value,
}

/// A Teams message: the whole Workflows webhook body.
#[derive(Debug, Clone, PartialEq)]
pub struct Teams {
    /// `{"type":"message","attachments":[{… Adaptive Card 1.4 …}]}`, ≤ 28,000 bytes serialized.
    pub card: serde_json::Value,
}

/// The rendered parts of a PagerDuty Events v2 trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct PagerDuty {
    /// `payload.summary`, ≤ 1,024 chars, one line.
    pub summary: String,
    /// `payload.custom_details`.
    pub custom_details: serde_json::Value,
}

/// The template environment, built once; renders every channel.
#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Builds the environment from the compiled-in templates.
    pub fn new() -> Result<Self, RenderError> {
        Ok(Renderer {
            env: templates::environment()?,
        })
    }

    /// Renders the email.
    pub fn email(&self, notice: &Notice) -> Result<Email, RenderError> {
        email::render(self, notice)
    }

    /// Renders the Slack message.
    pub fn slack(&self, notice: &Notice) -> Result<Slack, RenderError> {
        slack::render(self, notice)
    }

    /// Renders the Teams Workflows body.
    pub fn teams(&self, notice: &Notice) -> Result<Teams, RenderError> {
        teams::render(self, notice)
    }

    /// Renders the PagerDuty summary and details.
    pub fn pagerduty(&self, notice: &Notice) -> Result<PagerDuty, RenderError> {
        pagerduty::render(self, notice)
    }

    fn render(&self, template: &'static str, ctx: minijinja::Value) -> Result<String, RenderError> {
        templates::render(&self.env, template, ctx)
    }
}

/// The process-wide renderer, built on first use.
pub fn renderer() -> Result<&'static Renderer, RenderError> {
    static RENDERER: OnceLock<Result<Renderer, RenderError>> = OnceLock::new();
    RENDERER
        .get_or_init(Renderer::new)
        .as_ref()
        .map_err(Clone::clone)
}

/// Renders the email with the process-wide [`renderer`].
pub fn render_email(notice: &Notice) -> Result<Email, RenderError> {
    renderer()?.email(notice)
}

/// Renders the Slack message with the process-wide [`renderer`].
pub fn render_slack(notice: &Notice) -> Result<Slack, RenderError> {
    renderer()?.slack(notice)
}

/// Renders the Teams Workflows body with the process-wide [`renderer`].
pub fn render_teams(notice: &Notice) -> Result<Teams, RenderError> {
    renderer()?.teams(notice)
}

/// Renders the PagerDuty summary and details with the process-wide [`renderer`].
pub fn render_pagerduty(notice: &Notice) -> Result<PagerDuty, RenderError> {
    renderer()?.pagerduty(notice)
}
