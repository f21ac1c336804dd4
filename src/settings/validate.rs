//! Semantic checks on deserialized settings. Every problem is collected;
//! nothing stops at the first one.

use serde_yaml::Value;

use super::error::{ConfigError, Problem};
use super::problems::Problems;
use super::rules::{in_range, name_like, template, topic_name};
use super::runtime::{OnExhausted, RuntimeSettings};
use super::schema::{KafkaSettings, Settings, StoreSettings, TelemetrySettings};
use super::tree::KeyPath;

/// librdkafka properties that have a dedicated setting and must not be
/// passed through `kafka.client`.
const RESERVED_CLIENT_KEYS: [(&str, &str); 10] = [
    ("bootstrap.servers", "kafka.brokers"),
    ("group.id", "kafka.group_id"),
    ("session.timeout.ms", "kafka.session_timeout_ms"),
    ("max.poll.interval.ms", "kafka.max_poll_interval_ms"),
    ("auto.commit.interval.ms", "kafka.commit_interval_ms"),
    ("security.protocol", "kafka.security.protocol"),
    ("sasl.mechanism", "kafka.security.sasl_mechanism"),
    ("sasl.mechanisms", "kafka.security.sasl_mechanism"),
    ("sasl.username", "kafka.security.sasl_username"),
    ("sasl.password", "kafka.security.sasl_password"),
];

const SASL_MECHANISMS: [&str; 5] = [
    "PLAIN",
    "SCRAM-SHA-256",
    "SCRAM-SHA-512",
    "OAUTHBEARER",
    "GSSAPI",
];

impl Settings {
    /// Checks the settings and reports every problem found at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Every problem with these settings (empty when valid).
    pub fn problems(&self) -> Vec<Problem> {
        let mut p = Problems::default();
        p.result("environment", name_like(&self.environment, "_-"));
        kafka(&self.kafka, &mut p);
        store(&self.store, &mut p);
        telemetry(&self.telemetry, &mut p);
        p.result(
            "rules.reload_secs",
            in_range(self.rules.reload_secs, 1, 3600),
        );
        p.result(
            "rules.edges_closed_ttl_days",
            in_range(self.rules.edges_closed_ttl_days, 1, 3650),
        );
        let base_runtime = runtime(&self.runtime);
        p.extend_at("runtime", base_runtime.clone());
        for (name, flag) in &self.features {
            p.result(&format!("features.{name}"), name_like(name, "_.-"));
            if let Some(problem) = flag.problem() {
                p.push(&format!("features.{name}"), problem);
            }
        }
        for (name, limit) in &self.rate_limits {
            if let Some(problem) = limit.problem() {
                p.push(&format!("rate_limits.{name}"), problem);
            }
        }
        for (i, window) in self.maintenance.iter().enumerate() {
            let check: Result<crate::resilience::maintenance::Window, String> = window.try_into();
            if let Err(problem) = check {
                p.push(&format!("maintenance[{i}]"), problem);
            }
        }
        for (name, section) in &self.flavors {
            self.flavor(name, section, &base_runtime, &mut p);
        }
        p.done()
    }

    fn flavor(&self, name: &str, section: &Value, base_problems: &[Problem], p: &mut Problems) {
        let path = format!("flavors.{name}");
        p.result(&path, name_like(name, "_-"));
        let overrides = match section {
            Value::Null => return,
            Value::Mapping(map) => match map.get("runtime") {
                None | Some(Value::Null) => return,
                Some(overrides) => overrides,
            },
            _ => {
                p.push(&path, "must be a mapping");
                return;
            }
        };
        let prefix = KeyPath::of_keys(&["flavors", name, "runtime"]);
        let (merged, problems) = self.runtime.with_overrides(overrides, &prefix);
        p.extend_at("", problems);
        if let Some(merged) = merged {
            // Problems inherited from the base runtime are reported once, there.
            let own = runtime(&merged)
                .into_iter()
                .filter(|problem| !base_problems.contains(problem));
            p.extend_at(&prefix.to_string(), own);
        }
    }
}

/// A part of the deployment a command connects to; its connection setting
/// is required only by the commands that use it (`produce` needs no store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `kafka.brokers`.
    Kafka,
    /// `store.url`.
    Store,
}

impl Settings {
    /// Checks that the connection settings `needs` names are set (their
    /// format is checked by [`Settings::validate`] whenever they are).
    pub fn require(&self, needs: &[Need]) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if needs.contains(&Need::Kafka) && self.kafka.brokers.trim().is_empty() {
            problems.push(Problem::new(
                "kafka.brokers",
                "is required: bootstrap servers as host:port[,host:port...] (e.g. via CEH__KAFKA__BROKERS)",
            ));
        }
        if needs.contains(&Need::Store) && self.store.url.expose().is_empty() {
            problems.push(Problem::new(
                "store.url",
                "is required (e.g. via CEH__STORE__URL)",
            ));
        }
        match problems.is_empty() {
            true => Ok(()),
            false => Err(ConfigError::Invalid(problems)),
        }
    }
}

