//! Integration tests for the layered configuration in `config/`.

use std::path::{Path, PathBuf};

use case_event_handler::settings::{
    load, ConfigError, LoadOptions, LogFormat, Need, OnExhausted, OrderingMode, RuntimeSettings,
    Settings,
};
use serde::Deserialize;

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config")
}

fn options(env: &str) -> LoadOptions {
    LoadOptions {
        config_dir: config_dir(),
        env: env.to_owned(),
        ..LoadOptions::default()
    }
}

fn with_vars(mut opts: LoadOptions, vars: &[(&str, &str)]) -> LoadOptions {
    let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    opts.env_vars.extend(vars);
    opts
}

fn with_sets(mut opts: LoadOptions, sets: &[&str]) -> LoadOptions {
    opts.overrides.extend(sets.iter().map(ToString::to_string));
    opts
}

/// `local` options plus an extra file with `yaml` (kept alive by the guard).
fn with_extra(yaml: &str) -> (LoadOptions, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("extra.yaml");
    std::fs::write(&file, yaml).unwrap();
    let opts = LoadOptions {
        extra_file: Some(file),
        ..options("local")
    };
    (opts, dir)
}

fn load_ok(opts: &LoadOptions) -> Settings {
    load(opts).unwrap_or_else(|e| panic!("expected valid config, got:\n{e}"))
}

