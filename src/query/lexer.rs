//! Tokenizer for CQ (the inverse, writing a value so that it lexes back
//! unchanged, is [`super::print`]).
//!
//! Lexing is modal because what a character means depends on where it is:
//! after `field:` a value follows at once (and may contain `:`, `-`, `<`);
//! inside `field:( … )` only values and `AND`/`OR` appear; inside `[ … ]`
//! only bounds and `TO`. A `\` makes the next character literal anywhere.

use super::ast::{CmpOp, GlobPart, Pattern};
use super::error::{QueryError, QueryErrorKind};
use super::print::Shown;

/// Where a bareword stands; decides its delimiters and reserved words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// Top level: terms, free text, operators.
    Term,
    /// Right after `field:` (or after a comparison operator).
    Value,
    /// Inside `field:( … )`.
    List,
    /// Inside `field:[ … ]`.
    Range,
}

/// A token and the character position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    And,
    Or,
    Not,
    Minus,
    To,
    /// `name:` (the colon is consumed).
    Field(String),
    Cmp(CmpOp),
    /// A bareword; `plain` when it contains no `\` escape.
    Word {
        pattern: Pattern,
        plain: bool,
    },
    Quoted(String),
    Eof,
}

impl Tok {
    /// Short description for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::LParen => "`(`".into(),
            Self::RParen => "`)`".into(),
            Self::LBracket => "`[`".into(),
            Self::RBracket => "`]`".into(),
            Self::And => "`AND`".into(),
            Self::Or => "`OR`".into(),
            Self::Not => "`NOT`".into(),
            Self::Minus => "`-`".into(),
            Self::To => "`TO`".into(),
            Self::Field(name) => format!("field `{name}:`"),
            Self::Cmp(op) => format!("`{}`", op.as_str()),
            Self::Word { pattern, .. } => format!("`{}`", Shown(pattern)),
            Self::Quoted(s) => format!("{s:?}"),
            Self::Eof => "the end of the query".into(),
        }
    }
}

/// Lexer state: which [`Ctx`] the next token is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Term,
    Value,
    AfterCmp,
    List,
    Range,
}

/// Splits `input` into tokens, ending with [`Tok::Eof`].
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut lexer = Lexer {
        chars: input.chars().collect(),
        i: 0,
        mode: Mode::Term,
        out: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.out)
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
    mode: Mode,
    out: Vec<Token>,
}

/// What a bareword scan produced.
struct Bare {
    parts: Vec<GlobPart>,
    raw: String,
    escaped: bool,
    wildcard: bool,
    colon: bool,
}

impl Lexer {
    fn run(&mut self) -> Result<(), QueryError> {
        loop {
            if matches!(self.mode, Mode::Term | Mode::List | Mode::Range) {
                self.skip_ws();
            }
            let Some(c) = self.peek() else { break };
            match self.mode {
                Mode::Term => self.term(c)?,
                Mode::Value => self.value(c)?,
                Mode::AfterCmp => self.after_cmp(c)?,
                Mode::List => self.list(c)?,
                Mode::Range => self.range(c)?,
            }
        }
        if matches!(self.mode, Mode::Value | Mode::AfterCmp) {
            return Err(self.missing_value());
        }
        self.push(Tok::Eof, self.i);
        Ok(())
    }

    fn term(&mut self, c: char) -> Result<(), QueryError> {
        match c {
            '(' => self.single(Tok::LParen),
            ')' => self.single(Tok::RParen),
            '-' => self.single(Tok::Minus),
            '"' => self.quoted()?,
            _ => self.term_word()?,
        }
        Ok(())
    }

    fn value(&mut self, c: char) -> Result<(), QueryError> {
        match c {
            '(' => self.switch(Tok::LParen, Mode::List),
            '[' => self.switch(Tok::LBracket, Mode::Range),
            '>' | '<' => self.cmp(c),
            _ => return self.after_cmp(c),
        }
        Ok(())
    }

    fn after_cmp(&mut self, c: char) -> Result<(), QueryError> {
        if c.is_whitespace() || matches!(c, '(' | ')' | '[') {
            return Err(self.missing_value());
        }
        self.mode = Mode::Term;
        if c == '"' {
            return self.quoted();
        }
        let start = self.i;
        let bare = self.bare(Ctx::Value)?;
        self.word(bare, start);
        Ok(())
    }

    fn list(&mut self, c: char) -> Result<(), QueryError> {
        match c {
            '(' => self.single(Tok::LParen),
            ')' => self.switch(Tok::RParen, Mode::Term),
            '"' => self.quoted()?,
            _ => self.keyword_or_word(Ctx::List, &[("AND", Tok::And), ("OR", Tok::Or)])?,
        }
        Ok(())
    }

    fn range(&mut self, c: char) -> Result<(), QueryError> {
        match c {
            '(' => self.single(Tok::LParen),
            ')' => self.single(Tok::RParen),
            '[' => self.single(Tok::LBracket),
            ']' => self.switch(Tok::RBracket, Mode::Term),
            '"' => self.quoted()?,
            _ => self.keyword_or_word(Ctx::Range, &[("TO", Tok::To)])?,
        }
        Ok(())
    }

    /// A top-level bareword: keyword, `field:` or free text.
    fn term_word(&mut self) -> Result<(), QueryError> {
        let start = self.i;
        let bare = self.bare(Ctx::Term)?;
        if !bare.colon {
            let keywords = [("AND", Tok::And), ("OR", Tok::Or), ("NOT", Tok::Not)];
            self.keyword_or(bare, start, &keywords);
            return Ok(());
        }
        if bare.escaped || bare.wildcard || !is_field_name(&bare.raw) {
            return Err(QueryError::new(
                start,
                QueryErrorKind::InvalidField(bare.raw),
            ));
        }
        self.push(Tok::Field(bare.raw), start);
        self.mode = Mode::Value;
        Ok(())
    }

