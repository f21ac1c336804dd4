//! Shipping documents to the logs intake: packing into requests within the
//! intake's limits, splitting on 413, bisecting a 400 down to the documents it
//! is about, and one outcome per document. No sleeping and no retrying the
//! same request: every split or bisect step is a new, smaller request, and
//! failures go back to the runtime, which retries only the failed events.

use std::time::Instant;

use async_trait::async_trait;

use crate::handler::{ErrorClass, HandleResp, HandlerError};

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

/// The JSON array of the documents in `group`.
pub fn body(docs: &[Vec<u8>], group: &[usize]) -> Vec<u8> {
    let len = group.iter().map(|&i| docs[i].len() + 1).sum::<usize>() + 2;
    let mut out = Vec::with_capacity(len);
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

/// Why the rest of a batch is not sent: the first failure that is about the
/// intake (or the time budget), not about a document.
struct Stop {
    class: ErrorClass,
    retry_after: Option<std::time::Duration>,
    message: String,
}

impl Stop {
    /// The outcome of every document this stop leaves unsent.
    fn resp_fn(&self) -> impl Fn() -> HandleResp {
        let (class, retry_after, message) = (self.class, self.retry_after, self.message.clone());
        move || {
            HandleResp::classify(Err(HandlerError {
                class,
                retry_after,
                message: message.clone(),
            }))
        }
    }
}

impl From<HandlerError> for Stop {
    fn from(e: HandlerError) -> Self {
        Self {
            class: e.class,
            retry_after: e.retry_after,
            message: e.message,
        }
    }
}

/// Ships serialized documents (`Err` = no document, discarded as is); one
/// outcome per entry, in order. No request starts after `deadline`, except
/// the first, so the call ends within the handler timeout.
pub async fn ship(
    intake: &dyn Intake,
    docs: Vec<Result<Vec<u8>, HandlerError>>,
    limits: Limits,
    deadline: Instant,
) -> Vec<HandleResp> {
    let Prepared { out, bodies, sizes } = prepare(docs, limits);
    let mut run = Run {
        out,
        todo: pack(&sizes, limits).into_iter().rev().collect(),
        stop: None,
        sent: 0,
    };
    while let Some(group) = run.todo.pop() {
        if run.stop.is_none() && run.sent > 0 && Instant::now() >= deadline {
            let msg = format!(
                "send budget spent after {} requests; the rest goes again",
                run.sent
            );
            run.stop = Some(Stop::from(HandlerError::transient(msg)));
        }
        if let Some(stop) = &run.stop {
            let resp = stop.resp_fn();
            run.mark(&group, resp);
            continue;
        }
        run.sent += 1;
        let reply = intake.post(body(&bodies, &group)).await;
        run.apply(group, settle(reply));
    }
    tracing::debug!(
        documents = run.out.len(),
        requests = run.sent,
        "batch shipped"
    );
    run.out
        .into_iter()
        .map(|r| r.unwrap_or_else(|| HandleResp::Retry(HandlerError::transient("not settled"))))
        .collect()
}

/// The state of one [`ship`] call.
struct Run {
    out: Vec<Option<HandleResp>>,
    /// Requests still to send, the next one last.
    todo: Vec<Vec<usize>>,
    stop: Option<Stop>,
    sent: usize,
}

impl Run {
    fn mark(&mut self, group: &[usize], resp: impl Fn() -> HandleResp) {
        group.iter().for_each(|&i| self.out[i] = Some(resp()));
    }

    fn apply(&mut self, group: Vec<usize>, settled: Settled) {
        match settled {
            Settled::Success => self.mark(&group, || HandleResp::Success),
            Settled::Discard(why) if group.len() == 1 => self.mark(&group, || {
                HandleResp::Discard(HandlerError::permanent(&why))
            }),
            Settled::Discard(_) => {
                let (first, second) = group.split_at(group.len() / 2);
                self.todo.push(second.to_vec());
                self.todo.push(first.to_vec());
            }
            Settled::Stop(err) => {
                let stop = Stop::from(err);
                self.mark(&group, stop.resp_fn());
                self.stop = Some(stop);
            }
        }
    }
}

/// Outcomes known before sending, the documents, and (index, size) of the sendable ones.
struct Prepared {
    out: Vec<Option<HandleResp>>,
    bodies: Vec<Vec<u8>>,
    sizes: Vec<(usize, usize)>,
}

/// Documents that could not be built, or that no request could hold, are
/// discarded without being sent.
fn prepare(docs: Vec<Result<Vec<u8>, HandlerError>>, limits: Limits) -> Prepared {
    let mut p = Prepared {
        out: docs.iter().map(|_| None).collect(),
        bodies: vec![Vec::new(); docs.len()],
        sizes: Vec::with_capacity(docs.len()),
    };
    for (i, doc) in docs.into_iter().enumerate() {
        match doc {
            Err(err) => p.out[i] = Some(HandleResp::Discard(err)),
            Ok(d) if d.len() + 2 > limits.max_body_bytes => {
                let msg = format!("document of {} bytes is over the request limit", d.len());
                p.out[i] = Some(HandleResp::Discard(HandlerError::permanent(msg)));
            }
            Ok(d) => {
                p.sizes.push((i, d.len()));
                p.bodies[i] = d;
            }
        }
    }
    p
}

/// What a reply means for the documents of its request.
enum Settled {
    /// All taken.
    Success,
    /// The documents are the problem: discarded when alone, else halved.
    Discard(String),
    /// The intake (not a document) failed: this and every later request.
    Stop(HandlerError),
}

fn settle(reply: Reply) -> Settled {
    match reply {
        Reply::Accepted => Settled::Success,
        Reply::TooLarge(why) => Settled::Discard(format!("intake answered 413: {why}")),
        Reply::BadRequest(why) => {
            Settled::Discard(format!("intake rejected the document (400): {why}"))
        }
        Reply::Failed(err) => Settled::Stop(err),
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