/// Loads expecting `ConfigError::Invalid`; returns `path: message` lines.
fn problems(opts: &LoadOptions) -> Vec<String> {
    match load(opts) {
        Err(ConfigError::Invalid(problems)) => problems.iter().map(ToString::to_string).collect(),
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

fn assert_reported(problems: &[String], prefix: &str) {
    assert!(
        problems.iter().any(|p| p.starts_with(prefix)),
        "no problem starting with `{prefix}` in {problems:#?}"
    );
}

#[test]
fn base_and_local_load_clean() {
    let s = load_ok(&options("local"));
    assert_eq!(s.environment, "local");
    assert_eq!(s.kafka.brokers, "127.0.0.1:9092");
    assert_eq!(s.kafka.group_id_for("notify"), "ceh.notify");
    assert_eq!(s.kafka.topics, ["case-events"]);
    assert!(s.store.is_sqlite());
    assert_eq!(s.telemetry.log_format, LogFormat::Pretty);
    assert_eq!(s.runtime.ordering, OrderingMode::Key);
    assert_eq!(s.runtime.retry.on_exhausted, OnExhausted::DeadLetter);
    assert_eq!(
        s.runtime.dlq.topic_for("case-events", "notify"),
        "case-events.dlq.notify"
    );

    let ci = load_ok(&options("ci"));
    assert_eq!(
        ci.store.url.expose(),
        "postgres://postgres@127.0.0.1:5432/ceh_test"
    );
    assert_eq!(ci.telemetry.log_format, LogFormat::Json);
}

#[test]
fn production_requires_brokers_and_store_url_from_env() {
    // Loading checks formats; what a command connects to is required by it.
    let bare = load_ok(&options("production"));
    let Err(ConfigError::Invalid(found)) = bare.require(&[Need::Kafka, Need::Store]) else {
        panic!("production without brokers and store.url must be refused");
    };
    let found: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_reported(&found, "kafka.brokers: is required");
    assert_reported(&found, "store.url: is required");

    let opts = with_vars(
        options("production"),
        &[
            ("CEH__KAFKA__BROKERS", "b1:9092,b2:9092"),
            ("CEH__STORE__URL", "postgres://ceh:pr0d-pw@db:5432/ceh"),
        ],
    );
    let s = load_ok(&opts);
    assert_eq!(s.environment, "production");
    assert_eq!(s.kafka.brokers, "b1:9092,b2:9092");
    assert_eq!(s.store.redacted_url(), "postgres://ceh:***@db:5432/ceh");
    assert!(!s.render_masked().contains("pr0d-pw"));
}

#[test]
fn base_yaml_spells_out_the_code_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(config_dir().join("base.yaml"), dir.path().join("base.yaml")).unwrap();
    std::fs::write(dir.path().join("bare.yaml"), "kafka: {brokers: 'b:9092'}\n").unwrap();
    let opts = LoadOptions {
        config_dir: dir.path().to_owned(),
        env: "bare".to_owned(),
        ..LoadOptions::default()
    };
    let mut expected = Settings {
        environment: "bare".to_owned(),
        ..Settings::default()
    };
    expected.kafka.brokers = "b:9092".to_owned();
    assert_eq!(load_ok(&opts), expected);
}

#[test]
fn env_var_overrides_file() {
    let opts = with_vars(
        options("local"),
        &[
            ("CEH__KAFKA__BROKERS", "h:9092"),
            ("CEH__RUNTIME__RETRY__MAX_ATTEMPTS", "5"),
            ("CEH__RUNTIME__DLQ__ENABLED", "true"),
            ("CEH__RUNTIME__DLQ__MAX_RATIO", "0.25"),
            ("UNRELATED", "ignored"),
            ("CEH_ENV", "ignored-too"),
        ],
    );
    let s = load_ok(&opts);
    assert_eq!(s.kafka.brokers, "h:9092");
    assert_eq!(s.runtime.retry.max_attempts, 5);
    assert_eq!(s.runtime.dlq.max_ratio, 0.25);
}

#[test]
fn set_overrides_env_var() {
    let opts = with_sets(
        with_vars(
            options("local"),
            &[("CEH__RUNTIME__RETRY__MAX_ATTEMPTS", "5")],
        ),
        &[
            "runtime.retry.max_attempts=7",
            "kafka.topics=[a, b]",
            "telemetry.log_format=null",
        ],
    );
    let s = load_ok(&opts);
    assert_eq!(s.runtime.retry.max_attempts, 7);
    assert_eq!(s.kafka.topics, ["a", "b"]);
    // `null` resets a key to its built-in default (local.yaml says pretty).
    assert_eq!(s.telemetry.log_format, LogFormat::Auto);
}

#[test]
fn numeric_looking_strings_are_kept_verbatim() {
    let opts = with_vars(
        options("local"),
        &[
            ("CEH__KAFKA__SECURITY__PROTOCOL", "SASL_SSL"),
            ("CEH__KAFKA__SECURITY__SASL_USERNAME", "007"),
            ("CEH__KAFKA__SECURITY__SASL_PASSWORD", "0123 #4"),
        ],
    );
    let s = load_ok(&opts);
    let security = s.kafka.security.as_ref().unwrap();
    assert_eq!(security.sasl_username.as_deref(), Some("007"));
    assert_eq!(security.sasl_password.as_ref().unwrap().expose(), "0123 #4");
}

#[test]
fn dotted_librdkafka_keys_via_set() {
    let opts = with_sets(
        options("local"),
        &["kafka.client.socket.keepalive.enable=true"],
    );
    let s = load_ok(&opts);
    assert_eq!(s.kafka.client["socket.keepalive.enable"], "true");

    let found = problems(&with_sets(
        options("local"),
        &["kafka.client.Bad_Key=1", "kafka.client.group.id=x"],
    ));
    assert_reported(&found, "kafka.client.Bad_Key: is not a librdkafka property");
    assert_reported(
        &found,
        "kafka.client.group.id: is controlled by `kafka.group_id`",
    );
}

#[test]
fn unknown_key_in_file_names_its_path_and_file() {
    let (opts, _guard) = with_extra("kafka:\n  bogus_key: 1\n");
    let err = load(&opts).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("kafka.bogus_key: unknown field"), "{text}");
    assert!(text.contains("extra.yaml"), "origin missing: {text}");
    assert_eq!(err.problems().len(), 1);
}