    fn keyword_or_word(&mut self, ctx: Ctx, keywords: &[(&str, Tok)]) -> Result<(), QueryError> {
        let start = self.i;
        let bare = self.bare(ctx)?;
        self.keyword_or(bare, start, keywords);
        Ok(())
    }

    /// Pushes the keyword `bare` spells (unescaped), else a word.
    fn keyword_or(&mut self, bare: Bare, start: usize, keywords: &[(&str, Tok)]) {
        let keyword = keywords
            .iter()
            .find(|(k, _)| !bare.escaped && bare.raw == *k);
        match keyword {
            Some((_, tok)) => self.push(tok.clone(), start),
            None => self.word(bare, start),
        }
    }

    fn word(&mut self, bare: Bare, start: usize) {
        let plain = !bare.escaped;
        let pattern = if bare.wildcard {
            Pattern::Glob(bare.parts)
        } else {
            let text = bare.parts.into_iter().map(|p| match p {
                GlobPart::Text(t) => t,
                GlobPart::AnyChar | GlobPart::AnyRun => String::new(),
            });
            Pattern::Literal(text.collect())
        };
        self.push(Tok::Word { pattern, plain }, start);
    }

    /// Scans a bareword up to a delimiter of `ctx` (in `Term`, up to and
    /// including the first unescaped `:`).
    fn bare(&mut self, ctx: Ctx) -> Result<Bare, QueryError> {
        let mut b = Bare {
            parts: Vec::new(),
            raw: String::new(),
            escaped: false,
            wildcard: false,
            colon: false,
        };
        while let Some(c) = self.peek() {
            if is_delimiter(c, ctx) {
                break;
            }
            self.i += 1;
            match c {
                ':' if ctx == Ctx::Term => {
                    b.colon = true;
                    break;
                }
                '\\' => {
                    let escaped = self.peek().ok_or_else(|| {
                        QueryError::new(self.i - 1, QueryErrorKind::DanglingEscape)
                    })?;
                    self.i += 1;
                    b.escaped = true;
                    push_text(&mut b.parts, escaped);
                }
                '*' | '?' => {
                    b.wildcard = true;
                    b.parts.push(if c == '*' {
                        GlobPart::AnyRun
                    } else {
                        GlobPart::AnyChar
                    });
                }
                _ => push_text(&mut b.parts, c),
            }
            b.raw.push(c);
        }
        Ok(b)
    }

    /// A `"…"` string; `\` escapes the next character.
    fn quoted(&mut self) -> Result<(), QueryError> {
        let start = self.i;
        self.i += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(QueryError::new(start, QueryErrorKind::UnterminatedQuote)),
                Some('"') => break,
                Some('\\') => {
                    self.i += 1;
                    text.push(self.peek().ok_or_else(|| {
                        QueryError::new(self.i - 1, QueryErrorKind::DanglingEscape)
                    })?);
                }
                Some(c) => text.push(c),
            }
            self.i += 1;
        }
        self.i += 1;
        self.push(Tok::Quoted(text), start);
        Ok(())
    }

    fn cmp(&mut self, c: char) {
        let start = self.i;
        self.i += 1;
        let eq = self.peek() == Some('=');
        if eq {
            self.i += 1;
        }
        let op = match (c, eq) {
            ('>', false) => CmpOp::Gt,
            ('>', true) => CmpOp::Ge,
            ('<', false) => CmpOp::Lt,
            _ => CmpOp::Le,
        };
        self.push(Tok::Cmp(op), start);
        self.mode = Mode::AfterCmp;
    }

    fn missing_value(&self) -> QueryError {
        let found = match self.peek() {
            None => "the end of the query".to_owned(),
            Some(c) if c.is_whitespace() => "whitespace".to_owned(),
            Some(c) => format!("`{c}`"),
        };
        let expected = if self.mode == Mode::AfterCmp {
            "a value right after the comparison operator"
        } else {
            "a value right after `:`"
        };
        QueryError::new(self.i, QueryErrorKind::Unexpected { expected, found })
    }

    fn single(&mut self, tok: Tok) {
        self.push(tok, self.i);
        self.i += 1;
    }

    fn switch(&mut self, tok: Tok, mode: Mode) {
        self.single(tok);
        self.mode = mode;
    }

    fn push(&mut self, tok: Tok, pos: usize) {
        self.out.push(Token { tok, pos });
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }
}

/// Appends a literal character, merging with a preceding text part.
fn push_text(parts: &mut Vec<GlobPart>, c: char) {
    if let Some(GlobPart::Text(t)) = parts.last_mut() {
        t.push(c);
    } else {
        parts.push(GlobPart::Text(c.to_string()));
    }
}

/// Whether `c` ends a bareword in `ctx`.
pub(crate) fn is_delimiter(c: char, ctx: Ctx) -> bool {
    c.is_whitespace()
        || matches!(c, '(' | ')' | '"')
        || (ctx == Ctx::Range && matches!(c, '[' | ']'))
}

/// `IDENT ("." IDENT)*` with `IDENT = [A-Za-z_][A-Za-z0-9_-]*`.
pub(crate) fn is_field_name(s: &str) -> bool {
    s.split('.').all(|ident| {
        let mut chars = ident.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}
