//! Harness of the jira acceptance tests: the flavor built from YAML and a
//! rules directory of its own against the fake Jira, case event builders, webhook deliveries, contract checks.

use std::time::Duration;

use case_event_handler::event::pb::{
    self, Actor, ActorKind, CaseSnapshot, Origin, OriginChannel, Priority, StatusGroup,
};
use case_event_handler::event::{CaseEvent, Payload, SCHEMA_VERSION};
use case_event_handler::flavors::jira::{webhook, SPEC};
use case_event_handler::flavors::kit::EventPublisher;
use case_event_handler::flavors::kit::InboundRoute;
use case_event_handler::flavors::{BuildCtx, Built};
use case_event_handler::rules::{Reload, Rules, SecretResolver};
use case_event_handler::runtime::policy::RuntimeConfig;
use case_event_handler::settings::{KafkaSettings, Settings};
use case_event_handler::store::Store;
use serde_json::{json, Value};

use crate::contract::{self, Direction};
use crate::fakes::jira::FakeJira;
use crate::helpers::*;

pub const PROJECT: &str = "0190f000-0000-7000-8000-000000000001";
pub const EMAIL: &str = "case-sync@acme.test";
pub const TOKEN: &str = "api-token-1";
pub const SECRET: &str = "webhook-secret-1";
pub const BOT: &str = "acc-bot";
/// The webhook secret a rules edit switches to (secret name `jira-hook-2`).
pub const SECRET_2: &str = "webhook-secret-2";

/// The parts of the Jira Cloud v3 spec the tests use, and the ADF schema
/// (tests/specs/README.md).
const JIRA_SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/specs/jira/swagger-v3.v3.trimmed.json"
);
const ADF_SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/specs/jira/adf-schema/full.json"
);

/// `Basic base64(email:token)`, the header the fake expects.
pub fn basic_auth() -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{EMAIL}:{TOKEN}");
    let mut out = String::new();
    for chunk in raw.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

/// The project's rules file (`SEC.yaml`) for a fake at `url`, with the
/// Jira priority names `priorities`; the secrets by name.
pub fn rules_file(url: &str, priorities: &str) -> String {
    format!(
        "project: {{id: {PROJECT}}}
integrations:
  jira:
    enabled: true
    site_url: {url}
    email: {EMAIL}
    secret: jira-token
    webhook_secret: jira-hook
    project_key: OPS
    account_id: {BOT}
    fields: {{description: one-way, labels: one-way}}
    priorities: {priorities}
    users: {{u-ann: acc-ann}}
    label_attributes: [teams]
"
    )
}

/// The Jira priority names of the harness's project.
pub const PRIORITIES: &str = "{P1: Highest, P2: High, P3: Medium, P4: Low, P5: Lowest}";

/// A fresh database, topic and group, the fake, and the built flavor.
pub struct Harness {
    pub fake: FakeJira,
    pub store: Store,
    pub topic: String,
    pub group: String,
    pub built: Built,
    /// The rules in force, from `dir`.
    pub rules: Rules,
    dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start(lookup_window_ms: u64) -> Self {
        let fake = FakeJira::start("OPS", &basic_auth()).await;
        let (topic, group) = (unique("it-jira"), unique("g"));
        create_topic(&topic, 1).await;
        let store = pg_store().await;
        let mut settings = Settings {
            kafka: KafkaSettings {
                brokers: brokers(),
                produce_topic: topic.clone(),
                ..KafkaSettings::default()
            },
            ..Settings::default()
        };
        // The flavor's own section; the project's settings are in the rules.
        let section = format!("{{timeout_ms: 2000, create_lookup_window_ms: {lookup_window_ms}}}");
        (settings.flavors).insert("jira".into(), serde_yaml::from_str(&section).unwrap());
        let dir = tempfile::tempdir().expect("a rules directory");
        std::fs::write(
            dir.path().join("SEC.yaml"),
            rules_file(&fake.url, PRIORITIES),
        )
        .unwrap();
        settings.rules.dir = Some(dir.path().to_owned());
        settings
            .rules
            .secrets
            .insert("jira_token".into(), TOKEN.into());
        settings
            .rules
            .secrets
            .insert("jira_hook".into(), SECRET.into());
        settings
            .rules
            .secrets
            .insert("jira_hook_2".into(), SECRET_2.into());
        let rules = Rules::load(dir.path()).unwrap_or_else(|e| panic!("the rules load: {e}"));
        let view = rules.view(SecretResolver::new(&settings.rules));
        let publisher = EventPublisher::new(producer(), &settings.kafka, "jira");
        let ctx = BuildCtx::new(&SPEC, &settings, Some(store.clone()), Some(publisher));
        let built = (SPEC.build)(ctx.with_rules(Some(view)))
            .await
            .unwrap_or_else(|e| panic!("jira builds: {e}"));
        Self {
            fake,
            store,
            topic,
            group,
            built,
            rules,
            dir,
        }
    }

