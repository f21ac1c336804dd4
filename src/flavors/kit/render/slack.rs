//! Slack: Block Kit blocks built with serde_json from mrkdwn rendered by
//! `slack.*` templates; every user text escaped with [`slack_mrkdwn`].

use serde_json::{json, Value};

use super::escape::{one_line, slack_link, slack_mrkdwn};
use super::limits::{
    cut_chars, fit_text, Limit, SHORT_FIELD_CHARS, SLACK_CONTEXT_CHARS, SLACK_HEADER_CHARS,
    SLACK_MAX_BLOCKS, SLACK_SECTION_CHARS, SLACK_TEXT_CHARS,
};
use super::prepare::{start, Prepared};
use super::templates::{SLACK_CHANGE, SLACK_CONTEXT, SLACK_HEADER, SLACK_TEXT, SLACK_TITLE};
use super::{Notice, RenderError, Renderer, Slack};

const TEXT: Limit = Limit::chars("slack", "text", SLACK_TEXT_CHARS);
const HEADER: Limit = Limit::chars("slack", "header block", SLACK_HEADER_CHARS);
const SECTION: Limit = Limit::chars("slack", "section block", SLACK_SECTION_CHARS);
const CONTEXT: Limit = Limit::chars("slack", "context block", SLACK_CONTEXT_CHARS);

/// Renders the fallback text and four blocks: header (key and title),
/// title section with the link, change section (with a comment quote),
/// context (project, status, priority, rule).
pub(super) fn render(renderer: &Renderer, notice: &Notice) -> Result<Slack, RenderError> {
    let label = cut_chars(
        &format!("Open {}", one_line(&notice.case_key)),
        SHORT_FIELD_CHARS,
    );
    let link = slack_link(&one_line(&notice.link), &label);
    let piece = |template: &'static str, limit: Limit| {
        fit_text(limit, start(notice, limit.max), |budget| {
            let texts = quoted(Prepared::new(notice, budget, slack_mrkdwn));
            renderer.render(template, texts.context(&link, None))
        })
    };
    let mut blocks = vec![
        json!({"type": "header", "text": plain_text(piece(SLACK_HEADER, HEADER)?)}),
        section(piece(SLACK_TITLE, SECTION)?),
        section(piece(SLACK_CHANGE, SECTION)?),
        json!({"type": "context", "elements": [mrkdwn(piece(SLACK_CONTEXT, CONTEXT)?)]}),
    ];
    blocks.truncate(SLACK_MAX_BLOCKS);
    Ok(Slack {
        text: piece(SLACK_TEXT, TEXT)?,
        blocks: Value::Array(blocks),
    })
}

/// The comment as a blockquote (its text is already escaped).
fn quoted(mut texts: Prepared) -> Prepared {
    texts.comment = texts.comment.map(|c| super::escape::slack_quote(&c));
    texts
}

/// A header's text object. The header text is escaped like mrkdwn too, so no
/// `<!channel>`-like sequence appears anywhere in the payload.
fn plain_text(text: String) -> Value {
    json!({"type": "plain_text", "text": text, "emoji": true})
}

fn mrkdwn(text: String) -> Value {
    json!({"type": "mrkdwn", "text": text})
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": mrkdwn(text)})
}
