//! The configuration schema: plain serde structs with production defaults.
//!
//! Every struct rejects unknown keys and falls back to its `Default` for
//! missing ones; `config/base.yaml` spells the same defaults out. Semantic
//! checks live in `validate.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use super::runtime::RuntimeSettings;
use super::secret::{is_secret_key, redact_url, SecretString, MASK};

/// The complete, effective configuration of the service.
///
/// Obtain it with [`super::load`], which also validates it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Deployment environment name; defaults to the `--env` it was loaded for.
    pub environment: String,
    /// Kafka connection, consumer group and topics.
    pub kafka: KafkaSettings,
    /// The database behind the idempotency ledger and handler state.
    pub store: StoreSettings,
    /// Processing behaviour shared by all flavors (overridable per flavor).
    pub runtime: RuntimeSettings,
    /// Logging, metrics and tracing.
    pub telemetry: TelemetrySettings,
    /// Feature flags by name (a boolean, or a rule with a percentage and
    /// per-flavor / per-project overrides); a missing flag means "off".
    /// Changes apply live.
    pub features: BTreeMap<String, crate::resilience::flags::FlagConfig>,
    /// Maintenance windows (pause or skip), per flavor or dependency. Live.
    pub maintenance: Vec<crate::resilience::maintenance::WindowConfig>,
    /// Circuit-breaker limits per dependency name (e.g. `jira`); others use
    /// the defaults. Live.
    pub breakers: BTreeMap<String, crate::resilience::breaker::BreakerConfig>,
    /// Outbound calls per second per dependency name (token bucket). Live.
    pub rate_limits: BTreeMap<String, crate::resilience::rate_limit::RateLimitConfig>,
    /// The rules directory (notification, automation, paging, SLA rules per
    /// project; `src/rules`) and the secrets those rules name.
    pub rules: RulesSettings,
    /// Per-flavor sections. Only their `runtime` sub-map is interpreted here;
    /// the rest is read by the flavor via [`Settings::flavor_config`].
    pub flavors: BTreeMap<String, serde_yaml::Value>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: super::DEFAULT_ENV.to_owned(),
            kafka: KafkaSettings::default(),
            store: StoreSettings::default(),
            runtime: RuntimeSettings::default(),
            telemetry: TelemetrySettings::default(),
            features: BTreeMap::new(),
            maintenance: Vec::new(),
            breakers: BTreeMap::new(),
            rate_limits: BTreeMap::new(),
            rules: RulesSettings::default(),
            flavors: BTreeMap::new(),
        }
    }
}

impl Settings {
    /// The feature flags, for evaluation per event.
    pub fn flags(&self) -> crate::resilience::flags::Flags {
        crate::resilience::flags::Flags::new(self.features.clone())
    }

    /// The validated maintenance windows (invalid ones are reported by `validate`).
    pub fn windows(&self) -> Vec<crate::resilience::maintenance::Window> {
        self.maintenance
            .iter()
            .filter_map(|c| c.try_into().ok())
            .collect()
    }
}

/// Kafka connection, consumer group and topics.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaSettings {
    /// Comma-separated bootstrap servers (`host:port,...`). Required.
    pub brokers: String,
    /// Consumer group id; `{flavor}` is replaced by the flavor name.
    pub group_id: String,
    /// Topics to consume.
    pub topics: Vec<String>,
    /// Topic for events the service itself produces.
    pub produce_topic: String,
    /// Topic for commands to the case service (`casemgmt.commands.v1`).
    pub commands_topic: String,
    /// Consumer session timeout (`session.timeout.ms`).
    pub session_timeout_ms: u32,
    /// Maximum time between polls before the consumer is evicted
    /// (`max.poll.interval.ms`).
    pub max_poll_interval_ms: u32,
    /// How often processed offsets are committed.
    pub commit_interval_ms: u32,
    /// Authentication and encryption; absent means plaintext.
    pub security: Option<KafkaSecurity>,
    /// Extra librdkafka properties passed through verbatim (`key: value`).
    /// Values of secret-looking keys (`ssl.key.password`, ...) are masked
    /// when rendered.
    #[serde(serialize_with = "serialize_client")]
    pub client: BTreeMap<String, String>,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        Self {
            brokers: String::new(),
            group_id: "ceh.{flavor}".to_owned(),
            topics: vec!["case-events".to_owned()],
            produce_topic: "case-events".to_owned(),
            commands_topic: "case-commands".to_owned(),
            session_timeout_ms: 10_000,
            max_poll_interval_ms: 300_000,
            commit_interval_ms: 1_000,
            security: None,
            client: BTreeMap::new(),
        }
    }
}

impl fmt::Debug for KafkaSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSettings")
            .field("brokers", &self.brokers)
            .field("group_id", &self.group_id)
            .field("topics", &self.topics)
            .field("produce_topic", &self.produce_topic)
            .field("commands_topic", &self.commands_topic)
            .field("session_timeout_ms", &self.session_timeout_ms)
            .field("max_poll_interval_ms", &self.max_poll_interval_ms)
            .field("commit_interval_ms", &self.commit_interval_ms)
            .field("security", &self.security)
            .field("client", &masked_client(&self.client))
            .finish()
    }
}

/// `client` with the values of secret-looking keys replaced by `***`.
fn masked_client(client: &BTreeMap<String, String>) -> BTreeMap<&str, &str> {
    client
        .iter()
        .map(|(key, value)| {
            let shown = if is_secret_key(key) { MASK } else { value };
            (key.as_str(), shown)
        })
        .collect()
}

