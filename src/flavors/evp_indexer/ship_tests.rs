use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::*;

type Answer = Box<dyn Fn(&[Value], usize) -> Reply + Send + Sync>;

/// Answers each request from a script; keeps every request body.
struct Scripted {
    requests: Mutex<Vec<Vec<Value>>>,
    answer: Answer,
}

impl Scripted {
    fn new(answer: impl Fn(&[Value], usize) -> Reply + Send + Sync + 'static) -> Self {
        Self {
            requests: Mutex::new(Vec::new()),
            answer: Box::new(answer),
        }
    }

    /// How often each id was in an accepted request.
    fn accepted(&self, accept: impl Fn(&[Value]) -> bool) -> HashMap<u64, usize> {
        let mut seen = HashMap::new();
        for req in self.requests.lock().unwrap().iter().filter(|r| accept(r)) {
            for d in req {
                *seen.entry(d["id"].as_u64().unwrap()).or_default() += 1;
            }
        }
        seen
    }

    fn sizes(&self) -> Vec<usize> {
        self.requests.lock().unwrap().iter().map(Vec::len).collect()
    }
}

#[async_trait]
impl Intake for Scripted {
    async fn post(&self, body: Vec<u8>) -> Reply {
        let docs: Vec<Value> = serde_json::from_slice(&body).expect("a JSON array");
        let n = {
            let mut r = self.requests.lock().unwrap();
            r.push(docs.clone());
            r.len()
        };
        (self.answer)(&docs, n)
    }
}

const LIMITS: Limits = Limits {
    max_entries: 1000,
    max_body_bytes: 5_000_000,
};

fn docs(n: u64) -> Vec<Result<Vec<u8>, HandlerError>> {
    (0..n)
        .map(|i| Ok(serde_json::to_vec(&json!({"id": i, "message": "m"})).unwrap()))
        .collect()
}

