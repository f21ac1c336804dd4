//! Channel limits and cutting: on char boundaries, with an ellipsis, before
//! escaping; [`fit`] re-measures the escaped, rendered result.

use super::RenderError;

/// Slack: the message `text`, in chars.
pub const SLACK_TEXT_CHARS: usize = 40_000;
/// Slack: blocks per message.
pub const SLACK_MAX_BLOCKS: usize = 50;
/// Slack: a section's text, in chars.
pub const SLACK_SECTION_CHARS: usize = 3_000;
/// Slack: a header's plain_text, in chars.
pub const SLACK_HEADER_CHARS: usize = 150;
/// Slack: a context element's text, in chars (kept well under the section limit).
pub const SLACK_CONTEXT_CHARS: usize = 2_000;
/// Teams: the whole serialized Workflows body, in bytes (~28 KB, kept under 28,000).
pub const TEAMS_BODY_BYTES: usize = 28_000;
/// PagerDuty: `payload.summary`, in chars.
pub const PAGERDUTY_SUMMARY_CHARS: usize = 1_024;
/// PagerDuty: each user text in `custom_details`, in chars (the event is ≤ 512 KB).
pub const PAGERDUTY_DETAIL_CHARS: usize = 10_000;
/// Email: the subject, in chars.
pub const EMAIL_SUBJECT_CHARS: usize = 200;
/// Email: each user text in the bodies, in chars (no protocol limit; kept readable).
pub const EMAIL_TEXT_CHARS: usize = 20_000;
/// Every channel: the case key, in chars (never cut by a budget).
pub const KEY_CHARS: usize = 64;
/// Every channel: short fields (project, status, priority, names, rule), in chars.
pub const SHORT_FIELD_CHARS: usize = 200;

/// Every channel: a link longer than this is not used as a link (and is
/// shown cut to [`SHORT_FIELD_CHARS`]).
pub const LINK_CHARS: usize = 2_000;

/// The ellipsis that marks a cut.
pub const ELLIPSIS: char = '…';

/// `text` cut to at most `max` chars: the first `max - 1` chars and `…`, or
/// `text` unchanged when it fits. Cuts on char boundaries only.
pub fn cut_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) if max == 0 => String::new(),
        Some(_) => {
            let end = text
                .char_indices()
                .nth(max - 1)
                .map_or(text.len(), |(i, _)| i);
            let mut cut = String::with_capacity(end + ELLIPSIS.len_utf8());
            cut.push_str(&text[..end]);
            cut.push(ELLIPSIS);
            cut
        }
    }
}

/// A char count (Slack and PagerDuty limits).
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// What a [`fit`] measures and its limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limit {
    pub channel: &'static str,
    pub what: &'static str,
    pub max: usize,
    pub unit: &'static str,
    pub measure: fn(&str) -> usize,
}

impl Limit {
    /// A limit in chars.
    pub const fn chars(channel: &'static str, what: &'static str, max: usize) -> Self {
        Limit {
            channel,
            what,
            max,
            unit: "chars",
            measure: chars,
        }
    }

    /// A limit in bytes.
    pub const fn bytes(channel: &'static str, what: &'static str, max: usize) -> Self {
        Limit {
            channel,
            what,
            max,
            unit: "bytes",
            measure: str::len,
        }
    }
}

/// Renders with a budget (every user text cut to `budget` chars before it is
/// escaped), starting at `start`, and shrinks the budget until the result
/// measures within `limit`. The budget shrinks in proportion to the overflow
/// (escaping may expand text several times) and by at least one each round.
pub(super) fn fit<T>(
    limit: Limit,
    start: usize,
    mut render: impl FnMut(usize) -> Result<(T, String), RenderError>,
) -> Result<T, RenderError> {
    let mut budget = start;
    loop {
        let (value, measured) = render(budget)?;
        let size = (limit.measure)(&measured);
        if size <= limit.max {
            return Ok(value);
        }
        if budget == 0 {
            return Err(RenderError::TooLarge {
                channel: limit.channel,
                what: limit.what,
                limit: limit.max,
                unit: limit.unit,
            });
        }
        budget = shrink(budget, size, limit.max);
    }
}

/// The next budget: scaled by `max / size`, and always smaller.
fn shrink(budget: usize, size: usize, max: usize) -> usize {
    let scaled = budget.saturating_mul(max) / size.max(1);
    scaled.min(budget.saturating_sub(1))
}

/// [`fit`] for a rendered string measured as itself.
pub(super) fn fit_text(
    limit: Limit,
    start: usize,
    mut render: impl FnMut(usize) -> Result<String, RenderError>,
) -> Result<String, RenderError> {
    fit(limit, start, |budget| {
        let text = render(budget)?;
        Ok((text.clone(), text))
    })
}
