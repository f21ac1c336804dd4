//! The outbound HTTP base every integration uses: one reqwest client per
//! dependency with timeouts and pooling, W3C trace propagation, `Retry-After`
//! parsing, and the status → outcome classification of the integrations
//! reference in one place. Integrations refine it only where their vendor
//! differs (Jira's 404 marks a link stale, the logs intake splits on 413).

mod spec;

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};

use crate::handler::{ErrorClass, HandlerError};
use crate::telemetry;

pub use spec::DependencySpec;

/// How a dependency's client behaves.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Idle pooled connections kept per host.
    pub pool_idle_per_host: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            pool_idle_per_host: 16,
        }
    }
}

/// One downstream dependency (e.g. `jira`, `logs-intake`) and its client.
#[derive(Debug, Clone)]
pub struct Dependency {
    name: &'static str,
    client: reqwest::Client,
}

/// A failed call: transport trouble, or a status that is not success.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Connect error, timeout, broken body.
    #[error("{dependency}: {source}")]
    Transport {
        /// The dependency.
        dependency: &'static str,
        /// The reqwest error.
        source: reqwest::Error,
    },
    /// A non-success status.
    #[error("{dependency}: HTTP {status}: {body}")]
    Status {
        /// The dependency.
        dependency: &'static str,
        /// The status.
        status: StatusCode,
        /// The least wait the server asked for.
        retry_after: Option<Duration>,
        /// The start of the response body (vendor error envelope).
        body: String,
    },
}

impl HttpError {
    /// The HTTP status, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            HttpError::Transport { .. } => None,
        }
    }

    /// The default class: transport, 408, 409, 425, 429 and 5xx are
    /// transient; other statuses are permanent.
    pub fn class(&self) -> ErrorClass {
        match self {
            HttpError::Transport { .. } => ErrorClass::Transient,
            HttpError::Status { status, .. } => classify_status(*status),
        }
    }

    /// Whether operators must act (credentials or permissions).
    pub fn needs_operator(&self) -> bool {
        matches!(
            self.status(),
            Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        )
    }
}

/// Status → class, shared by every integration. A 429 or 503 says the
/// vendor did not look at the request: deferred, not charged to the event.
pub fn classify_status(status: StatusCode) -> ErrorClass {
    match status.as_u16() {
        429 | 503 => ErrorClass::Deferred,
        408 | 409 | 425 => ErrorClass::Transient,
        s if s >= 500 => ErrorClass::Transient,
        _ => ErrorClass::Permanent,
    }
}

impl From<HttpError> for HandlerError {
    fn from(err: HttpError) -> Self {
        if err.needs_operator() {
            tracing::error!(alert = true, error = %err, "credentials or permissions rejected: operator action needed");
        }
        let retry_after = match &err {
            HttpError::Status { retry_after, .. } => *retry_after,
            HttpError::Transport { .. } => None,
        };
        let class = err.class();
        let base = match class {
            ErrorClass::Transient => HandlerError::transient(&err),
            ErrorClass::Deferred => HandlerError::deferred(&err),
            _ => HandlerError::permanent(&err),
        };
        match retry_after {
            Some(after) => base.with_retry_after(after),
            None => base,
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.timestamp_millis() - chrono::Utc::now().timestamp_millis();
    Some(Duration::from_millis(wait.max(0) as u64))
}

/// `X-RateLimit-Reset` as the wait from now: Datadog sends the seconds
/// until the reset, Jira an ISO 8601 instant such as `2024-03-08T13:53Z`.
pub fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("x-ratelimit-reset")?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|| {
            let naive = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%MZ").ok()?;
            Some(naive.and_utc())
        })?;
    let wait = at.timestamp_millis() - chrono::Utc::now().timestamp_millis();
    Some(Duration::from_millis(wait.max(0) as u64))
}

