//! The logs intake as the shipper sees it ([`Intake`], [`Reply`]), and
//! packing documents into requests within the intake's limits.

use async_trait::async_trait;

use crate::handler::HandlerError;

/// What the intake answered to one request.
#[derive(Debug)]
pub enum Reply {
    /// 2xx: every entry was taken.
    Accepted,
    /// 413: the request is too large; the body says why.
    TooLarge(String),
    /// 400: something in the request is malformed; the body says what.
    BadRequest(String),
    /// Anything else (transport, 401/403, 408, 429, 5xx, …), classified.
    Failed(HandlerError),
}

/// One logs intake: takes the uncompressed JSON array of one request.
#[async_trait]
pub trait Intake: Send + Sync {
    /// Posts one request.
    async fn post(&self, body: Vec<u8>) -> Reply;
}

/// Per-request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most entries.
    pub max_entries: usize,
    /// Most uncompressed body bytes.
    pub max_body_bytes: usize,
}

/// Groups document indices (in order) into requests within `limits`; a
/// request body is `[` + documents joined by `,` + `]`.
pub fn pack(sizes: &[(usize, usize)], limits: Limits) -> Vec<Vec<usize>> {
    let mut groups = Vec::new();
    let mut group: Vec<usize> = Vec::new();
    let mut bytes = 2;
    for &(index, size) in sizes {
        let full = group.len() >= limits.max_entries
            || bytes + size + usize::from(!group.is_empty()) > limits.max_body_bytes;
        if full && !group.is_empty() {
            groups.push(std::mem::take(&mut group));
            bytes = 2;
        }
        bytes += size + usize::from(!group.is_empty());
        group.push(index);
    }
    if !group.is_empty() {
        groups.push(group);
    }
    groups
}

/// The length of [`body`] for `group`, without building it.
pub fn body_len(docs: &[Vec<u8>], group: &[usize]) -> usize {
    let commas = group.len().saturating_sub(1);
    group.iter().map(|&i| docs[i].len()).sum::<usize>() + commas + 2
}

/// The JSON array of the documents in `group`.
pub fn body(docs: &[Vec<u8>], group: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body_len(docs, group));
    out.push(b'[');
    for (n, &i) in group.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&docs[i]);
    }
    out.push(b']');
    out
}