/// Ships `docs` (ids "0", "1", …) with nothing learned yet.
async fn go(
    intake: &dyn Intake,
    docs: Vec<Result<Vec<u8>, HandlerError>>,
    limits: Limits,
    deadline: Instant,
) -> Vec<HandleResp> {
    let ids: Vec<String> = (0..docs.len()).map(|i| i.to_string()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    ship(intake, &ids, docs, limits, &Memory::new(limits), deadline).await
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

fn labels(out: &[HandleResp]) -> Vec<&'static str> {
    out.iter().map(HandleResp::label).collect()
}

fn has_poison(docs: &[Value], poison: &[u64]) -> bool {
    docs.iter()
        .any(|d| poison.contains(&d["id"].as_u64().unwrap()))
}

#[test]
fn packing_keeps_order_and_both_limits() {
    let sizes: Vec<(usize, usize)> = (0..2500).map(|i| (i, 10)).collect();
    let groups = pack(&sizes, LIMITS);
    assert_eq!(
        groups.iter().map(Vec::len).collect::<Vec<_>>(),
        [1000, 1000, 500]
    );
    assert_eq!(groups.concat(), (0..2500).collect::<Vec<_>>());

    let limits = Limits {
        max_entries: 1000,
        max_body_bytes: 1000,
    };
    let sizes: Vec<(usize, usize)> = (0..50).map(|i| (i, 90 + i % 7)).collect();
    let docs: Vec<Vec<u8>> = sizes.iter().map(|&(_, s)| vec![b'1'; s]).collect();
    let groups = pack(&sizes, limits);
    assert_eq!(groups.concat(), (0..50).collect::<Vec<_>>());
    for (n, g) in groups.iter().enumerate() {
        assert!(
            body(&docs, g).len() <= 1000,
            "group {n} over the byte limit"
        );
        if let Some(next) = groups.get(n + 1) {
            let mut more = g.clone();
            more.push(next[0]);
            assert!(
                body(&docs, &more).len() > 1000,
                "group {n} closed too early"
            );
        }
    }

    // Brackets and commas count: ten 99-byte documents make a 1001-byte body.
    let sizes: Vec<(usize, usize)> = (0..30).map(|i| (i, 99)).collect();
    let groups = pack(&sizes, limits);
    assert!(
        groups.iter().all(|g| g.len() == 9 || g.len() == 3),
        "{groups:?}"
    );
}

#[tokio::test]
async fn a_413_splits_in_halves_until_the_intake_takes_them() {
    let intake = Scripted::new(|d, _| {
        if d.len() > 100 {
            Reply::TooLarge("payload too large".into())
        } else {
            Reply::Accepted
        }
    });
    let out = go(&intake, docs(1000), LIMITS, later()).await;
    assert!(
        out.iter().all(|r| matches!(r, HandleResp::Success)),
        "{:?}",
        labels(&out)
    );
    let seen = intake.accepted(|r| r.len() <= 100);
    assert_eq!(seen.len(), 1000);
    assert!(
        seen.values().all(|&n| n == 1),
        "a document was accepted twice"
    );
    assert_eq!(intake.sizes()[..3], [1000, 500, 250]);
}

#[tokio::test]
async fn a_400_is_bisected_to_the_poison_documents_alone() {
    let poison = [3u64, 700, 701];
    let intake = Scripted::new(move |d, _| {
        if has_poison(d, &poison) {
            Reply::BadRequest("malformed".into())
        } else {
            Reply::Accepted
        }
    });
    let out = go(&intake, docs(1000), LIMITS, later()).await;
    for (i, r) in out.iter().enumerate() {
        let expect = if poison.contains(&(i as u64)) {
            "discard"
        } else {
            "success"
        };
        assert_eq!(r.label(), expect, "document {i}");
    }
    let seen = intake.accepted(|r| !has_poison(r, &poison));
    assert_eq!(seen.len(), 997);
    assert!(seen.values().all(|&n| n == 1));
    let requests = intake.sizes().len();
    assert!(
        requests <= 3 * 2 * 10 + 1,
        "{requests} requests to find 3 documents"
    );
}

#[tokio::test]
async fn a_429_stops_the_batch_and_asks_for_a_retry_after_the_hint() {
    let intake = Scripted::new(|_, n| match n {
        1 => Reply::Accepted,
        _ => Reply::Failed(
            HandlerError::deferred("HTTP 429").with_retry_after(Duration::from_secs(2)),
        ),
    });
    let out = go(&intake, docs(2500), LIMITS, later()).await;
    assert_eq!(intake.sizes(), [1000, 1000], "nothing sent after the 429");
    assert!(out[..1000].iter().all(|r| matches!(r, HandleResp::Success)));
    for r in &out[1000..] {
        match r {
            HandleResp::Retry(e) => {
                assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
                assert_eq!(
                    e.class,
                    ErrorClass::Deferred,
                    "never judged: no attempt charged"
                );
            }
            other => panic!("expected a retry, got {}", other.label()),
        }
    }
}

#[tokio::test]
async fn a_500_charges_its_own_request_and_defers_the_unsent_rest() {
    let intake = Scripted::new(|_, _| Reply::Failed(HandlerError::transient("HTTP 500")));
    let out = go(&intake, docs(1500), LIMITS, later()).await;
    let class = |r: &HandleResp| match r {
        HandleResp::Retry(e) => e.class,
        other => panic!("expected a retry, got {}", other.label()),
    };
    assert!(out[..1000]
        .iter()
        .all(|r| class(r) == ErrorClass::Transient));
    assert!(out[1000..].iter().all(|r| class(r) == ErrorClass::Deferred));
}

/// Runs `docs` as the runtime would: what comes back as a retry goes again
/// with the same memory, until every document is settled; returns the final
/// outcome labels by document.
async fn until_settled(
    intake: &Scripted,
    docs: Vec<Vec<u8>>,
    memory: &Memory,
) -> Vec<&'static str> {
    let ids: Vec<String> = (0..docs.len()).map(|i| i.to_string()).collect();
    let mut settled: Vec<Option<&'static str>> = vec![None; docs.len()];
    for _ in 0..200 {
        let open: Vec<usize> = (0..docs.len()).filter(|&i| settled[i].is_none()).collect();
        if open.is_empty() {
            break;
        }
        let batch_ids: Vec<&str> = open.iter().map(|&i| ids[i].as_str()).collect();
        let batch = open.iter().map(|&i| Ok(docs[i].clone())).collect();
        let out = ship(intake, &batch_ids, batch, LIMITS, memory, later()).await;
        for (&i, resp) in open.iter().zip(&out) {
            if !matches!(resp, HandleResp::Retry(_)) {
                settled[i] = Some(resp.label());
            }
        }
    }
    settled.into_iter().map(|s| s.expect("settled")).collect()
}