impl Dependency {
    /// A client for the declared dependency with these limits.
    pub fn new(spec: &'static DependencySpec, config: &HttpConfig) -> Result<Self, reqwest::Error> {
        let name = spec.name;
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.pool_idle_per_host)
            .user_agent(concat!("case-event-handler/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { name, client })
    }

    /// The dependency's name (metrics, breaker, logs).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The underlying client, to build requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request with the current span's trace context (or, without
    /// one, `traceparent`), counted and timed per dependency and status; a
    /// non-success status becomes [`HttpError::Status`] carrying
    /// `Retry-After` and the body start.
    pub async fn send(
        &self,
        request: RequestBuilder,
        traceparent: Option<&str>,
    ) -> Result<Response, HttpError> {
        let request = telemetry::trace::propagate_http(request, traceparent);
        crate::resilience::rate_limit::registry()
            .acquire(self.name)
            .await;
        let (dependency, started) = (self.name, std::time::Instant::now());
        let sent = request.send().await;
        let status = sent.as_ref().ok().map(|r| r.status().as_u16());
        telemetry::events::OutboundHttp::new(dependency, status, started.elapsed()).emit();
        // The dependency's breaker counts transport failures and 5xx as
        // failures; 4xx (including 429, which Retry-After paces) are answers.
        let healthy = status.is_some_and(|s| s < 500);
        crate::resilience::breaker::registry().record(dependency, healthy);
        let response = sent.map_err(|source| HttpError::Transport { dependency, source })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = retry_after(response.headers()).or_else(|| {
            let limited = status == StatusCode::TOO_MANY_REQUESTS;
            limited
                .then(|| rate_limit_reset(response.headers()))
                .flatten()
        });
        if let (Some(wait), 429 | 503) = (retry_after, status.as_u16()) {
            // The vendor asked the whole client to wait, not this call only
            // (the limiter logs the hold).
            crate::resilience::rate_limit::registry().hold(dependency, wait);
        }
        let body = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(512)
            .collect();
        Err(HttpError::Status {
            dependency,
            status,
            retry_after,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify_as_the_integrations_reference_says() {
        for s in [408, 409, 425, 500, 502, 504] {
            assert_eq!(
                classify_status(StatusCode::from_u16(s).unwrap()),
                ErrorClass::Transient,
                "{s}"
            );
        }
        for s in [429, 503] {
            assert_eq!(
                classify_status(StatusCode::from_u16(s).unwrap()),
                ErrorClass::Deferred,
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 413, 422] {
            assert_eq!(
                classify_status(StatusCode::from_u16(s).unwrap()),
                ErrorClass::Permanent,
                "{s}"
            );
        }
    }

    #[test]
    fn rate_limit_reset_reads_jiras_instants_and_datadogs_seconds() {
        let mut h = HeaderMap::new();
        let at = chrono::Utc::now() + chrono::Duration::minutes(2);
        let text = at.format("%Y-%m-%dT%H:%MZ").to_string();
        h.insert("x-ratelimit-reset", text.parse().unwrap());
        let wait = rate_limit_reset(&h).unwrap();
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        h.insert("x-ratelimit-reset", "not a time".parse().unwrap());
        assert_eq!(rate_limit_reset(&h), None);
        // Datadog: seconds until the reset.
        h.insert("x-ratelimit-reset", "42".parse().unwrap());
        assert_eq!(rate_limit_reset(&h), Some(Duration::from_secs(42)));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        h.insert(RETRY_AFTER, later.parse().unwrap());
        let got = retry_after(&h).unwrap();
        assert!(
            got > Duration::from_secs(25) && got <= Duration::from_secs(30),
            "{got:?}"
        );
    }

    #[test]
    fn http_errors_carry_class_and_retry_after_into_handler_errors() {
        let err = HttpError::Status {
            dependency: "jira",
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(3)),
            body: String::new(),
        };
        let h: HandlerError = err.into();
        assert_eq!(h.class, ErrorClass::Deferred);
        assert_eq!(h.retry_after, Some(Duration::from_secs(3)));
    }
}
