//! The harness every SaaS fake is built on: an HTTP/1.1 server on a free
//! port of 127.0.0.1, a log of every exchange, and a queue of faults served
//! instead of (or around) the vendor's own answer.
//!
//! A fake supplies only the vendor's behaviour ([`Vendor`]): its answer to a
//! request, and how the vendor spells an error status (its envelope, its
//! rate-limit headers). The harness supplies the rest:
//!
//! - [`Fault::Status`] / [`Fault::RateLimited`]: the request is not looked
//!   at; the vendor's error answer is sent instead.
//! - [`Fault::Delay`]: the request waits, then is answered normally.
//! - [`Fault::Drop`]: the connection closes with no answer; nothing applied.
//! - [`Fault::Lost`]: the request is applied, then its answer is lost (a
//!   gateway status such as 504, or a closed connection).
//!
//! Faults are taken in order by the first request they match (any request, or
//! only those on a route: a path suffix, with or without a method). The server stops when the
//! [`FakeServer`] is dropped: the listener and every open connection close.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri};
use axum::response::Response;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use tokio::task::{JoinHandle, JoinSet};

#[cfg(test)]
mod tests;

/// A request as it reached the fake.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Incoming {
    /// A header's value as text ("" when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        (self.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// One request and what came of it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Incoming,
    /// The status the client got; `None` when the connection was closed instead.
    pub status: Option<u16>,
    /// When the request arrived.
    pub at: Instant,
    /// The fault served, if any.
    pub fault: Option<Fault>,
}

impl Exchange {
    /// Path and query.
    pub fn path(&self) -> String {
        self.request.uri.to_string()
    }
}

/// The vendor-specific part of a fake.
pub trait Vendor: Send + Sync + 'static {
    /// The vendor's answer to a request (state changes happen here).
    fn answer(&self, request: &Incoming) -> Response;
    /// The vendor's error answer for an injected status: its envelope, and
    /// for 429/503 with `retry_after` its rate-limit headers.
    fn refuse(&self, status: StatusCode, retry_after: Option<u64>) -> Response;
}

/// A failure served to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This status (in the vendor's envelope), the request not looked at.
    Status(u16),
    /// 429 with the vendor's rate-limit headers for this many seconds.
    RateLimited(u64),
    /// Answered normally after this long.
    Delay(Duration),
    /// The connection closes without an answer; nothing is applied.
    Drop,
    /// Applied, then the answer is lost: this status instead, or a closed
    /// connection (`None`).
    Lost(Option<u16>),
}

/// A fault waiting for the first request it matches.
#[derive(Debug, Clone)]
struct Rule {
    /// `None`: any request.
    route: Option<Route>,
    fault: Fault,
}

/// Requests whose path (without query) ends with `suffix`, of one method or any.
#[derive(Debug, Clone)]
struct Route {
    method: Option<Method>,
    suffix: String,
}

impl Route {
    /// `"POST /comment"` or `"/comment"`.
    fn parse(text: &str) -> Self {
        match text.split_once(' ') {
            Some((method, suffix)) => Self {
                method: Some(method.parse().expect("an HTTP method")),
                suffix: suffix.to_string(),
            },
            None => Self {
                method: None,
                suffix: text.to_string(),
            },
        }
    }

    fn matches(&self, method: &Method, uri: &Uri) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && uri.path().ends_with(&self.suffix)
    }
}

struct Core<V> {
    vendor: V,
    faults: Mutex<VecDeque<Rule>>,
    /// Every n-th request (counted from the start) gets this fault.
    every: Mutex<Option<(usize, Fault)>>,
    log: Mutex<Vec<Exchange>>,
}

/// A running fake; stops when dropped.
pub struct FakeServer<V: Vendor> {
    addr: SocketAddr,
    core: Arc<Core<V>>,
    task: JoinHandle<()>,
}

