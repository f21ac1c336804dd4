//! `BuildCtx::rules`: refused to a row that does not declare `reads_rules`,
//! refused when `rules.dir` is not set, and a reload seen through the handle.

use std::sync::Mutex;

use futures::FutureExt;

use super::*;
use crate::rules::{Reload, Rules, RulesView, SecretResolver};

/// A row whose build takes the rules and leaves its handle in `TAKEN`.
fn row(reads_rules: bool) -> &'static FlavorSpec {
    Box::leak(Box::new(FlavorSpec {
        name: "rules-row",
        summary: "",
        style: Style::Single,
        needs_store: false,
        dependencies: &[],
        consumes: Consumes::all(),
        produces: Produces::NOTHING,
        metrics: &[],
        routes: &[],
        tables: &[],
        reads_rules,
        tools: None,
        config: &ConfigOf::<NoConfig>::KIND,
        build: |ctx| {
            async move {
                let view = ctx.rules()?;
                *TAKEN.lock().unwrap() = Some(view);
                Ok(Built::from(crate::flavors::timeline::processor()))
            }
            .boxed()
        },
    }))
}

static TAKEN: Mutex<Option<RulesView>> = Mutex::new(None);

const RULE: &str = "notification_rules:\n  - id: n1\n    triggers: [CASE_CREATED]\n    recipients: [{EMAIL: {email: a@example.com}}]\n";

async fn build(spec: &'static FlavorSpec, rules: Option<RulesView>) -> Result<Built, BuildError> {
    let settings = Settings::default();
    (spec.build)(BuildCtx::new(spec, &settings, None, None).with_rules(rules)).await
}

#[tokio::test]
async fn a_row_that_does_not_declare_reads_rules_is_refused_them() {
    let view = RulesView::fixed(Default::default(), SecretResolver::default());
    let Err(err) = build(row(false), Some(view)).await else {
        panic!("the build was not refused");
    };
    assert!(matches!(err, BuildError::Registry { .. }), "{err}");
    assert!(err.to_string().contains("reads_rules is false"), "{err}");
}

#[tokio::test]
async fn a_row_that_reads_rules_is_refused_without_rules_dir() {
    let Err(err) = build(row(true), None).await else {
        panic!("the build was not refused");
    };
    assert!(matches!(err, BuildError::NoRules("rules-row")), "{err}");
    assert!(
        err.to_string().contains("rules.dir is not configured"),
        "{err}"
    );
}

#[tokio::test]
async fn a_reload_is_seen_through_the_handle_and_old_snapshots_stay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SEC.yaml");
    std::fs::write(&path, RULE).unwrap();
    let rules = Rules::load(dir.path()).unwrap();
    let built = build(row(true), Some(rules.view(SecretResolver::default()))).await;
    built.expect("a row that declares reads_rules gets them");
    let view = TAKEN
        .lock()
        .unwrap()
        .take()
        .expect("the build took the rules");
    let copy = view.clone();
    let first = view.snapshot();
    assert_eq!(first.version(), rules.snapshot().version());

    let two = RULE.replace("n1", "n2");
    std::fs::write(
        &path,
        format!("{RULE}{}", two.trim_start_matches("notification_rules:\n")),
    )
    .unwrap();
    let Reload::Applied(version) = rules.reload() else {
        panic!("a valid edit is applied");
    };
    for handle in [&view, &copy] {
        let now = handle.snapshot();
        assert_eq!(now.version(), version);
        assert_eq!(now.project("SEC").unwrap().entries.len(), 2);
    }
    assert_ne!(first.version(), version);
    assert_eq!(
        first.project("SEC").unwrap().entries.len(),
        1,
        "a taken snapshot stays"
    );
}