    /// Rewrites the project's rules file and reloads it, as the poll does.
    pub fn edit_rules(&self, text: &str) {
        std::fs::write(self.dir.path().join("SEC.yaml"), text).unwrap();
        match self.rules.reload() {
            Reload::Applied(_) => {}
            other => panic!("the edit is not applied: {other:?}"),
        }
    }

    /// Runs the flavor over the topic with `config`.
    pub fn pipeline(&self, config: RuntimeConfig) -> Pipeline {
        spawn_pipeline(
            "jira",
            self.built.processor.clone(),
            Some(self.store.clone()),
            &self.topic,
            config,
            group_props(&self.group),
        )
    }

    /// Waits until the group committed everything on the topic.
    pub async fn drained(&self, within: Duration) {
        let (group, topic) = (self.group.clone(), self.topic.clone());
        eventually("every record committed", within, || {
            committed(&group, &topic, 1) == end_offsets(&topic, 1)
        })
        .await;
    }

    /// Serves the flavor's routes on 127.0.0.1:0; returns the webhook URL.
    pub async fn serve_webhook(&mut self) -> String {
        let routes = std::mem::take(&mut self.built.routes);
        let routes = InboundRoute::merge_all(routes).expect("jira has routes");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}{}", listener.local_addr().unwrap(), webhook::PATH);
        tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
        url
    }

    /// Every request the fake saw validates against the vendor spec, and
    /// every ADF body against the ADF schema.
    pub fn assert_contract(&self) {
        let spec = contract::load_spec(JIRA_SPEC);
        let mut problems = Vec::new();
        let requests = self.fake.requests();
        assert!(!requests.is_empty(), "the fake saw no request");
        for r in &requests {
            let what = format!("{} {}", r.method, r.path);
            if let Err(e) = contract::validate_request(spec, &r.method, &r.path, &r.body) {
                problems.push(format!("{what}: {e:?}"));
            }
            for body in [&r.body["fields"]["description"], &r.body["body"]] {
                if body.is_object() {
                    if let Err(e) = validate_adf(body) {
                        problems.push(format!("{what} ADF: {e:?}"));
                    }
                }
            }
        }
        assert!(problems.is_empty(), "contract violations: {problems:#?}");
    }
}

/// Validates an ADF document against the ADF JSON schema.
pub fn validate_adf(doc: &Value) -> Result<(), Vec<String>> {
    let adf = contract::load_spec(ADF_SCHEMA);
    let root = json!({"$ref": "#/definitions/doc_node"});
    contract::validate_schema(adf, &root, doc, Direction::Request)
}

/// Builds the events of one case, version by version.
pub struct CaseStream {
    pub id: String,
    pub snapshot: CaseSnapshot,
    version: u64,
}

impl CaseStream {
    pub fn new(title: &str) -> Self {
        let id = uuid::Uuid::now_v7().to_string();
        let mut snapshot = CaseSnapshot {
            id: id.clone(),
            key: format!("SEC-{}", &id[id.len() - 4..]),
            project_id: PROJECT.into(),
            title: title.into(),
            description: "Disk **full** on `db-1`:\n- check [runbook](https://runbooks.test/disk)\n- page *storage*".into(),
            status_name: "Open".into(),
            status_group: StatusGroup::Open as i32,
            priority: Priority::P3 as i32,
            ..CaseSnapshot::default()
        };
        snapshot.attributes.insert(
            "teams".into(),
            pb::StringList {
                values: vec!["sre core".into()],
            },
        );
        Self {
            id,
            snapshot,
            version: 0,
        }
    }