impl<V: Vendor> Drop for FakeServer<V> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<V: Vendor> FakeServer<V> {
    /// Serves `vendor` on a free port of 127.0.0.1.
    pub async fn start(vendor: V) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local address");
        let core = Arc::new(Core {
            vendor,
            faults: Mutex::default(),
            every: Mutex::default(),
            log: Mutex::default(),
        });
        let task = tokio::spawn(accept(listener, core.clone()));
        Self { addr, core, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The vendor's state.
    pub fn vendor(&self) -> &V {
        &self.core.vendor
    }

    /// The next requests get these faults, one each, in order.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        let rules = faults.into_iter().map(|fault| Rule { route: None, fault });
        self.core.faults.lock().unwrap().extend(rules);
    }

    /// The next `n` requests on `route` get `fault`. A route is a path
    /// suffix, with or without a method: `"POST /comment"`, `"/comment"`.
    pub fn inject_on(&self, route: &str, fault: Fault, n: usize) {
        let rule = Rule {
            route: Some(Route::parse(route)),
            fault,
        };
        let mut faults = self.core.faults.lock().unwrap();
        faults.extend(std::iter::repeat_n(rule, n));
    }

    /// From now on every `n`-th request (counting all so far) gets `fault`,
    /// unless a queued fault comes first.
    pub fn inject_every(&self, n: usize, fault: Fault) {
        *self.core.every.lock().unwrap() = Some((n.max(1), fault));
    }

    /// Faults not served yet.
    pub fn faults_left(&self) -> usize {
        self.core.faults.lock().unwrap().len()
    }

    /// Every exchange so far, in arrival order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.core.log.lock().unwrap().clone()
    }
}

impl<V> Core<V> {
    fn take_fault(&self, method: &Method, uri: &Uri) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap();
        let queued = (faults.iter())
            .position(|r| (r.route.as_ref()).is_none_or(|route| route.matches(method, uri)));
        if let Some(at) = queued {
            return faults.remove(at).map(|r| r.fault);
        }
        let every = self.every.lock().unwrap();
        let (n, fault) = every.as_ref()?;
        let nth = self.log.lock().unwrap().len() + 1;
        (nth % n == 0).then(|| fault.clone())
    }
}

/// Accepts connections until aborted; aborting drops every connection task.
async fn accept<V: Vendor>(listener: tokio::net::TcpListener, core: Arc<Core<V>>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(serve_connection(TokioIo::new(stream), core.clone()));
    }
}

/// Serves one connection; a request whose answer is to be dropped closes it.
async fn serve_connection<V: Vendor>(io: TokioIo<tokio::net::TcpStream>, core: Arc<Core<V>>) {
    let (hang_up, hung_up) = tokio::sync::watch::channel(false);
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let core = core.clone();
        let hang_up = hang_up.clone();
        async move {
            let answer = exchange(&core, req).await;
            match answer {
                Some(resp) => Ok::<_, std::convert::Infallible>(resp),
                None => {
                    let _ = hang_up.send(true);
                    std::future::pending().await
                }
            }
        }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    let mut hung_up = hung_up;
    tokio::select! {
        _ = conn => {}
        _ = hung_up.wait_for(|h| *h) => {}
    }
}

/// Handles one request: `None` means close the connection without answering.
async fn exchange<V: Vendor>(
    core: &Core<V>,
    req: Request<hyper::body::Incoming>,
) -> Option<Response> {
    let at = Instant::now();
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let request = Incoming {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
    };
    let fault = core.take_fault(&request.method, &request.uri);
    let answer = match &fault {
        None => Some(core.vendor.answer(&request)),
        Some(Fault::Status(code)) => Some(core.vendor.refuse(status(*code), None)),
        Some(Fault::RateLimited(secs)) => Some(
            core.vendor
                .refuse(StatusCode::TOO_MANY_REQUESTS, Some(*secs)),
        ),
        Some(Fault::Delay(wait)) => {
            tokio::time::sleep(*wait).await;
            Some(core.vendor.answer(&request))
        }
        Some(Fault::Drop) => None,
        Some(Fault::Lost(instead)) => {
            let _applied = core.vendor.answer(&request);
            instead.map(|code| core.vendor.refuse(status(code), None))
        }
    };
    core.log.lock().unwrap().push(Exchange {
        request,
        status: answer.as_ref().map(|r| r.status().as_u16()),
        at,
        fault,
    });
    answer
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).expect("a valid status code")
}
