use futures::FutureExt;

use super::*;
use crate::flavors::FLAVORS;
use crate::settings::LoadOptions;

/// Settings of `env` local with the flavor's example file.
fn example_settings(flavor: &str) -> Settings {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    crate::settings::load(&LoadOptions {
        config_dir: root.join("config"),
        env: "local".into(),
        extra_file: Some(root.join(format!("examples/flavors/{flavor}.yaml"))),
        overrides: vec![],
        env_vars: vec![],
    })
    .expect("the example loads")
}

#[tokio::test]
async fn every_flavor_builds_what_its_registry_row_declares() {
    let store = Store::connect("sqlite::memory:", 1).await.expect("sqlite");
    for spec in FLAVORS {
        let settings = example_settings(spec.name);
        let ctx = BuildCtx::new(spec, &settings, Some(store.clone()), None);
        let built = (spec.build)(ctx)
            .await
            .unwrap_or_else(|e| panic!("{} builds from its example: {e}", spec.name));
        built.check(spec).expect("style as declared");
    }
}

static UNDECLARED: DependencySpec = DependencySpec::new("undeclared", "a dependency no row names");

/// A row that declares nothing; its build asks for `ask`.
fn row(
    build: for<'a> fn(BuildCtx<'a>) -> BoxFuture<'a, Result<Built, BuildError>>,
) -> &'static FlavorSpec {
    Box::leak(Box::new(FlavorSpec {
        name: "unit-row",
        summary: "",
        style: Style::Single,
        needs_store: false,
        dependencies: &[],
        config: &ConfigOf::<NoConfig>::KIND,
        build,
    }))
}

async fn refused(spec: &'static FlavorSpec) -> String {
    let settings = Settings::default();
    let store = Store::connect("sqlite::memory:", 1).await.expect("sqlite");
    let ctx = BuildCtx::new(spec, &settings, Some(store), None);
    match (spec.build)(ctx).await {
        Err(err @ BuildError::Registry { .. }) => err.to_string(),
        Err(other) => panic!("not a registry mismatch: {other}"),
        Ok(_) => panic!("the build was not refused"),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct OtherConfig {}

impl FlavorConfig for OtherConfig {}

#[tokio::test]
async fn a_build_asking_for_what_its_row_does_not_declare_is_refused() {
    let store = row(|ctx| async move { ctx.store().map(|_| unreachable!()) }.boxed());
    assert!(refused(store).await.contains("needs_store"));
    let client =
        row(|ctx| async move { ctx.client(&UNDECLARED, None).map(|_| unreachable!()) }.boxed());
    assert!(refused(client).await.contains("undeclared"));
    let config =
        row(|ctx| async move { ctx.config::<OtherConfig>().map(|_| unreachable!()) }.boxed());
    assert!(refused(config).await.contains("OtherConfig"));
}

#[tokio::test]
async fn a_built_style_other_than_declared_is_refused() {
    let spec = row(|_| async { unreachable!() }.boxed());
    let batch = Built::from(crate::flavors::timeline::processor());
    let err = batch.check(spec).expect_err("batch built, single declared");
    assert!(err.to_string().contains("declares style single"), "{err}");
}