fn kafka(k: &KafkaSettings, p: &mut Problems) {
    let brokers: Vec<&str> = k.brokers.split(',').map(str::trim).collect();
    if !k.brokers.trim().is_empty() {
        p.check(
            brokers
                .iter()
                .all(|b| !b.is_empty() && !b.contains(char::is_whitespace)),
            "kafka.brokers",
            || "must be a comma-separated list of host:port without empty entries".into(),
        );
    }
    p.check(!k.group_id.is_empty(), "kafka.group_id", || {
        "must not be empty".into()
    });
    p.result("kafka.group_id", template(&k.group_id, &["flavor"]));
    p.check(!k.topics.is_empty(), "kafka.topics", || {
        "must list at least one topic".into()
    });
    for (i, topic) in k.topics.iter().enumerate() {
        p.result(&format!("kafka.topics[{i}]"), topic_name(topic));
        p.check(
            !k.topics[..i].contains(topic),
            &format!("kafka.topics[{i}]"),
            || format!("duplicate topic `{topic}`"),
        );
    }
    p.result("kafka.produce_topic", topic_name(&k.produce_topic));
    p.result("kafka.commands_topic", topic_name(&k.commands_topic));
    p.result(
        "kafka.session_timeout_ms",
        in_range(k.session_timeout_ms, 1, 3_600_000),
    );
    p.result(
        "kafka.max_poll_interval_ms",
        in_range(k.max_poll_interval_ms, 1, 86_400_000),
    );
    p.check(
        k.max_poll_interval_ms >= k.session_timeout_ms,
        "kafka.max_poll_interval_ms",
        || "must be at least kafka.session_timeout_ms".into(),
    );
    p.check(
        k.commit_interval_ms >= 1,
        "kafka.commit_interval_ms",
        || "must be at least 1".into(),
    );
    if let Some(security) = &k.security {
        let sasl = security.protocol.uses_sasl();
        let has_user = security
            .sasl_username
            .as_ref()
            .is_some_and(|u| !u.is_empty());
        let has_password = security
            .sasl_password
            .as_ref()
            .is_some_and(|s| !s.expose().is_empty());
        let protocol = security.protocol.as_str();
        for (field, present) in [("sasl_username", has_user), ("sasl_password", has_password)] {
            p.check(
                present == sasl,
                &format!("kafka.security.{field}"),
                || match sasl {
                    true => format!("is required with protocol `{protocol}`"),
                    false => format!("is only used with sasl_* protocols, not `{protocol}`"),
                },
            );
        }
        if let Some(mechanism) = &security.sasl_mechanism {
            p.check(
                SASL_MECHANISMS.contains(&mechanism.as_str()),
                "kafka.security.sasl_mechanism",
                || format!("must be one of {}", SASL_MECHANISMS.join(", ")),
            );
        }
    }
    for key in k.client.keys() {
        let path = format!("kafka.client.{key}");
        let well_formed = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.')
            && !key.starts_with('.')
            && !key.ends_with('.')
            && !key.contains("..");
        p.check(well_formed, &path, || {
            "is not a librdkafka property name (lowercase words separated by dots)".into()
        });
        if let Some((_, setting)) = RESERVED_CLIENT_KEYS.iter().find(|(k, _)| k == key) {
            p.push(
                &path,
                format!("is controlled by `{setting}`; set that instead"),
            );
        }
    }
}

fn store(s: &StoreSettings, p: &mut Problems) {
    let url = s.url.expose();
    if !url.is_empty() {
        let scheme = url.split(':').next().unwrap_or_default();
        if !matches!(scheme, "sqlite" | "postgres" | "postgresql") || !url.contains(':') {
            // Echo the scheme only if it cannot be part of a secret.
            let short = scheme.len() <= 16 && scheme.chars().all(|c| c.is_ascii_alphanumeric());
            let shown = if short {
                format!(" `{scheme}:`")
            } else {
                String::new()
            };
            p.push(
                "store.url",
                format!(
                    "unsupported scheme{shown}: must start with sqlite:, postgres: or postgresql:"
                ),
            );
        }
    }
    p.check(s.max_connections >= 1, "store.max_connections", || {
        "must be at least 1".into()
    });
    p.check(s.ledger_ttl_hours >= 1, "store.ledger_ttl_hours", || {
        "must be at least 1".into()
    });
}