fn serialize_client<S: Serializer>(
    client: &BTreeMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    masked_client(client).serialize(serializer)
}

impl KafkaSettings {
    /// The consumer group id for `flavor` (`{flavor}` substituted).
    pub fn group_id_for(&self, flavor: &str) -> String {
        self.group_id.replace("{flavor}", flavor)
    }
}

/// Kafka authentication and encryption.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaSecurity {
    /// `security.protocol`.
    pub protocol: SecurityProtocol,
    /// `sasl.mechanism` (`PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`, ...);
    /// unset leaves the librdkafka default.
    pub sasl_mechanism: Option<String>,
    /// SASL user name; required for `sasl_*` protocols.
    pub sasl_username: Option<String>,
    /// SASL password; required for `sasl_*` protocols.
    pub sasl_password: Option<SecretString>,
}

impl Default for KafkaSecurity {
    fn default() -> Self {
        Self {
            protocol: SecurityProtocol::SaslSsl,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
        }
    }
}

/// Kafka `security.protocol` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    /// No TLS, no authentication.
    #[serde(alias = "PLAINTEXT")]
    Plaintext,
    /// TLS without SASL.
    #[serde(alias = "SSL")]
    Ssl,
    /// SASL without TLS.
    #[serde(alias = "SASL_PLAINTEXT")]
    SaslPlaintext,
    /// SASL over TLS.
    #[serde(alias = "SASL_SSL")]
    SaslSsl,
}

impl SecurityProtocol {
    /// The librdkafka spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    /// Whether the protocol authenticates with SASL.
    pub fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// The database behind the idempotency ledger and handler state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// Connection URL (`sqlite:...` or `postgres://...`); may hold a password.
    pub url: SecretString,
    /// Connection pool size.
    pub max_connections: u32,
    /// How long processed-event ledger entries are kept.
    pub ledger_ttl_hours: u32,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://case-event-handler.db?mode=rwc"),
            max_connections: 10,
            ledger_ttl_hours: 720,
        }
    }
}

impl StoreSettings {
    /// The URL with any password replaced by `***`, safe to log.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose())
    }

    /// Whether the store is SQLite (otherwise PostgreSQL).
    pub fn is_sqlite(&self) -> bool {
        self.url.expose().starts_with("sqlite:")
    }

    /// Ledger retention as a duration.
    pub fn ledger_ttl(&self) -> Duration {
        Duration::from_secs(u64::from(self.ledger_ttl_hours) * 3600)
    }
}

/// Logging, metrics and tracing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// Log output format.
    pub log_format: LogFormat,
    /// `tracing` filter directive, e.g. `info,case_event_handler=debug`.
    pub log_level: String,
    /// Address of the HTTP server for health checks and metrics.
    pub http_addr: SocketAddr,
    /// `/healthz` fails once the Kafka poll loop made no progress for this long.
    pub liveness_timeout_secs: u32,
    /// OpenTelemetry trace export; absent disables it.
    pub otlp: Option<OtlpSettings>,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Auto,
            log_level: "info".to_owned(),
            http_addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 9464)),
            liveness_timeout_secs: 60,
            otlp: None,
        }
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable, coloured.
    Pretty,
    /// `pretty` on a terminal, `json` otherwise.
    Auto,
}

/// OpenTelemetry trace export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpSettings {
    /// Collector endpoint URL (`http://` or `https://`).
    pub endpoint: String,
    /// Wire protocol.
    pub protocol: OtlpProtocol,
    /// Fraction of traces sampled, 0 to 1.
    pub sample_ratio: f64,
    /// Extra request headers, typically an API key; values are secret.
    pub headers: BTreeMap<String, SecretString>,
}

impl Default for OtlpSettings {
    fn default() -> Self {
        Self {
            endpoint: "http://127.0.0.1:4317".to_owned(),
            protocol: OtlpProtocol::Grpc,
            sample_ratio: 1.0,
            headers: BTreeMap::new(),
        }
    }
}

/// OTLP wire protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtlpProtocol {
    /// OTLP over gRPC (port 4317 by convention).
    Grpc,
    /// OTLP over HTTP/protobuf (port 4318 by convention).
    Http,
}

/// Where the rules files live (`src/rules`) and where the secrets they name
/// come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesSettings {
    /// Directory of per-project rules files (`<PROJECT>.yaml`); `None`: no rules.
    pub dir: Option<std::path::PathBuf>,
    /// How often the directory's content hash is polled, in seconds (1–3600).
    pub reload_secs: u64,
    /// Edge state (`kit::edge`) of a case closed longer than this is
    /// deleted (hourly), as is that of rules no longer defined; in days (1–3650).
    pub edges_closed_ttl_days: u64,
    /// A mounted Secret directory: the secret `slack-acme` is the file
    /// `<secrets_dir>/slack-acme`.
    pub secrets_dir: Option<std::path::PathBuf>,
    /// Secrets by name, typically from `CEH__RULES__SECRETS__SLACK_ACME`
    /// (the name lower-cased, `-` and `.` read as `_`); win over `secrets_dir`.
    pub secrets: BTreeMap<String, SecretString>,
}

impl Default for RulesSettings {
    fn default() -> Self {
        Self {
            dir: None,
            reload_secs: 5,
            edges_closed_ttl_days: 30,
            secrets_dir: None,
            secrets: BTreeMap::new(),
        }
    }
}
