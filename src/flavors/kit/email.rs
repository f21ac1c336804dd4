//! Email over SMTP: the sender of the coming `notification` flavor.
//!
//! One [`EmailSender`] holds one pooled `lettre` transport (STARTTLS,
//! implicit TLS, or plain text for a local test server) and sends **one
//! message per recipient**, so that a recipient the relay refuses is
//! dead-lettered alone while the others are delivered. Each message is
//! `multipart/alternative` (plain text, then HTML) with the `Message-ID`
//! the caller gives, made by [`message_id`] from (case, event, recipient).
//!
//! [`EmailSender::send`] answers a [`SendOutcome`]: SMTP 4xx replies,
//! connection failures, TLS failures and timeouts are
//! [`SendOutcome::Transient`] (retry); 5xx replies and an invalid recipient
//! address are [`SendOutcome::Permanent`] (dead-letter that recipient). Error
//! texts never contain the password.
//!
//! **No idempotency.** SMTP has no idempotency key: a 250 means the relay
//! took the message, and a crash between the relay's 250 and our record of it
//! sends the message again on redelivery. The deterministic `Message-ID` is
//! what lets a mail client thread or drop such duplicates (Mailpit, like most
//! relays, stores both). No `List-Unsubscribe` header is set: it needs an
//! inbound one-click unsubscribe route, which this service does not have.
//!
//! Tested against a real SMTP server, Mailpit (`scripts/services.sh up
//! mailpit`), in `email_tests.rs`.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls as LettreTls, TlsParameters};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

use crate::settings::{SecretString, MASK};

/// The right-hand side of every [`message_id`].
pub const MESSAGE_ID_DOMAIN: &str = "case-event-handler";

/// How the connection to the SMTP server is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// Plain text: for a local test server only (Mailpit on 127.0.0.1).
    None,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Implicit,
}

/// Where and as whom email is sent.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// The SMTP server's host name (also the name its TLS certificate must carry).
    pub host: String,
    /// The SMTP server's port (587 for STARTTLS, 465 for implicit TLS).
    pub port: u16,
    /// How the connection is protected.
    pub tls: Tls,
    /// The user name to authenticate as; no authentication without it.
    pub username: Option<String>,
    /// The password, resolved from its secret reference.
    pub password: Option<SecretString>,
    /// The `From` address, with or without a display name (`Cases <cases@example.com>`).
    pub from: String,
    /// The bound of one send, connecting included; also lettre's per-command timeout.
    pub timeout: Duration,
}

/// Why an [`EmailSender`] cannot be built from its [`SmtpConfig`].
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The `from` address does not parse.
    #[error("the sender address '{from}' is not a valid mailbox: {reason}")]
    InvalidFrom {
        /// The configured address.
        from: String,
        /// The parser's complaint.
        reason: String,
    },
    /// A password is given without a user name, or the other way round.
    #[error("SMTP credentials need both a username and a password")]
    HalfCredentials,
    /// Built outside a Tokio runtime: the pool's reaper task needs one.
    #[error("the SMTP sender must be built within a Tokio runtime")]
    NoRuntime,
    /// The TLS parameters for the host cannot be built.
    #[error("TLS for SMTP host '{host}' cannot be set up: {reason}")]
    Tls {
        /// The configured host.
        host: String,
        /// lettre's complaint.
        reason: String,
    },
}

/// What became of one message to one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server accepted the message (not a proof of delivery).
    Sent,
    /// Worth retrying later: a 4xx reply, a connection or TLS failure, a timeout.
    Transient {
        /// What went wrong, without the password.
        error: String,
    },
    /// Never going to work for this recipient: a 5xx reply or an invalid address.
    Permanent {
        /// What went wrong, without the password.
        error: String,
    },
}

/// The deterministic `Message-ID` of the message about `event_id` of
/// `case_id` to `recipient`: the same inputs always give the same id, and the
/// id is a hash, so no address can be read from it. The recipient's domain
/// is compared case-insensitively.
pub fn message_id(case_id: &str, event_id: &str, recipient: &str) -> String {
    let mut hash = Sha256::new();
    for part in [case_id, event_id, &normalized(recipient)] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    let digest = hash.finalize();
    format!("<{}@{MESSAGE_ID_DOMAIN}>", hex::encode(&digest[..16]))
}

