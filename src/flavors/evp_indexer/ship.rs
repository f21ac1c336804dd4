//! Shipping documents to the logs intake: one outcome per document. No
//! sleeping and no retrying the same request: a 413 splits the request and
//! teaches a smaller size; a 400 is bisected down to the documents it is
//! about, and what it taught is kept ([`Memory`]) so a retry goes on where an
//! interruption (429, 503, a lost connection) left the descent, never
//! sending a refused set whole again; documents the intake never judged go
//! back deferred (no attempt counted); only the offending documents are
//! discarded.

use std::collections::BTreeMap;
use std::time::Instant;

use super::client::{body, body_len, pack, Intake, Limits, Reply};
use super::memory::Memory;
use crate::handler::{ErrorClass, HandleResp, HandlerError};

/// Why the rest of a batch is not sent: a failure about the intake (or the
/// time budget), not about a document.
struct Stop(HandlerError);

impl Stop {
    /// The outcome of every document this stop leaves unsent.
    fn resp(&self) -> HandleResp {
        HandleResp::classify(Err(self.0.clone()))
    }
}

/// Ships serialized documents (`Err` = no document, discarded as is) of the
/// events `ids`; one outcome per entry, in order. No request starts after
/// `deadline`, except the first, so the call ends within the handler timeout.
pub async fn ship(
    intake: &dyn Intake,
    ids: &[&str],
    docs: Vec<Result<Vec<u8>, HandlerError>>,
    limits: Limits,
    memory: &Memory,
    deadline: Instant,
) -> Vec<HandleResp> {
    // A document over the configured size is refused unsent; requests are
    // packed to the size a 413 taught, if smaller (a larger document goes alone).
    let Prepared { out, bodies, sizes } = prepare(docs, limits);
    let mut run = Run {
        out,
        todo: plan(ids, &sizes, memory.limits(limits), memory),
        stop: None,
        sent: 0,
        ids,
        memory,
    };
    while let Some(group) = run.todo.pop() {
        if run.stop.is_none() && run.sent > 0 && Instant::now() >= deadline {
            let msg = format!("send budget spent after {} requests; not sent", run.sent);
            run.stop = Some(Stop(HandlerError::deferred(msg)));
        }
        if let Some(stop) = &run.stop {
            let resp = || stop.resp();
            group.iter().for_each(|&i| run.out[i] = Some(resp()));
            continue;
        }
        if let Some(smaller) = repacked(&group, &bodies, memory.limits(limits)) {
            run.todo.extend(smaller.into_iter().rev());
            continue;
        }
        let request = body(&bodies, &group);
        run.sent += 1;
        let bytes = request.len();
        let reply = intake.post(request).await;
        run.apply(group, bytes, reply);
    }
    tracing::debug!(
        documents = run.out.len(),
        requests = run.sent,
        "batch shipped"
    );
    (run.out.into_iter())
        .map(|r| r.unwrap_or_else(|| HandleResp::Retry(HandlerError::transient("not settled"))))
        .collect()
}

/// The requests to send, the next one last: documents under suspicion from
/// an earlier 400 go apart, in requests no larger than what they may be in;
/// the rest are packed as usual.
fn plan(
    ids: &[&str],
    sizes: &[(usize, usize)],
    limits: Limits,
    memory: &Memory,
) -> Vec<Vec<usize>> {
    let mut clean = Vec::with_capacity(sizes.len());
    let mut suspects: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for &(i, size) in sizes {
        match memory.suspect(ids[i]) {
            Some(most) => suspects.entry(most).or_default().push((i, size)),
            None => clean.push((i, size)),
        }
    }
    let mut groups = pack(&clean, limits);
    for (most, docs) in suspects {
        let max_entries = most.min(limits.max_entries).max(1);
        groups.extend(pack(
            &docs,
            Limits {
                max_entries,
                ..limits
            },
        ));
    }
    groups.reverse();
    groups
}

/// A request packed before a 413 taught a smaller size (by this call or a
/// batch running beside it), packed again under it; `None` when it fits, or
/// cannot be split.
fn repacked(group: &[usize], bodies: &[Vec<u8>], now: Limits) -> Option<Vec<Vec<usize>>> {
    if group.len() < 2 || body_len(bodies, group) <= now.max_body_bytes {
        return None;
    }
    let sizes: Vec<(usize, usize)> = group.iter().map(|&i| (i, bodies[i].len())).collect();
    Some(pack(&sizes, now)).filter(|groups| groups.len() > 1)
}

/// The state of one [`ship`] call.
struct Run<'a> {
    out: Vec<Option<HandleResp>>,
    /// Requests still to send, the next one last.
    todo: Vec<Vec<usize>>,
    stop: Option<Stop>,
    sent: usize,
    ids: &'a [&'a str],
    memory: &'a Memory,
}

impl Run<'_> {
    fn mark(&mut self, group: &[usize], resp: impl Fn() -> HandleResp) {
        group.iter().for_each(|&i| self.out[i] = Some(resp()));
    }

    fn ids(&self, group: &[usize]) -> Vec<&str> {
        group.iter().map(|&i| self.ids[i]).collect()
    }

    /// Halves a request whose documents are the problem: the first half next.
    fn split(&mut self, group: &[usize]) {
        let (first, second) = group.split_at(group.len() / 2);
        self.todo.push(second.to_vec());
        self.todo.push(first.to_vec());
    }

    fn apply(&mut self, group: Vec<usize>, bytes: usize, reply: Reply) {
        match reply {
            Reply::Accepted => {
                self.memory.settled(&self.ids(&group));
                self.mark(&group, || HandleResp::Success);
            }
            Reply::TooLarge(why) | Reply::BadRequest(why) if group.len() == 1 => {
                self.memory.settled(&self.ids(&group));
                let why = format!("intake refused the document alone: {why}");
                self.mark(&group, || {
                    HandleResp::Discard(HandlerError::permanent(&why))
                });
            }
            Reply::TooLarge(_) => {
                self.memory.too_large(bytes);
                self.split(&group);
            }
            Reply::BadRequest(_) => {
                self.memory.refused(&self.ids(&group));
                self.split(&group);
            }
            Reply::Failed(err) => {
                let rest = match err.class {
                    ErrorClass::Permanent | ErrorClass::Invalid => err.clone(),
                    _ => {
                        let msg = format!("not sent: an earlier request failed: {}", err.message);
                        let deferred = HandlerError::deferred(msg);
                        match err.retry_after {
                            Some(after) => deferred.with_retry_after(after),
                            None => deferred,
                        }
                    }
                };
                let stop = Stop(err);
                self.mark(&group, || stop.resp());
                self.stop = Some(Stop(rest));
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

#[cfg(test)]
#[path = "ship_tests.rs"]
mod tests;
