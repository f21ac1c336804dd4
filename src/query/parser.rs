//! Recursive-descent parser for CQ (domain.md §C.2):
//!
//! ```text
//! query   := expr? EOF
//! or      := and ("OR" and)*
//! and     := unary (("AND")? unary)*
//! unary   := ("NOT" | "-") unary | primary
//! primary := "(" or ")" | term
//! term    := FIELD rhs | QUOTED | WORD
//! rhs     := "(" value (("OR"|"AND") value)* ")" | CMP? value
//!          | "[" value "TO" value "]" | "*"
//! ```
//!
//! Fields are resolved and values typed while parsing ([`super::fields`]),
//! so every error carries the position of the offending token.

use super::ast::{Bound, Expr, Field, GlobPart, Pattern, Rhs, Term};
use super::error::{QueryError, QueryErrorKind};
use super::fields::{self, FieldRef};
use super::lexer::{Tok, Token};
use super::{MAX_DEPTH, MAX_TERMS};

/// Parses a token stream (ending in [`Tok::Eof`]); `None` for an empty query.
pub(crate) fn parse(tokens: Vec<Token>) -> Result<Option<Expr>, QueryError> {
    let mut p = Parser {
        tokens,
        i: 0,
        depth: 0,
        terms: 0,
    };
    if p.peek() == &Tok::Eof {
        return Ok(None);
    }
    let expr = p.or()?;
    match p.peek() {
        Tok::Eof => Ok(Some(expr)),
        Tok::RParen => Err(p.error(QueryErrorKind::UnmatchedParen)),
        _ => Err(p.unexpected("an operator or the end of the query")),
    }
}

struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
    terms: usize,
}

/// A value token: its pattern, whether it was a plain (unescaped,
/// unquoted) word, and its position.
struct RawValue {
    pattern: Pattern,
    plain: bool,
    pos: usize,
}

