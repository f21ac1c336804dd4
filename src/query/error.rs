//! [`QueryError`]: why a query string does not compile, and where.

/// A query that does not compile: the 0-based character `position` in the
/// query text where the problem was found, and the problem itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query at position {position}: {kind}")]
pub struct QueryError {
    /// 0-based offset, in characters (not bytes), into the query text.
    pub position: usize,
    /// What is wrong.
    pub kind: QueryErrorKind,
}

/// The problems a query can have. Messages are written for the person who
/// typed the query (they surface in config validation errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryErrorKind {
    /// The query text exceeds [`MAX_QUERY_BYTES`](super::MAX_QUERY_BYTES).
    #[error("the query is {len} bytes long; the limit is {max} bytes")]
    TooLong {
        /// Length of the query text in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The canonical form of the query (quoting, spacing and names
    /// normalised) exceeds [`MAX_QUERY_BYTES`](super::MAX_QUERY_BYTES).
    #[error("the query's canonical form is {len} bytes long; the limit is {max} bytes")]
    CanonicalTooLong {
        /// Length of the canonical form in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Groups and negations nest deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    #[error("groups and negations nest deeper than {0} levels")]
    TooDeep(usize),
    /// More terms than [`MAX_TERMS`](super::MAX_TERMS).
    #[error("the query has more than {0} terms")]
    TooManyTerms(usize),
    /// A `"` without its closing `"`.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// A `\` at the very end of the query.
    #[error("`\\` at the end of the query escapes nothing")]
    DanglingEscape,
    /// A `(` without its `)`.
    #[error("unbalanced parentheses: `(` is never closed")]
    UnclosedParen,
    /// A `)` without its `(`.
    #[error("unbalanced parentheses: `)` has no matching `(`")]
    UnmatchedParen,
    /// The token found cannot appear here.
    #[error("expected {expected}, found {found}")]
    Unexpected {
        /// What the grammar allows at this point.
        expected: &'static str,
        /// Description of what is there instead.
        found: String,
    },
    /// The text before `:` is not a field name.
    #[error("`{0}` is not a field name (letters, digits, `_`, `-`, dot-separated; escape `:` as `\\:` in free text)")]
    InvalidField(String),
    /// A built-in field or alias written with other capitalisation.
    #[error("field names are case-sensitive: `{written}` should be `{canonical}`")]
    FieldCase {
        /// The field as written.
        written: String,
        /// The built-in name it resembles.
        canonical: &'static str,
    },
    /// The field exists but cannot be used this way (e.g. `status:>open`).
    #[error("field `{field}` does not support {what}")]
    Unsupported {
        /// The field as written.
        field: String,
        /// The construct it does not support.
        what: &'static str,
    },
    /// The value is not valid for the field (e.g. `priority:P9`).
    #[error("`{value}` is not a valid value for `{field}`: {expected}")]
    InvalidValue {
        /// The field as written.
        field: String,
        /// The value as parsed.
        value: String,
        /// What the field accepts.
        expected: &'static str,
    },
}

impl QueryError {
    /// An error at character `position`.
    pub(crate) fn new(position: usize, kind: QueryErrorKind) -> Self {
        Self { position, kind }
    }
}