fn telemetry(t: &TelemetrySettings, p: &mut Problems) {
    let parsed = crate::telemetry::log_filter::parse(&t.log_level);
    p.check(parsed.is_ok(), "telemetry.log_level", || {
        let reason = parsed.err().unwrap_or_default();
        format!("is not a valid tracing filter directive ({reason})")
    });
    if let Some(otlp) = &t.otlp {
        let scheme_ok = ["http://", "https://"]
            .iter()
            .any(|s| otlp.endpoint.len() > s.len() && otlp.endpoint.starts_with(s));
        p.check(scheme_ok, "telemetry.otlp.endpoint", || {
            "must be an http:// or https:// URL".into()
        });
        p.check(
            (0.0..=1.0).contains(&otlp.sample_ratio),
            "telemetry.otlp.sample_ratio",
            || format!("must be between 0 and 1 (got {})", otlp.sample_ratio),
        );
        for name in otlp.headers.keys() {
            let ok = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            p.check(ok, &format!("telemetry.otlp.headers.{name}"), || {
                "is not a valid header name".into()
            });
        }
    }
}

/// Problems of one runtime section, with paths relative to it.
fn runtime(r: &RuntimeSettings) -> Vec<Problem> {
    let mut p = Problems::default();
    p.result("max_in_flight", in_range(r.max_in_flight, 1, 10_000));
    p.result(
        "buffer.max_records",
        in_range(r.buffer.max_records, 1, 1_000_000),
    );
    p.check(r.buffer.max_bytes >= 64 << 10, "buffer.max_bytes", || {
        "must be at least 65536".into()
    });
    p.check(r.handler_timeout_ms >= 1, "handler_timeout_ms", || {
        "must be at least 1".into()
    });
    p.check(
        r.drain_timeout_ms <= r.shutdown_grace_ms,
        "drain_timeout_ms",
        || "must not exceed shutdown_grace_ms".into(),
    );
    let retry = &r.retry;
    p.check(
        retry.initial_backoff_ms >= 1,
        "retry.initial_backoff_ms",
        || "must be at least 1".into(),
    );
    p.check(
        retry.initial_backoff_ms <= retry.max_backoff_ms,
        "retry.initial_backoff_ms",
        || {
            format!(
                "must not exceed retry.max_backoff_ms ({})",
                retry.max_backoff_ms
            )
        },
    );
    p.check(retry.max_attempts >= 1, "retry.max_attempts", || {
        "must be at least 1".into()
    });
    p.check(retry.max_elapsed_ms >= 1, "retry.max_elapsed_ms", || {
        "must be at least 1".into()
    });
    p.check(
        retry.on_exhausted != OnExhausted::DeadLetter || r.dlq.enabled,
        "retry.on_exhausted",
        || "`dead-letter` requires dlq.enabled: true".into(),
    );
    let dlq = &r.dlq;
    let dlq_topic = template(&dlq.topic, &["topic", "flavor"])
        .and_then(|()| topic_name(&dlq.topic_for("case-events", "flavor")));
    p.result("dlq.topic", dlq_topic);
    p.check(
        dlq.max_ratio > 0.0 && dlq.max_ratio <= 1.0,
        "dlq.max_ratio",
        || {
            format!(
                "must be greater than 0 and at most 1 (got {})",
                dlq.max_ratio
            )
        },
    );
    p.check(dlq.window >= 1, "dlq.window", || {
        "must be at least 1".into()
    });
    p.check(dlq.min_events <= dlq.window, "dlq.min_events", || {
        format!("must not exceed dlq.window ({})", dlq.window)
    });
    p.check(r.batch.max_events >= 1, "batch.max_events", || {
        "must be at least 1".into()
    });
    p.check(r.batch.max_bytes >= 1, "batch.max_bytes", || {
        "must be at least 1".into()
    });
    p.result("timers.batch", in_range(r.timers.batch, 1, 10_000));
    p.check(r.timers.poll_ms >= 10, "timers.poll_ms", || {
        "must be at least 10".into()
    });
    p.check(
        r.timers.lease_ms > r.handler_timeout_ms,
        "timers.lease_ms",
        || format!("must exceed handler_timeout_ms ({})", r.handler_timeout_ms),
    );
    super::deliveries::validate(&r.deliveries, &mut p);
    p.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_only_lack_brokers_when_kafka_is_needed() {
        let settings = Settings::default();
        assert_eq!(settings.problems(), vec![]);
        assert!(settings.require(&[Need::Store]).is_ok());
        let Err(ConfigError::Invalid(problems)) = settings.require(&[Need::Kafka, Need::Store])
        else {
            panic!("brokers are required when Kafka is needed");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "kafka.brokers");
    }

    #[test]
    fn a_timer_lease_under_a_second_or_an_empty_batch_is_refused() {
        let mut settings = Settings::default();
        settings.runtime.timers.lease_ms = 999;
        settings.runtime.timers.batch = 0;
        let paths: Vec<String> = settings.problems().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["runtime.timers.batch", "runtime.timers.lease_ms"]);
    }
}