/// The address trimmed, with its domain in lower case.
fn normalized(address: &str) -> String {
    let address = address.trim();
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => address.to_string(),
    }
}

/// Sends email through one pooled SMTP transport; cheap to share by reference.
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    password: Option<SecretString>,
    timeout: Duration,
}

impl EmailSender {
    /// Builds the sender; connects to nothing until the first [`send`](Self::send).
    /// It must be built, and dropped, within a Tokio runtime: its connection pool
    /// spawns tasks then ([`EmailError::NoRuntime`] otherwise).
    pub fn new(config: SmtpConfig) -> Result<Self, EmailError> {
        tokio::runtime::Handle::try_current().map_err(|_| EmailError::NoRuntime)?;
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|e| EmailError::InvalidFrom {
                from: config.from.clone(),
                reason: e.to_string(),
            })?;
        let mut builder = transport_builder(&config)?
            .port(config.port)
            .timeout(Some(config.timeout));
        match (config.username, &config.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user, password.expose().clone()));
            }
            (None, None) => {}
            _ => return Err(EmailError::HalfCredentials),
        }
        Ok(Self {
            transport: builder.build(),
            from,
            password: config.password,
            timeout: config.timeout,
        })
    }

    /// Sends one `multipart/alternative` message (text, then HTML) to `to`
    /// with the given `Message-ID` (see [`message_id`]).
    pub async fn send(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
        message_id: &str,
    ) -> SendOutcome {
        let message = match self.message(to, subject, text, html, message_id) {
            Ok(message) => message,
            Err(error) => return SendOutcome::Permanent { error },
        };
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => SendOutcome::Sent,
            Ok(Err(e)) => self.classify(&e),
            Err(_) => SendOutcome::Transient {
                error: format!("no answer from the SMTP server within {:?}", self.timeout),
            },
        }
    }

    /// The message, or why it cannot be built (an invalid recipient, say).
    fn message(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        html: &str,
        message_id: &str,
    ) -> Result<Message, String> {
        let to = to
            .trim()
            .parse::<Mailbox>()
            .map_err(|e| format!("invalid recipient address '{to}': {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id.to_string()))
            .multipart(MultiPart::alternative_plain_html(
                text.to_string(),
                html.to_string(),
            ))
            .map_err(|e| format!("the message cannot be built: {e}"))
    }

    /// 5xx is permanent; 4xx, connection, TLS and timeout failures, and
    /// anything else (a garbled reply, say) are transient.
    fn classify(&self, error: &lettre::transport::smtp::Error) -> SendOutcome {
        let text = self.redacted(&error_chain(error));
        if error.is_permanent() {
            SendOutcome::Permanent { error: text }
        } else {
            SendOutcome::Transient { error: text }
        }
    }

    /// `text` with every occurrence of the password masked.
    fn redacted(&self, text: &str) -> String {
        match self.password.as_ref().map(SecretString::expose) {
            Some(password) if !password.is_empty() => text.replace(password.as_str(), MASK),
            _ => text.to_string(),
        }
    }
}

/// The transport builder for the configured kind of TLS.
fn transport_builder(config: &SmtpConfig) -> Result<AsyncSmtpTransportBuilder, EmailError> {
    let host = config.host.as_str();
    let tls = |kind: fn(TlsParameters) -> LettreTls| {
        TlsParameters::new(host.to_string())
            .map(kind)
            .map_err(|e| EmailError::Tls {
                host: host.to_string(),
                reason: e.to_string(),
            })
    };
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host);
    Ok(match config.tls {
        Tls::None => builder.tls(LettreTls::None),
        Tls::StartTls => builder.tls(tls(LettreTls::Required)?),
        Tls::Implicit => builder.tls(tls(LettreTls::Wrapper)?),
    })
}

/// The error and its sources, joined by ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
#[path = "email_tests.rs"]
mod tests;