impl Parser {
    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut xs = vec![self.and()?];
        while self.eat(&Tok::Or) {
            xs.push(self.and()?);
        }
        Ok(collapse(xs, Expr::Or))
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut xs = vec![self.unary()?];
        loop {
            if self.eat(&Tok::And) || self.starts_operand() {
                xs.push(self.unary()?);
            } else {
                return Ok(collapse(xs, Expr::And));
            }
        }
    }

    fn starts_operand(&self) -> bool {
        matches!(
            self.peek(),
            Tok::LParen | Tok::Not | Tok::Minus | Tok::Field(_) | Tok::Word { .. } | Tok::Quoted(_)
        )
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if !matches!(self.peek(), Tok::Not | Tok::Minus) {
            return self.primary();
        }
        self.nested(|p| {
            p.i += 1;
            Ok(Expr::Not(Box::new(p.unary()?)))
        })
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let token = self.tokens[self.i].clone();
        match token.tok {
            Tok::LParen => self.nested(|p| p.group(token.pos)),
            Tok::Field(name) => {
                self.i += 1;
                self.count_term(token.pos)?;
                self.term(fields::resolve(&name, token.pos)?)
            }
            Tok::Word { pattern, .. } => self.text(pattern, token.pos),
            Tok::Quoted(s) => self.text(Pattern::Literal(s), token.pos),
            Tok::RParen if self.depth == 0 => Err(self.error(QueryErrorKind::UnmatchedParen)),
            _ => Err(self.unexpected("a term, `(`, `NOT` or `-`")),
        }
    }

    /// `( or )`, the `(` at `open` not yet consumed.
    fn group(&mut self, open: usize) -> Result<Expr, QueryError> {
        self.i += 1;
        if self.peek() == &Tok::RParen {
            return Err(self.unexpected("a term inside `( )`"));
        }
        let expr = self.or()?;
        self.close_paren(open)?;
        Ok(expr)
    }

    fn text(&mut self, pattern: Pattern, pos: usize) -> Result<Expr, QueryError> {
        self.i += 1;
        self.count_term(pos)?;
        Ok(Expr::Text(pattern))
    }

    /// The right-hand side after `field:`.
    fn term(&mut self, f: FieldRef) -> Result<Expr, QueryError> {
        let token = self.tokens[self.i].clone();
        let rhs = match token.tok {
            Tok::LParen => {
                self.i += 1;
                return self.list(f, token.pos);
            }
            Tok::LBracket => {
                fields::check_ordered(&f, token.pos)?;
                self.i += 1;
                self.range(&f, token.pos)?
            }
            Tok::Cmp(op) => {
                fields::check_ordered(&f, token.pos)?;
                self.i += 1;
                Rhs::Compare(op, self.bound(&f, false)?)
            }
            _ => return self.single(f),
        };
        Ok(term(f.field, rhs))
    }

    /// `field:v`, with the special forms `field:*` and `assignee:none`.
    fn single(&mut self, f: FieldRef) -> Result<Expr, QueryError> {
        let v = self.value()?;
        if v.plain && is_star(&v.pattern) {
            return Ok(term(f.field, Rhs::Exists));
        }
        if v.plain && f.field == Field::Assignee && is_none(&v.pattern) {
            // Counts as the negation it stands for (`-assignee:*`).
            if self.depth >= MAX_DEPTH {
                return Err(QueryError::new(v.pos, QueryErrorKind::TooDeep(MAX_DEPTH)));
            }
            return Ok(Expr::Not(Box::new(term(f.field, Rhs::Exists))));
        }
        let value = fields::value(&f, v.pattern, v.pos)?;
        Ok(term(f.field, Rhs::Values(vec![vec![value]])))
    }

    /// `( value ((OR|AND) value)* )` after `field:`, the `(` at `open`
    /// consumed; AND binds tighter than OR. A single value means the same
    /// as without parentheses.
    fn list(&mut self, f: FieldRef, open: usize) -> Result<Expr, QueryError> {
        let start = self.i;
        let (mut alts, mut all) = (Vec::new(), Vec::new());
        loop {
            let v = self.value()?;
            if v.plain
                && (is_star(&v.pattern) || (f.field == Field::Assignee && is_none(&v.pattern)))
            {
                return self.list_special(f, v.pos, start, open);
            }
            if self.i > start + 1 {
                self.count_term(v.pos)?; // the first value was counted with the field
            }
            all.push(fields::value(&f, v.pattern, v.pos)?);
            match self.peek() {
                Tok::Or => alts.push(std::mem::take(&mut all)),
                Tok::And => {}
                _ => break,
            }
            self.i += 1;
        }
        alts.push(all);
        if !matches!(self.peek(), Tok::RParen | Tok::Eof) {
            return Err(self.unexpected("`OR`, `AND` or `)` in the value list"));
        }
        self.close_paren(open)?;
        Ok(term(f.field, Rhs::Values(alts)))
    }

    /// `field:(*)` or `assignee:(none)`: allowed alone, as the bare form.
    fn list_special(
        &mut self,
        f: FieldRef,
        pos: usize,
        start: usize,
        open: usize,
    ) -> Result<Expr, QueryError> {
        if self.i != start + 1 || self.peek() != &Tok::RParen {
            return Err(fields::unsupported(
                &f,
                "`*` or `none` combined with other values",
                pos,
            ));
        }
        self.i = start;
        let expr = self.single(f)?;
        self.close_paren(open)?;
        Ok(expr)
    }

    /// `[ a TO b ]` after `field:`, the `[` at `open` consumed.
    fn range(&mut self, f: &FieldRef, open: usize) -> Result<Rhs, QueryError> {
        let lo = self.bound(f, true)?;
        if !self.eat(&Tok::To) {
            return Err(self.unexpected("`TO`"));
        }
        let hi = self.bound(f, true)?;
        match self.peek() {
            Tok::RBracket => {
                self.i += 1;
                Ok(Rhs::Range(lo, hi))
            }
            Tok::Eof => Err(QueryError::new(
                open,
                QueryErrorKind::Unexpected {
                    expected: "`]` closing this range",
                    found: "the end of the query".into(),
                },
            )),
            _ => Err(self.unexpected("`]`")),
        }
    }

    /// A comparison or range bound; `*` is an open bound in ranges only.
    fn bound(&mut self, f: &FieldRef, in_range: bool) -> Result<Bound, QueryError> {
        let v = self.value()?;
        match v.pattern {
            Pattern::Literal(s) => fields::bound(f, &s, v.pos),
            ref p if in_range && v.plain && is_star(p) => match f.field {
                // P1 is the top of the urgency order but the start of the
                // written one: an open end would be ambiguous.
                Field::Priority => Err(fields::unsupported(
                    f,
                    "open range bounds (use `>=` or `<=`)",
                    v.pos,
                )),
                _ => Ok(Bound::Open),
            },
            Pattern::Glob(_) => Err(fields::unsupported(
                f,
                "wildcards in comparisons and ranges",
                v.pos,
            )),
        }
    }

    /// A bareword or quoted value.
    fn value(&mut self) -> Result<RawValue, QueryError> {
        let Token { tok, pos } = self.tokens[self.i].clone();
        let (pattern, plain) = match tok {
            Tok::Word { pattern, plain } => (pattern, plain),
            Tok::Quoted(s) => (Pattern::Literal(s), false),
            _ => return Err(self.unexpected("a value")),
        };
        self.i += 1;
        Ok(RawValue {
            pattern,
            plain,
            pos,
        })
    }

    fn close_paren(&mut self, open: usize) -> Result<(), QueryError> {
        match self.peek() {
            Tok::RParen => {
                self.i += 1;
                Ok(())
            }
            Tok::Eof => Err(QueryError::new(open, QueryErrorKind::UnclosedParen)),
            _ => Err(self.unexpected("`)`")),
        }
    }

    /// Runs `inner` one nesting level deeper, enforcing [`MAX_DEPTH`].
    fn nested(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<Expr, QueryError>,
    ) -> Result<Expr, QueryError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(QueryErrorKind::TooDeep(MAX_DEPTH)));
        }
        self.depth += 1;
        let result = inner(self);
        self.depth -= 1;
        result
    }

    fn count_term(&mut self, pos: usize) -> Result<(), QueryError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(QueryError::new(
                pos,
                QueryErrorKind::TooManyTerms(MAX_TERMS),
            ));
        }
        Ok(())
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        let hit = self.peek() == tok;
        if hit {
            self.i += 1;
        }
        hit
    }

    fn peek(&self) -> &Tok {
        &self.tokens[self.i].tok
    }

    fn error(&self, kind: QueryErrorKind) -> QueryError {
        QueryError::new(self.tokens[self.i].pos, kind)
    }

    fn unexpected(&self, expected: &'static str) -> QueryError {
        self.error(QueryErrorKind::Unexpected {
            expected,
            found: self.peek().describe(),
        })
    }
}

fn term(field: Field, rhs: Rhs) -> Expr {
    Expr::Term(Term { field, rhs })
}

/// One expression stays itself; several are combined with `make`.
fn collapse(mut xs: Vec<Expr>, make: fn(Vec<Expr>) -> Expr) -> Expr {
    if xs.len() == 1 {
        xs.remove(0)
    } else {
        make(xs)
    }
}

fn is_star(p: &Pattern) -> bool {
    matches!(p, Pattern::Glob(parts) if parts.as_slice() == [GlobPart::AnyRun])
}

fn is_none(p: &Pattern) -> bool {
    matches!(p, Pattern::Literal(s) if s.eq_ignore_ascii_case("none"))
}
