//! Escaping per channel: pure functions, one per markup.
//!
//! HTML itself is escaped by the template engine (autoescape on `.html`);
//! here only [`http_link`] decides whether a link may become an `href`.

use super::limits::{cut_chars, LINK_CHARS, SHORT_FIELD_CHARS};

/// Whether `c` breaks a one-line field: line breaks, control characters and
/// the bidi embeddings/overrides/isolates that reorder what follows them.
fn breaks_line(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// A one-line field (title, names, statuses): every line break, control or
/// bidi-override character becomes a space. Emoji, combining marks and
/// right-to-left letters stay.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if breaks_line(c) { ' ' } else { c })
        .collect()
}

/// A multi-line field (a comment): CRLF and CR become LF; every other control
/// or bidi-override character becomes a space.
pub fn multi_line(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| match c {
            '\n' => '\n',
            '\r' => '\n',
            c if breaks_line(c) => ' ',
            c => c,
        })
        .collect()
}

/// An email subject: one line (no CR/LF, so no header injection).
pub fn subject(text: &str) -> String {
    one_line(text)
}

/// The link when it is an absolute `http` or `https` URL without spaces or
/// control characters and at most [`LINK_CHARS`] long, else `None` (a `javascript:` or `data:` link never
/// becomes an `href`, a Slack link or a card action).
pub fn http_link(link: &str) -> Option<&str> {
    let link = link.trim();
    let lower = link.get(..8).unwrap_or(link).to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let host_ok = link
        .split("://")
        .nth(1)
        .is_some_and(|rest| !rest.is_empty());
    let chars_ok = !link.chars().any(|c| c.is_whitespace() || c.is_control());
    let short = link.chars().nth(LINK_CHARS).is_none();
    (scheme_ok && host_ok && chars_ok && short).then_some(link)
}

/// Slack mrkdwn: `&`, `<`, `>` as entities, so `<!channel>`, `<@U123>` and
/// `<https://evil|click>` are shown as text, never parsed.
pub fn slack_mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A Slack link `<url|label>`, url and label escaped (a `|` in the url is
/// percent-encoded so it cannot end the url). A link that is not `http(s)`
/// is shown as escaped text (cut to [`SHORT_FIELD_CHARS`]) after the label.
pub fn slack_link(link: &str, label: &str) -> String {
    match http_link(link) {
        Some(url) => format!(
            "<{}|{}>",
            slack_mrkdwn(url).replace('|', "%7C"),
            slack_mrkdwn(label)
        ),
        None => format!(
            "{} ({})",
            slack_mrkdwn(label),
            slack_mrkdwn(&cut_chars(link, SHORT_FIELD_CHARS))
        ),
    }
}

/// Characters escaped anywhere in Adaptive Card TextBlock markdown.
fn card_special(c: char) -> bool {
    matches!(
        c,
        '\\' | '*' | '_' | '[' | ']' | '(' | ')' | '`' | '#' | '>' | '<' | '~' | '|' | '&' | '!'
    )
}

/// Characters escaped at the start of a line only (list markers).
fn card_line_start(c: char) -> bool {
    matches!(c, '-' | '+')
}

/// Adaptive Card TextBlock markdown: markdown control characters
/// backslash-escaped (`-` and `+` only at a line start), so user text cannot
/// forge a link, emphasis, a heading, a quote or a list.
pub fn card_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut line_start = true;
    for c in text.chars() {
        if card_special(c) || (line_start && card_line_start(c)) {
            out.push('\\');
        }
        out.push(c);
        line_start = c == '\n' || (line_start && c == ' ');
    }
    out
}

/// No escaping: plain text channels (email text, PagerDuty) and the HTML
/// template, which the engine autoescapes.
pub fn plain(text: &str) -> String {
    text.to_string()
}

/// Slack blockquote: every line of already-escaped text prefixed with `>`.
pub fn slack_quote(escaped: &str) -> String {
    escaped
        .split('\n')
        .map(|line| format!(">{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