#[tokio::test]
async fn bisection_goes_on_across_429s_and_never_resends_a_refused_set() {
    let poison = [137, 611, 612];
    let refused: Mutex<Vec<Vec<u64>>> = Mutex::default();
    let seen = std::sync::Arc::new(refused);
    let log = seen.clone();
    let taken: std::sync::Arc<Mutex<HashMap<u64, usize>>> = Default::default();
    let took = taken.clone();
    // Every third request is a 429, before the intake looks at it.
    let intake = Scripted::new(move |docs, n| {
        let ids: Vec<u64> = docs.iter().map(|d| d["id"].as_u64().unwrap()).collect();
        if n % 3 == 0 {
            return Reply::Failed(HandlerError::deferred("HTTP 429"));
        }
        let mut log = log.lock().unwrap();
        assert!(
            !log.contains(&ids),
            "a refused set was sent whole again ({} docs)",
            ids.len()
        );
        if has_poison(docs, &poison) {
            log.push(ids);
            return Reply::BadRequest("poison".into());
        }
        for id in ids {
            *took.lock().unwrap().entry(id).or_default() += 1;
        }
        Reply::Accepted
    });
    let docs: Vec<Vec<u8>> = docs(3000).into_iter().map(Result::unwrap).collect();
    let memory = Memory::new(LIMITS);
    let out = until_settled(&intake, docs, &memory).await;
    for (i, label) in out.iter().enumerate() {
        let expected = if poison.contains(&(i as u64)) {
            "discard"
        } else {
            "success"
        };
        assert_eq!(*label, expected, "document {i}");
    }
    let taken = taken.lock().unwrap();
    assert_eq!(taken.len(), 2997);
    assert!(
        taken.values().all(|&n| n == 1),
        "a document was taken twice"
    );
    assert!(
        intake.sizes().len() < 150,
        "{} requests",
        intake.sizes().len()
    );
    assert_eq!(
        memory.suspect("611"),
        None,
        "settled documents are forgotten"
    );
}

#[tokio::test]
async fn a_413_teaches_the_size_of_later_requests() {
    // The intake takes at most 200 kB, whatever it documents.
    let intake = Scripted::new(|docs, _| {
        let bytes: usize = docs.iter().map(|d| d.to_string().len() + 1).sum();
        match bytes > 200_000 {
            true => Reply::TooLarge("payload too large".into()),
            false => Reply::Accepted,
        }
    });
    let big = |n: u64| -> Vec<Result<Vec<u8>, HandlerError>> {
        (0..n)
            .map(|i| Ok(serde_json::to_vec(&json!({"id": i, "message": "x".repeat(900)})).unwrap()))
            .collect()
    };
    let memory = Memory::new(LIMITS);
    let ids: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let first = ship(&intake, &ids, big(1000), LIMITS, &memory, later()).await;
    assert!(first.iter().all(|r| matches!(r, HandleResp::Success)));
    let refused_first = intake.requests.lock().unwrap().len();
    let second = ship(&intake, &ids, big(1000), LIMITS, &memory, later()).await;
    assert!(second.iter().all(|r| matches!(r, HandleResp::Success)));
    let sizes = intake.sizes();
    let later_requests = &sizes[refused_first..];
    let over: Vec<usize> = (intake.requests.lock().unwrap()[refused_first..].iter())
        .map(|r| r.iter().map(|d| d.to_string().len() + 1).sum::<usize>())
        .filter(|&bytes| bytes > 200_000)
        .collect();
    assert!(over.is_empty(), "413 again after it was learned: {over:?}");
    assert!(later_requests.len() <= 12, "{later_requests:?}");
}

