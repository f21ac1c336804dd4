//! IO: the Datadog logs intake over HTTP (`POST /api/v2/logs`, gzip,
//! `DD-API-KEY`), answering one [`Reply`] per request.

use std::io::Write;

use async_trait::async_trait;
use flate2::write::GzEncoder;
use flate2::Compression;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::StatusCode;

use super::client::{Intake, Reply};
use super::config::EvpConfig;
use crate::handler::HandlerError;
use crate::http::{Dependency, DependencySpec, HttpError};
use crate::settings::SecretString;

/// The Datadog logs intake.
pub static LOGS_INTAKE: DependencySpec = DependencySpec::new(
    "logs-intake",
    "Datadog logs intake (POST /api/v2/logs, gzip, DD-API-KEY)",
);

/// The dependency name in logs and metrics.
#[cfg(test)]
const DEPENDENCY: &str = LOGS_INTAKE.name;

/// A logs intake reached over HTTP.
#[derive(Debug, Clone)]
pub struct HttpIntake {
    dep: Dependency,
    url: String,
    api_key: SecretString,
}

impl HttpIntake {
    /// The configured intake over `dep` (a client of [`LOGS_INTAKE`]).
    pub fn new(config: &EvpConfig, dep: Dependency) -> Self {
        Self {
            dep,
            url: config.endpoint.url.clone(),
            api_key: config.endpoint.secret.clone(),
        }
    }
}

/// Gzips a request body.
pub fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::default());
    enc.write_all(body)?;
    enc.finish()
}

#[async_trait]
impl Intake for HttpIntake {
    async fn post(&self, body: Vec<u8>) -> Reply {
        let compressed = match tokio::task::spawn_blocking(move || gzip(&body)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => return Reply::Failed(HandlerError::transient(format!("gzip: {e}"))),
            Err(e) => return Reply::Failed(HandlerError::transient(format!("gzip task: {e}"))),
        };
        let request = self
            .dep
            .client()
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .header("DD-API-KEY", self.api_key.expose())
            .body(compressed);
        match self.dep.send(request, None).await {
            Ok(_) => Reply::Accepted,
            Err(err) => reply_to(err),
        }
    }
}

/// 413 and 400 are about the request's documents; everything else is about
/// the intake and classified by the shared HTTP base (401/403 alert there).
fn reply_to(err: HttpError) -> Reply {
    if let HttpError::Status { status, body, .. } = &err {
        match *status {
            StatusCode::PAYLOAD_TOO_LARGE => return Reply::TooLarge(body.clone()),
            StatusCode::BAD_REQUEST => return Reply::BadRequest(body.clone()),
            _ => {}
        }
    }
    Reply::Failed(err.into())
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::time::Duration;

    use super::*;
    use crate::handler::ErrorClass;

    fn status(code: u16, retry_after: Option<u64>) -> HttpError {
        HttpError::Status {
            dependency: DEPENDENCY,
            status: StatusCode::from_u16(code).unwrap(),
            retry_after: retry_after.map(Duration::from_secs),
            body: format!("{{\"errors\":[\"{code}\"]}}"),
        }
    }

    #[test]
    fn statuses_map_to_replies_as_the_intake_contract_says() {
        assert!(matches!(reply_to(status(413, None)), Reply::TooLarge(b) if b.contains("413")));
        assert!(matches!(reply_to(status(400, None)), Reply::BadRequest(_)));
        for (code, class) in [
            (408, ErrorClass::Transient),
            (429, ErrorClass::Deferred),
            (500, ErrorClass::Transient),
            (503, ErrorClass::Deferred),
        ] {
            match reply_to(status(code, Some(3))) {
                Reply::Failed(e) => {
                    assert_eq!(e.class, class, "{code}");
                    assert_eq!(e.retry_after, Some(Duration::from_secs(3)));
                }
                other => panic!("{code}: {other:?}"),
            }
        }
        for code in [401, 403, 404] {
            assert!(
                matches!(reply_to(status(code, None)), Reply::Failed(e) if e.class == ErrorClass::Permanent),
                "{code}"
            );
        }
    }

    #[test]
    fn gzip_round_trips() {
        let body = br#"[{"message":"m"}]"#.repeat(100);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gzip(&body).unwrap().as_slice())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }
}