    /// The next event: `change` updates the snapshot, `payload` says what happened.
    pub fn next(&mut self, payload: Payload, change: impl FnOnce(&mut CaseSnapshot)) -> CaseEvent {
        self.version += 1;
        change(&mut self.snapshot);
        let now = chrono::Utc::now();
        CaseEvent {
            event_id: uuid::Uuid::now_v7().to_string(),
            event_type: payload.event_type().as_str().into(),
            schema_version: SCHEMA_VERSION,
            org_id: "org-1".into(),
            project_id: PROJECT.into(),
            project_key: "SEC".into(),
            case_id: self.id.clone(),
            case_key: self.snapshot.key.clone(),
            aggregate_version: self.version,
            occurred_at: Some(case_event_handler::event::Timestamp {
                seconds: now.timestamp(),
                nanos: 0,
            }),
            actor: Some(Actor {
                kind: ActorKind::User as i32,
                id: "u-ann".into(),
                display_name: "Ann".into(),
            }),
            origin: Some(Origin {
                channel: OriginChannel::Ui as i32,
                external_ref: None,
            }),
            case_after: Some(self.snapshot.clone()),
            payload: Some(payload),
            ..CaseEvent::default()
        }
    }

    pub fn created(&mut self) -> CaseEvent {
        let snapshot = Box::new(self.snapshot.clone());
        self.next(
            Payload::CaseCreated(pb::CaseCreated {
                snapshot: Some(snapshot),
                creation_source: "Manual".into(),
            }),
            |_| {},
        )
    }

    pub fn retitled(&mut self, title: &str) -> CaseEvent {
        let old = self.snapshot.title.clone();
        let new = title.to_string();
        self.next(
            Payload::CaseTitleChanged(pb::CaseTitleChanged {
                old,
                new: new.clone(),
            }),
            |s| s.title = new,
        )
    }

    pub fn prioritized(&mut self, to: Priority) -> CaseEvent {
        let from = self.snapshot.priority;
        self.next(
            Payload::CasePriorityChanged(pb::CasePriorityChanged {
                from,
                to: to as i32,
            }),
            |s| s.priority = to as i32,
        )
    }

    pub fn status(&mut self, name: &str, group: StatusGroup) -> CaseEvent {
        let (from_name, from_group) = (
            self.snapshot.status_name.clone(),
            self.snapshot.status_group,
        );
        let name = name.to_string();
        self.next(
            Payload::CaseStatusChanged(pb::CaseStatusChanged {
                from_status_name: from_name,
                to_status_name: name.clone(),
                from_group,
                to_group: group as i32,
                ..Default::default()
            }),
            |s| {
                s.status_name = name;
                s.status_group = group as i32;
            },
        )
    }
}

/// POSTs a webhook body with these headers; returns status and JSON answer.
pub async fn deliver(url: &str, body: &[u8], headers: &[(&str, String)]) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        rb = rb.header(*k, v);
    }
    let response = rb.send().await.expect("webhook answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Signed delivery headers for `body`.
pub fn signed(body: &[u8], delivery_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-hub-signature", webhook::sign(SECRET.as_bytes(), body)),
        ("x-atlassian-webhook-identifier", delivery_id.into()),
        ("x-atlassian-webhook-retry", "0".into()),
    ]
}

/// A `jira:issue_updated` body with one changelog item.
pub fn issue_updated(issue_id: &str, key: &str, by: &str, item: Value) -> Vec<u8> {
    let body = json!({
        "timestamp": chrono::Utc::now().timestamp_millis(),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": {"accountId": by, "displayName": "Someone"},
        "issue": {"id": issue_id, "key": key, "fields": {
            "status": {"name": "To Do", "statusCategory": {"key": "new"}}
        }},
        "changelog": {"id": "100", "items": [item]},
    });
    serde_json::to_vec(&body).unwrap()
}

/// Runtime limits for these tests: fast retries, room for lookups.
pub fn config(max_attempts: u32) -> RuntimeConfig {
    let mut c = test_config();
    c.retry.max_attempts = max_attempts;
    c.handler_timeout = Duration::from_secs(20);
    c
}
