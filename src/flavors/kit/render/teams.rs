//! Microsoft Teams (Workflows webhook): an Adaptive Card 1.4 built with
//! serde_json; TextBlock markdown from `teams.*` templates, user text
//! escaped with [`card_markdown`].

use serde_json::{json, Value};

use super::escape::{card_markdown, http_link, one_line};
use super::limits::{cut_chars, fit, Limit, SHORT_FIELD_CHARS, TEAMS_BODY_BYTES};
use super::prepare::{start, Prepared};
use super::templates::{TEAMS_CHANGE, TEAMS_HEADING};
use super::{Notice, RenderError, Renderer, Teams};

const BODY: Limit = Limit::bytes("teams", "body", TEAMS_BODY_BYTES);
/// Where the user-text budget starts; the fit cuts the longest texts further.
const START_CHARS: usize = 10_000;

/// Renders the whole Workflows body and shrinks the longest user texts
/// until it serializes to ≤ 28,000 bytes.
pub(super) fn render(renderer: &Renderer, notice: &Notice) -> Result<Teams, RenderError> {
    let link = one_line(&notice.link);
    let url = http_link(&link);
    fit(BODY, start(notice, START_CHARS), |budget| {
        let texts = Prepared::new(notice, budget, card_markdown);
        let card = message(renderer, notice, &texts, url, &link)?;
        let serialized = serde_json::to_string(&card).map_err(|e| RenderError::Json {
            channel: "teams",
            message: e.to_string(),
        })?;
        Ok((Teams { card }, serialized))
    })
}

/// The `{"type":"message","attachments":[…]}` envelope around the card.
fn message(
    renderer: &Renderer,
    notice: &Notice,
    texts: &Prepared,
    url: Option<&str>,
    link: &str,
) -> Result<Value, RenderError> {
    let card = json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body(renderer, texts, url, link)?,
        "actions": actions(notice, url),
    });
    Ok(json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    }))
}

fn body(
    renderer: &Renderer,
    texts: &Prepared,
    url: Option<&str>,
    link: &str,
) -> Result<Vec<Value>, RenderError> {
    let heading = renderer.render(TEAMS_HEADING, texts.context(link, url))?;
    let change = renderer.render(TEAMS_CHANGE, texts.context(link, url))?;
    let mut blocks = vec![
        json!({"type": "TextBlock", "text": heading, "isSubtle": true, "size": "Small", "wrap": true}),
        json!({"type": "TextBlock", "text": texts.title, "size": "Large", "weight": "Bolder", "wrap": true}),
        json!({"type": "TextBlock", "text": change, "wrap": true}),
    ];
    if let Some(comment) = &texts.comment {
        // A single line feed is not a break in TextBlock markdown; a blank line is.
        let comment = comment.replace('\n', "\n\n");
        blocks.push(json!({"type": "TextBlock", "text": comment, "isSubtle": true, "wrap": true}));
    }
    blocks.push(facts(texts));
    if url.is_none() {
        let shown = card_markdown(&cut_chars(link, SHORT_FIELD_CHARS));
        blocks.push(
            json!({"type": "TextBlock", "text": format!("Case link: {shown}"), "wrap": true}),
        );
    }
    Ok(blocks)
}

fn facts(texts: &Prepared) -> Value {
    let mut facts = vec![
        json!({"title": "Status", "value": texts.status}),
        json!({"title": "Priority", "value": texts.priority}),
    ];
    if let Some(rule) = &texts.rule {
        facts.push(json!({"title": "Rule", "value": rule}));
    }
    json!({"type": "FactSet", "facts": facts})
}

/// An "Open" button only for an `http(s)` link (never `javascript:`).
fn actions(notice: &Notice, url: Option<&str>) -> Vec<Value> {
    let key = cut_chars(&one_line(&notice.case_key), SHORT_FIELD_CHARS);
    url.map(|url| json!({"type": "Action.OpenUrl", "title": format!("Open {key}"), "url": url}))
        .into_iter()
        .collect()
}
