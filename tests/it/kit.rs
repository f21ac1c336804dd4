//! The test kit's `spawn_flavor`: a flavor through the production wiring
//! (`settings::load` of the `ci` environment plus the test's YAML,
//! `app::run` with its store, publisher, DLQ and Kafka group), on the test's
//! own topic, group and database.

use std::path::Path;
use std::time::Duration;

use case_event_handler::app::{self, SourceSpec};
use case_event_handler::flavors;
use case_event_handler::runtime::RunSummary;
use case_event_handler::settings::{self, LoadOptions, Settings};
use case_event_handler::store::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

/// A running flavor.
pub struct FlavorRun {
    /// Its source topic.
    pub topic: String,
    /// Its consumer group.
    pub group: String,
    /// Its database.
    pub store: Store,
    /// The settings it runs with.
    pub settings: Settings,
    flavor: &'static str,
    yaml: String,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<RunSummary>>>,
}

impl FlavorRun {
    /// Stops it as SIGTERM would and returns its summary.
    pub async fn stop(&mut self) -> RunSummary {
        self.shutdown.cancel();
        let task = self.task.take().expect("running");
        tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("the flavor stops within 60 s")
            .expect("the flavor's task")
            .expect("a clean run")
    }

    /// Waits until every record of its topic is committed; fails at once,
    /// with the flavor's error, if the flavor stops first.
    pub async fn caught_up(&mut self, partitions: i32, within: Duration) {
        let task = self.task.as_ref().expect("running");
        let (group, topic) = (&self.group, &self.topic);
        let mut stopped = false;
        eventually("all committed", within, || {
            stopped = task.is_finished();
            stopped || committed(group, topic, partitions) == end_offsets(topic, partitions)
        })
        .await;
        if stopped {
            let task = self.task.take().expect("running");
            let result = task.await.expect("the flavor's task");
            panic!("the flavor stopped before catching up: {result:?}");
        }
    }

    /// The same flavor, topic and database under a new consumer group (it
    /// reads the topic from the start again).
    pub async fn again(&self) -> FlavorRun {
        let url = self.settings.store.url.expose().to_string();
        start(self.flavor, &self.yaml, self.topic.clone(), &url).await
    }
}

/// Starts `flavor` as the binary would, with `yaml` merged over the `ci`
/// configuration (a flavor section, runtime overrides ...). The topic
/// (`partitions`), group and database are the test's own.
pub async fn spawn_flavor(flavor: &'static str, yaml: &str, partitions: i32) -> FlavorRun {
    let topic = unique(&format!("it-{flavor}"));
    create_topic(&topic, partitions).await;
    start(flavor, yaml, topic, &fresh_pg().await).await
}

async fn start(flavor: &'static str, yaml: &str, topic: String, db_url: &str) -> FlavorRun {
    let spec = flavors::find(flavor).expect("a registered flavor");
    let group = unique("g");
    let dir = tempfile::tempdir().expect("tempdir");
    let extra = dir.path().join("test.yaml");
    std::fs::write(&extra, yaml).expect("write the test's yaml");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let settings = settings::load(&LoadOptions {
        config_dir: root.join("config"),
        env: "ci".into(),
        extra_file: Some(extra),
        overrides: vec![
            format!("kafka.brokers={}", brokers()),
            format!("kafka.topics=[{topic}]"),
            format!("kafka.group_id={group}"),
            format!("store.url={db_url}"),
            "telemetry.http_addr=127.0.0.1:0".into(),
        ],
        env_vars: vec![],
    })
    .unwrap_or_else(|e| panic!("the test's settings load: {e}"));
    let store = app::open_store(&settings).await.expect("store");
    let shutdown = CancellationToken::new();
    let task = {
        let (settings, shutdown) = (settings.clone(), shutdown.clone());
        tokio::spawn(
            async move { app::run(&settings, spec, SourceSpec::Kafka, None, shutdown).await },
        )
    };
    FlavorRun {
        topic,
        group,
        store,
        settings,
        flavor,
        yaml: yaml.to_string(),
        shutdown,
        task: Some(task),
    }
}