#[tokio::test]
async fn requests_planned_before_a_413_are_packed_again_under_what_it_taught() {
    // Three requests of ~1,000 documents are planned; the intake takes at
    // most 200 kB. The first descends 910 → 455 → 227 kB (three 413s); the
    // two planned after it go under the learned size, never over it.
    let limit = 200_000;
    let intake = Scripted::new(move |docs, _| {
        let bytes: usize = docs.iter().map(|d| d.to_string().len() + 1).sum();
        match bytes > limit {
            true => Reply::TooLarge("payload too large".into()),
            false => Reply::Accepted,
        }
    });
    let docs: Vec<Result<Vec<u8>, HandlerError>> = (0..3000)
        .map(|i| Ok(serde_json::to_vec(&json!({"id": i, "message": "x".repeat(900)})).unwrap()))
        .collect();
    let memory = Memory::new(LIMITS);
    let ids: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let out = ship(&intake, &ids, docs, LIMITS, &memory, later()).await;
    assert!(out.iter().all(|r| matches!(r, HandleResp::Success)));
    let too_large = (intake.requests.lock().unwrap().iter())
        .map(|r| r.iter().map(|d| d.to_string().len() + 1).sum::<usize>())
        .filter(|&bytes| bytes > limit)
        .count();
    assert_eq!(too_large, 3, "413s: only the first request's descent");
}

#[tokio::test]
async fn rejected_credentials_discard_everything_after_one_request() {
    let intake = Scripted::new(|_, _| Reply::Failed(HandlerError::permanent("HTTP 403")));
    let out = go(&intake, docs(1500), LIMITS, later()).await;
    assert_eq!(intake.sizes().len(), 1);
    assert!(out
        .iter()
        .all(|r| matches!(r, HandleResp::Discard(e) if e.message == "HTTP 403")));
}

#[tokio::test]
async fn unusable_and_oversized_documents_are_discarded_unsent_in_place() {
    let intake = Scripted::new(|_, _| Reply::Accepted);
    let mut input = docs(4);
    input[1] = Err(HandlerError::invalid("no payload"));
    input[2] = Ok(vec![b'1'; 2000]);
    let limits = Limits {
        max_entries: 10,
        max_body_bytes: 1024,
    };
    let out = go(&intake, input, limits, later()).await;
    assert_eq!(labels(&out), ["success", "discard", "discard", "success"]);
    assert_eq!(intake.sizes(), [2]);
}

#[tokio::test]
async fn a_single_document_answered_413_is_discarded() {
    let intake = Scripted::new(|_, _| Reply::TooLarge("too large".into()));
    let out = go(&intake, docs(1), LIMITS, later()).await;
    assert_eq!(labels(&out), ["discard"]);
}

#[tokio::test]
async fn past_the_deadline_only_the_first_request_goes() {
    let intake = Scripted::new(|_, _| Reply::Accepted);
    let out = go(&intake, docs(2500), LIMITS, Instant::now()).await;
    assert_eq!(intake.sizes(), [1000]);
    assert!(out[..1000].iter().all(|r| matches!(r, HandleResp::Success)));
    assert!(out[1000..]
        .iter()
        .all(|r| matches!(r, HandleResp::Retry(_))));
}
