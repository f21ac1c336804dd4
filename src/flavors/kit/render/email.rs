//! Email: subject, plain text and HTML from `email.*` templates.

use super::escape::{http_link, one_line, plain, subject};
use super::limits::{cut_chars, EMAIL_SUBJECT_CHARS, EMAIL_TEXT_CHARS};
use super::prepare::Prepared;
use super::templates::{EMAIL_HTML, EMAIL_SUBJECT, EMAIL_TEXT};
use super::{Email, Notice, RenderError, Renderer};

/// Renders the three parts. The bodies get raw user text: the text part is
/// plain, the HTML template is autoescaped; the link is an `href` only if
/// it is `http(s)`.
pub(super) fn render(renderer: &Renderer, notice: &Notice) -> Result<Email, RenderError> {
    let link = one_line(&notice.link);
    let href = http_link(&link);
    let short = Prepared::new(notice, EMAIL_SUBJECT_CHARS, plain);
    let body = Prepared::new(notice, EMAIL_TEXT_CHARS, plain);
    let subject_line = renderer.render(EMAIL_SUBJECT, short.context(&link, href))?;
    Ok(Email {
        subject: cut_chars(subject(&subject_line).trim(), EMAIL_SUBJECT_CHARS),
        text: renderer.render(EMAIL_TEXT, body.context(&link, href))?,
        html: renderer.render(EMAIL_HTML, body.context(&link, href))?,
    })
}
