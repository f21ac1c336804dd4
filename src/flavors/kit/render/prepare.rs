//! A notice's texts made ready for one channel: sanitized, cut to a budget
//! (before escaping), then escaped for the channel's markup.

use minijinja::{context, Value};

use super::escape::{multi_line, one_line};
use super::limits::{chars, cut_chars, KEY_CHARS, SHORT_FIELD_CHARS};
use super::Notice;

/// An escaper: raw text in, channel markup out.
pub(super) type Escape = fn(&str) -> String;

/// The texts of a notice for one channel, every one cut and escaped.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub case_key: String,
    pub title: String,
    pub project: String,
    pub status: String,
    pub priority: String,
    pub change: String,
    pub comment: Option<String>,
    pub actor: Option<String>,
    pub rule: Option<String>,
}

impl Prepared {
    /// Cuts every user text to `budget` chars (short fields also to
    /// [`SHORT_FIELD_CHARS`]; the case key only to [`KEY_CHARS`]) and then
    /// escapes it with `escape`.
    pub fn new(notice: &Notice, budget: usize, escape: Escape) -> Self {
        let short = budget.min(SHORT_FIELD_CHARS);
        let line = |text: &str, max: usize| escape(&cut_chars(&one_line(text), max));
        Prepared {
            case_key: line(&notice.case_key, KEY_CHARS),
            title: line(&notice.title, budget),
            project: line(&notice.project, short),
            status: line(&notice.status, short),
            priority: line(&notice.priority, short),
            change: line(&notice.change.summary(), budget),
            comment: notice
                .change
                .detail()
                .map(|text| escape(&cut_chars(&multi_line(text), budget))),
            actor: notice.actor_name.as_deref().map(|a| line(a, short)),
            rule: notice.rule_name.as_deref().map(|r| line(r, short)),
        }
    }

    /// The template context; `link` is the channel's link markup (or text)
    /// and `href` the URL for an HTML `href`, if any.
    pub fn context(&self, link: &str, href: Option<&str>) -> Value {
        context! {
            case_key => self.case_key.clone(),
            title => self.title.clone(),
            project => self.project.clone(),
            status => self.status.clone(),
            priority => self.priority.clone(),
            change => self.change.clone(),
            comment => self.comment.clone(),
            actor => self.actor.clone(),
            rule => self.rule.clone(),
            link => link.to_string(),
            href => href.map(str::to_string),
        }
    }
}

/// The longest user text of a notice, in chars: budgets above it cut nothing.
pub(super) fn longest(notice: &Notice) -> usize {
    let fields = [
        &notice.title,
        &notice.project,
        &notice.status,
        &notice.priority,
    ];
    let optional = [&notice.actor_name, &notice.rule_name];
    let longest_field = fields
        .into_iter()
        .chain(optional.into_iter().flatten())
        .map(|t| chars(t))
        .max()
        .unwrap_or(0);
    let detail = notice.change.detail().map_or(0, chars);
    chars(&notice.change.summary())
        .max(detail)
        .max(longest_field)
}

/// `longest(notice)` capped at `cap`: where a fit starts.
pub(super) fn start(notice: &Notice, cap: usize) -> usize {
    longest(notice).min(cap)
}
