//! The compiled-in templates and the environment that holds them.

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use super::RenderError;

pub(super) const EMAIL_SUBJECT: &str = "email.subject.txt";
pub(super) const EMAIL_TEXT: &str = "email.txt";
pub(super) const EMAIL_HTML: &str = "email.html";
pub(super) const SLACK_TEXT: &str = "slack.text.txt";
pub(super) const SLACK_HEADER: &str = "slack.header.txt";
pub(super) const SLACK_TITLE: &str = "slack.title.mrkdwn";
pub(super) const SLACK_CHANGE: &str = "slack.change.mrkdwn";
pub(super) const SLACK_CONTEXT: &str = "slack.context.mrkdwn";
pub(super) const TEAMS_HEADING: &str = "teams.heading.md";
pub(super) const TEAMS_CHANGE: &str = "teams.change.md";
pub(super) const PAGERDUTY_SUMMARY: &str = "pagerduty.summary.txt";

macro_rules! template {
    ($name:expr, $file:literal) => {
        (
            $name,
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/notification/",
                $file
            )),
        )
    };
}

/// Every template: (name, source). Only `.html` ones are autoescaped.
pub(super) const TEMPLATES: &[(&str, &str)] = &[
    template!(EMAIL_SUBJECT, "email.subject.txt"),
    template!(EMAIL_TEXT, "email.txt"),
    template!(EMAIL_HTML, "email.html"),
    template!(SLACK_TEXT, "slack.text.txt"),
    template!(SLACK_HEADER, "slack.header.txt"),
    template!(SLACK_TITLE, "slack.title.mrkdwn"),
    template!(SLACK_CHANGE, "slack.change.mrkdwn"),
    template!(SLACK_CONTEXT, "slack.context.mrkdwn"),
    template!(TEAMS_HEADING, "teams.heading.md"),
    template!(TEAMS_CHANGE, "teams.change.md"),
    template!(PAGERDUTY_SUMMARY, "pagerduty.summary.txt"),
];

/// HTML autoescape for `.html` templates only; the other channels' values
/// arrive escaped for their markup (see `prepare`).
fn auto_escape(name: &str) -> AutoEscape {
    if name.ends_with(".html") {
        AutoEscape::Html
    } else {
        AutoEscape::None
    }
}

/// Builds the environment: strict undefined variables, every template parsed.
pub(super) fn environment() -> Result<Environment<'static>, RenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(auto_escape);
    for &(name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| RenderError::Parse {
                template: name,
                message: format!("{e:#}"),
            })?;
    }
    Ok(env)
}

/// Renders one template with `ctx`.
pub(super) fn render(
    env: &Environment<'static>,
    template: &'static str,
    ctx: Value,
) -> Result<String, RenderError> {
    let error = |e: minijinja::Error| RenderError::Render {
        template,
        message: format!("{e:#}"),
    };
    env.get_template(template)
        .map_err(error)?
        .render(ctx)
        .map_err(error)
}
