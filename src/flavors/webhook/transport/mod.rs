//! The outbound transport of the `webhook` flavor: one POST to a customer's
//! endpoint, guarded against server-side request forgery, its result an
//! owned [`Outcome`], which becomes the kit's
//! [`DeliveryOutcome`] (the delivery worker's view of an attempt).
//!
//! Guarantees (unless the [`EndpointPolicy`] relaxes them, which only the
//! `local` and test environments do):
//! - [`check_url`] accepts only `https` URLs (`http` too with `allow_http`,
//!   never another scheme), without credentials, whose host is on the
//!   allow-list when there is one, and whose IP-literal host is public
//!   ([`is_public`]: no loopback, private, link-local, metadata, CGNAT,
//!   documentation, multicast or reserved address, nor an IPv6 form that
//!   embeds one);
//! - a host name is resolved by the client's own resolver, which drops
//!   every non-public address: the connection goes only to an address that
//!   was checked, so a name resolving (or rebinding) to an internal address
//!   is refused at connect;
//! - redirects are never followed (a 3xx is a transient failure), proxies
//!   from the environment are ignored;
//! - no error text carries the URL's credentials, path or query string, nor
//!   a request header value (signatures, secrets): errors name the host at
//!   most, the status and the start of the response body, redacted.

use std::error::Error as StdError;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{redirect, Response, StatusCode, Url};

use crate::flavors::kit::delivery::DeliveryOutcome;

/// The User-Agent of every webhook request.
const USER_AGENT: &str = concat!("case-event-handler/", env!("CARGO_PKG_VERSION"));
/// The most characters of a response body an error quotes.
const BODY_CHARS: usize = 200;
/// The most bytes of a response body read to quote it: 200 chars of UTF-8
/// and room for a secret straddling them, redacted before the cut.
const BODY_BYTES: usize = 8 * 1024;
/// Shorter header or query values are not redacted (they are no secrets,
/// and redacting them would mangle every message).
const SECRET_MIN_LEN: usize = 4;

/// Which endpoints may be called, and how long a call may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// Plain `http` is allowed besides `https` (only the `local` environment).
    pub allow_http: bool,
    /// Private, loopback and other non-public addresses are allowed (only
    /// the `local` and test environments).
    pub allow_private: bool,
    /// The hosts that may be called; empty: any host. An entry matches the
    /// host exactly, or written `*.example.com`, any subdomain of it.
    pub allowed_hosts: Vec<String>,
    /// Whole-request timeout (connect, send, response head).
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

impl Default for EndpointPolicy {
    /// The production policy: https to public addresses of any host, 10 s
    /// per request, 3 s to connect.
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_private: false,
            allowed_hosts: Vec::new(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
        }
    }
}

/// Why an endpoint URL is refused. The text never carries the URL's
/// credentials, path or query string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Not a URL.
    #[error("endpoint URL is not valid: {reason}")]
    Unparseable {
        /// The parser's reason (it quotes nothing of the input).
        reason: String,
    },
    /// A scheme other than https (or http when allowed).
    #[error("endpoint scheme '{scheme}' is refused: only {allowed} is allowed")]
    Scheme {
        /// The URL's scheme.
        scheme: String,
        /// What the policy allows.
        allowed: &'static str,
    },
    /// A user name or password in the URL.
    #[error("endpoint {endpoint} carries credentials in its URL")]
    Credentials {
        /// The URL's `scheme://host:port`.
        endpoint: String,
    },
    /// No host to call.
    #[error("endpoint URL has no host")]
    NoHost,
    /// A host not on the (non-empty) allow-list.
    #[error("endpoint host '{host}' is not on the allow-list")]
    NotAllowed {
        /// The host.
        host: String,
    },
    /// An IP-literal host that is not public.
    #[error("endpoint address {ip} is not public")]
    NotPublic {
        /// The address.
        ip: IpAddr,
    },
}

/// A host name that resolved only to refused (non-public) addresses; which
/// addresses is not said (it would map internal names for the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("host '{host}' resolved only to refused (non-public) addresses")]
pub struct ResolveRefused {
    /// The host name.
    pub host: String,
}

/// The webhook client could not be built (TLS backend).
#[derive(Debug, thiserror::Error)]
#[error("webhook client: {0}")]
pub struct TransportBuildError(#[source] reqwest::Error);

/// What one POST came to; [`Outcome::attempt`] is the kit's view of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx.
    Delivered {
        /// The status.
        status: StatusCode,
    },
    /// A 410: the endpoint is gone.
    Gone {
        /// The status and the start of the body.
        error: String,
    },
    /// Worth retrying: 408, 429, 5xx, a 3xx (never followed), a connect
    /// error, a timeout, a connection dropped after the request was sent.
    Transient {
        /// The status and body start, or the transport problem.
        error: String,
        /// The endpoint's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// Never accepted: another 4xx, or a refused URL or address.
    Permanent {
        /// The status and body start, or the refusal.
        error: String,
    },
}

impl From<Outcome> for DeliveryOutcome {
    /// The outcome as the delivery worker takes it (the status of a 2xx
    /// is dropped: delivered is delivered).
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Delivered { .. } => DeliveryOutcome::Delivered,
            Outcome::Gone { error } => DeliveryOutcome::Gone { error },
            Outcome::Transient { error, retry_after } => {
                DeliveryOutcome::Transient { error, retry_after }
            }
            Outcome::Permanent { error } => DeliveryOutcome::Permanent { error },
        }
    }
}

