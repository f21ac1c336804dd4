//! Writing text values back in query syntax, so that they lex unchanged:
//! the inverse of [`super::lexer`]'s bareword and quoted-string rules.

use std::fmt;

use super::ast::{GlobPart, Pattern};
use super::lexer::{is_delimiter, Ctx};

/// Whether a literal character needs a `\` in a bareword of `ctx`.
fn needs_escape(c: char, ctx: Ctx, first: bool) -> bool {
    is_delimiter(c, ctx)
        || matches!(c, '\\' | '*' | '?')
        || (ctx == Ctx::Term && c == ':')
        || (first && ctx == Ctx::Term && c == '-')
        || (first && ctx == Ctx::Value && matches!(c, '[' | '<' | '>'))
}

/// Words reserved as keywords in `ctx`.
fn is_keyword(s: &str, ctx: Ctx) -> bool {
    match ctx {
        Ctx::Term => matches!(s, "AND" | "OR" | "NOT"),
        Ctx::List => matches!(s, "AND" | "OR"),
        Ctx::Range => s == "TO",
        Ctx::Value => false,
    }
}

/// Writes `p` so that it lexes back as the same pattern in `ctx`: a literal
/// quoted if that saves escaping anything but `"` and `\`, a glob escaped.
pub(crate) fn write_pattern(f: &mut impl fmt::Write, p: &Pattern, ctx: Ctx) -> fmt::Result {
    match p {
        Pattern::Literal(s) if s.is_empty() => f.write_str("\"\""),
        Pattern::Literal(s) => {
            let mut bare = String::new();
            escape_text(&mut bare, s, ctx, true)?;
            if is_keyword(s, ctx) {
                bare.insert(0, '\\');
            }
            if bare.len() - s.len() > s.matches(['"', '\\']).count() {
                write_quoted(f, s)
            } else {
                f.write_str(&bare)
            }
        }
        Pattern::Glob(parts) => {
            for (i, part) in parts.iter().enumerate() {
                match part {
                    GlobPart::Text(t) => escape_text(f, t, ctx, i == 0)?,
                    GlobPart::AnyChar => f.write_char('?')?,
                    GlobPart::AnyRun => f.write_char('*')?,
                }
            }
            Ok(())
        }
    }
}

/// Writes `s` with a `\` before every character that needs one.
fn escape_text(f: &mut impl fmt::Write, s: &str, ctx: Ctx, at_start: bool) -> fmt::Result {
    for (i, c) in s.chars().enumerate() {
        if needs_escape(c, ctx, at_start && i == 0) {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    Ok(())
}

/// Writes `"s"`, escaping `"` and `\`.
fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

/// Displays a pattern as a value, for messages.
pub(crate) struct Shown<'a>(pub &'a Pattern);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_pattern(f, self.0, Ctx::Value)
    }
}
