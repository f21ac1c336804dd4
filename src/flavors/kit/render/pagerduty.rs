//! PagerDuty Events v2: `payload.summary` from a template, `custom_details`
//! built with serde_json.

use serde_json::{json, Value};

use super::escape::{http_link, one_line, plain};
use super::limits::{fit_text, Limit, PAGERDUTY_DETAIL_CHARS, PAGERDUTY_SUMMARY_CHARS};
use super::prepare::{start, Prepared};
use super::templates::PAGERDUTY_SUMMARY;
use super::{Notice, PagerDuty, RenderError, Renderer};

const SUMMARY: Limit = Limit::chars("pagerduty", "summary", PAGERDUTY_SUMMARY_CHARS);

/// Renders the summary (one line, ≤ 1,024 chars) and the details (each
/// user text ≤ 10,000 chars; JSON escaping by serde_json).
pub(super) fn render(renderer: &Renderer, notice: &Notice) -> Result<PagerDuty, RenderError> {
    let link = one_line(&notice.link);
    let summary = fit_text(SUMMARY, start(notice, PAGERDUTY_SUMMARY_CHARS), |budget| {
        let texts = Prepared::new(notice, budget, plain);
        Ok(one_line(
            &renderer.render(PAGERDUTY_SUMMARY, texts.context(&link, None))?,
        ))
    })?;
    let details = Prepared::new(notice, PAGERDUTY_DETAIL_CHARS, plain);
    Ok(PagerDuty {
        summary,
        custom_details: custom_details(&details, http_link(&link)),
    })
}

fn custom_details(texts: &Prepared, link: Option<&str>) -> Value {
    json!({
        "case_key": texts.case_key,
        "title": texts.title,
        "project": texts.project,
        "status": texts.status,
        "priority": texts.priority,
        "change": texts.change,
        "comment": texts.comment,
        "changed_by": texts.actor,
        "rule": texts.rule,
        "link": link,
    })
}