/// The webhook client: built once per policy and shared (its connection
/// pool with it; cloning is cheap).
#[derive(Debug, Clone)]
pub struct WebhookTransport {
    policy: Arc<EndpointPolicy>,
    client: reqwest::Client,
}

impl WebhookTransport {
    /// A client for `policy`: its timeouts, its resolver, no redirects, no
    /// proxy.
    pub fn new(policy: EndpointPolicy) -> Result<Self, TransportBuildError> {
        let resolver = GuardedResolver {
            allow_private: policy.allow_private,
        };
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.connect_timeout)
            .redirect(redirect::Policy::none())
            .no_proxy()
            .referer(false)
            .https_only(!policy.allow_http)
            .user_agent(USER_AGENT)
            .dns_resolver(Arc::new(resolver))
            .build()
            .map_err(|e| TransportBuildError(e.without_url()))?;
        let policy = Arc::new(policy);
        Ok(Self { policy, client })
    }

    /// The policy the client enforces.
    pub fn policy(&self) -> &EndpointPolicy {
        &self.policy
    }

    /// POSTs `body` (JSON: the Content-Type is set here) with `headers` to
    /// `url`, checked again against the policy first. Never panics, never
    /// follows a redirect.
    pub async fn post(&self, url: &Url, headers: &[(&str, String)], body: Vec<u8>) -> Outcome {
        if let Err(refused) = check_parsed(&self.policy, url) {
            return Outcome::Permanent {
                error: refused.to_string(),
            };
        }
        let secrets = Secrets::of(url, headers);
        let mut request = self
            .client
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        match request.send().await {
            Ok(response) => from_response(response, &secrets).await,
            Err(err) => from_error(err.without_url(), &secrets),
        }
    }
}

/// The outcome of a response: its status, `Retry-After`, body start.
async fn from_response(response: Response, secrets: &Secrets) -> Outcome {
    let status = response.status();
    if status.is_success() {
        return Outcome::Delivered { status };
    }
    let retry_after = crate::http::retry_after(response.headers());
    if status.is_redirection() {
        let error = format!("HTTP {status}: redirects are not followed");
        return Outcome::Transient { error, retry_after };
    }
    let body = secrets.redact(body_start(response).await);
    let body: String = body.trim().chars().take(BODY_CHARS).collect();
    let error = format!("HTTP {status}: {}", body.trim_end());
    match status.as_u16() {
        410 => Outcome::Gone { error },
        408 | 429 | 500.. => Outcome::Transient { error, retry_after },
        _ => Outcome::Permanent { error },
    }
}

/// The start of the body, read no further than [`BODY_BYTES`] (a failed
/// read ends it: the quote is best effort).
async fn body_start(mut response: Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(BODY_BYTES);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The outcome of a request that got no response: a refused address (or a
/// request that cannot be built) is permanent, the rest transient.
fn from_error(err: reqwest::Error, secrets: &Secrets) -> Outcome {
    let error = secrets.redact(describe(&err));
    let refused = sources(&err).any(|e| e.downcast_ref::<ResolveRefused>().is_some());
    if refused || err.is_builder() {
        return Outcome::Permanent { error };
    }
    Outcome::Transient {
        error,
        retry_after: None,
    }
}

/// The error's kind and its causes (the error carries no URL).
fn describe(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connect failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut last = String::new();
    for cause in sources(err) {
        let cause = cause.to_string();
        if cause != last {
            text = format!("{text}: {cause}");
        }
        last = cause;
    }
    text
}

/// The error's chain of causes (not the error itself).
fn sources<'a>(err: &'a reqwest::Error) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(err.source(), |&e| e.source())
}

/// The request's secrets, redacted from every error text: header values,
/// the URL's query string and its values.
struct Secrets(Vec<String>);

impl Secrets {
    fn of(url: &Url, headers: &[(&str, String)]) -> Self {
        let mut values: Vec<String> = headers.iter().map(|(_, v)| v.clone()).collect();
        values.extend(url.query().map(str::to_string));
        values.extend(url.query_pairs().map(|(_, v)| v.into_owned()));
        values.retain(|v| v.len() >= SECRET_MIN_LEN);
        // The longest first, so a value containing another goes whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Self(values)
    }

    fn redact(&self, text: String) -> String {
        self.0.iter().fold(text, |text, secret| {
            text.replace(secret.as_str(), "[redacted]")
        })
    }
}

mod address;
#[cfg(test)]
mod tests;

use address::GuardedResolver;
pub use address::{check_parsed, check_url, is_public};