/// `--set` override => start of the problem it must produce.
const BAD_VALUES: &str = "
    runtime.max_in_flight=0 => runtime.max_in_flight: must be between 1 and 10000
    runtime.max_in_flight=lots => runtime.max_in_flight: invalid type
    runtime.ordering=sideways => runtime.ordering: unknown variant `sideways`
    runtime.retry.bogus=1 => runtime.retry.bogus: unknown field
    store.url=mysql://u:pw@x => store.url: unsupported scheme `mysql:`
    telemetry.http_addr=nowhere => telemetry.http_addr:
    runtime.retry.initial_backoff_ms=60000 => runtime.retry.initial_backoff_ms: must not exceed
    kafka.topics=[ok, 'not ok'] => kafka.topics[1]: `not ok` is not a valid Kafka topic";

#[test]
fn bad_values_name_their_path() {
    let cases = BAD_VALUES
        .trim()
        .lines()
        .map(|l| l.trim().split_once(" => ").unwrap());
    for (set, expected) in cases {
        let found = problems(&with_sets(options("local"), &[set]));
        assert_reported(&found, expected);
        let leaked = found.iter().any(|p| p.contains("pw@"));
        assert!(!leaked, "secret leaked: {found:?}");
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let (opts, _guard) = with_extra(
        "kafka: {bogus_key: 1, session_timeout_ms: soon}\n\
         store: {url: 'mysql://x'}\n\
         runtime:\n  max_in_flight: 0\n  ordering: sideways\n  retry: {max_attempts: 0, bogus: 1}\n",
    );
    let err = load(&opts).unwrap_err();
    let found: Vec<String> = err.problems().iter().map(ToString::to_string).collect();
    for expected in [
        "kafka.bogus_key: unknown field",
        "kafka.session_timeout_ms: invalid type",
        "store.url: unsupported scheme",
        "runtime.max_in_flight: must be between",
        "runtime.ordering: unknown variant",
        "runtime.retry.max_attempts: must be at least 1",
        "runtime.retry.bogus: unknown field",
    ] {
        assert_reported(&found, expected);
    }
    assert_eq!(found.len(), 7, "{found:#?}");
    // Display: a header, then one `path: message` line per problem.
    let text = err.to_string();
    assert_eq!(text.lines().count(), 8, "{text}");
    assert!(text
        .lines()
        .any(|l| l.starts_with("runtime.max_in_flight: ")));
}

#[test]
fn unknown_env_var_is_an_error() {
    let found = problems(&with_vars(
        options("local"),
        &[("CEH__FOO__BAR", "1"), ("CEH__RUNTIME__BOGUS", "2")],
    ));
    assert_reported(&found, "foo: unknown field, expected one of `environment`");
    let origin_named = found.iter().any(|p| p.contains("CEH__FOO__BAR"));
    assert!(origin_named, "{found:#?}");
    assert_reported(&found, "runtime.bogus: unknown field");
}

#[test]
fn malformed_inputs_are_parse_or_io_errors() {
    let parse_error_path = |opts: &LoadOptions| match load(opts) {
        Err(ConfigError::Parse { path, .. }) => path,
        other => panic!("expected ConfigError::Parse, got {other:?}"),
    };
    let (opts, _guard) = with_extra("kafka: [unclosed\n");
    assert!(parse_error_path(&opts).ends_with("extra.yaml"));
    let opts = with_sets(options("local"), &["no-equals-sign"]);
    assert_eq!(parse_error_path(&opts), "--set no-equals-sign");
    let opts = with_vars(options("local"), &[("CEH__KAFKA____BROKERS", "x")]);
    assert_eq!(parse_error_path(&opts), "CEH__KAFKA____BROKERS");
    assert_eq!(parse_error_path(&options("../etc")), "--env");
    let missing = load(&options("staging"));
    assert!(
        matches!(missing, Err(ConfigError::Io { .. })),
        "{missing:?}"
    );
}

#[test]
fn secrets_never_printed() {
    let (opts, _guard) = with_extra(
        "kafka:\n  security:\n    protocol: sasl_ssl\n    sasl_username: ceh\n    sasl_password: kafka-pw-1\n  \
           client: {ssl.key.password: tls-pw-2}\n\
         store: {url: 'postgres://ceh:db-pw-3@db/ceh'}\n\
         telemetry:\n  otlp: {endpoint: 'https://otel:4317', headers: {x-api-key: otlp-key-4}}\n\
         flavors:\n  notify: {api_token: flavor-tok-5, webhook: 'https://u:hook-pw-6@hooks/x'}\n",
    );
    let s = load_ok(&opts);
    let rendered = s.render_masked();
    let debug = format!("{s:?} {:?} {:#?}", s.kafka, s.store);
    for secret in "kafka-pw-1 tls-pw-2 db-pw-3 otlp-key-4 flavor-tok-5 hook-pw-6".split(' ') {
        let shown = rendered.contains(secret);
        assert!(!shown, "{secret} in render_masked:\n{rendered}");
        assert!(!debug.contains(secret), "{secret} in Debug:\n{debug}");
    }
    assert!(rendered.contains("***"));
    assert!(rendered.contains("https://u:***@hooks/x"));
    assert_eq!(s.store.url.expose(), "postgres://ceh:db-pw-3@db/ceh");
    // The rendering is valid YAML describing the effective config.
    let reparsed: serde_yaml::Value = serde_yaml::from_str(&rendered).unwrap();
    assert_eq!(reparsed["kafka"]["brokers"], "127.0.0.1:9092");
}

#[test]
fn flavor_runtime_overrides_merge() {
    let (opts, _guard) = with_extra(
        "flavors:\n  notify:\n    runtime:\n      max_in_flight: 8\n      retry: {max_attempts: 3}\n    \
         webhook: https://example.test\n",
    );
    let s = load_ok(&opts);
    let notify = s.runtime_for("notify");
    assert_eq!(notify.max_in_flight, 8);
    assert_eq!(notify.retry.max_attempts, 3);
    assert_eq!(
        notify.retry.initial_backoff_ms,
        s.runtime.retry.initial_backoff_ms
    );
    assert_eq!(notify.dlq, s.runtime.dlq);
    assert_eq!(s.runtime_for("other"), s.runtime);
    assert_eq!(s.runtime, RuntimeSettings::default());
    assert!(s.flavor_section("notify").unwrap()["runtime"].is_mapping());
}

#[test]
fn flavor_runtime_overrides_are_validated() {
    let (opts, _guard) = with_extra(
        "runtime: {max_in_flight: 0}\n\
         flavors:\n  notify:\n    runtime: {bogus: 1, retry: {max_attempts: 0}, ordering: sideways}\n",
    );
    let found = problems(&opts);
    assert_reported(&found, "runtime.max_in_flight: must be between");
    assert_reported(&found, "flavors.notify.runtime.bogus: unknown field");
    assert_reported(&found, "flavors.notify.runtime.ordering: unknown variant");
    assert_reported(
        &found,
        "flavors.notify.runtime.retry.max_attempts: must be at least 1",
    );
    // Inherited from the base runtime: reported once, not again per flavor.
    assert_eq!(found.len(), 4, "{found:#?}");
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct NotifyConfig {
    webhook: String,
    #[serde(default)]
    batch_size: u32,
}

#[test]
fn flavor_config_deserializes_section_without_runtime() {
    let (opts, _guard) = with_extra(
        "flavors:\n  notify:\n    runtime: {max_in_flight: 8}\n    webhook: https://example.test\n",
    );
    let s = load_ok(&opts);
    let config: NotifyConfig = s.flavor_config("notify").unwrap();
    assert_eq!(config.webhook, "https://example.test");

    let (opts, _guard) =
        with_extra("flavors:\n  notify: {webhook: x, batch_size: many, bogus: 1}\n");
    let err = load_ok(&opts)
        .flavor_config::<NotifyConfig>("notify")
        .unwrap_err();
    let found: Vec<String> = err.problems().iter().map(ToString::to_string).collect();
    assert_reported(&found, "flavors.notify.batch_size: invalid type");
    assert_reported(&found, "flavors.notify.bogus: unknown field");

    let err = load_ok(&options("local"))
        .flavor_config::<NotifyConfig>("absent")
        .unwrap_err();
    assert_reported(&[err.to_string()], "invalid configuration");
    assert!(
        err.to_string()
            .contains("flavors.absent: missing field `webhook`"),
        "{err}"
    );
}
