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

/// The flavor modules under `src/flavors/` (every directory but the kit).
fn flavor_modules(root: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .expect("src/flavors")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.is_dir())
        .filter_map(|p| Some(p.file_name()?.to_str()?.to_string()))
        .filter(|name| name != "kit")
        .collect();
    names.sort();
    names
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file");
            out.push((path, text));
        }
    }
    out
}

/// Whether `text` holds `path` as whole segments (`flavors::evp_indexer` is
/// not in `flavors::evp_indexer_feed`).
fn names_segment(text: &str, path: &str) -> bool {
    text.match_indices(path).any(|(at, _)| {
        let next = text[at + path.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// `module` names another flavor module in its code (a shared helper belongs
/// in the kit): one line per offence.
fn cross_imports(root: &std::path::Path, module: &str, all: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in sources(&root.join(module)) {
        for other in all.iter().filter(|o| *o != module) {
            for needle in [
                format!("flavors::{other}"),
                format!("super::super::{other}"),
            ] {
                if names_segment(&text, &needle) {
                    found.push(format!("{} names {needle}", path.display()));
                }
            }
        }
    }
    found
}

#[test]
fn no_flavor_imports_another() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/flavors");
    let modules = flavor_modules(&root);
    assert!(modules.len() >= FLAVORS.len(), "{modules:?}");
    let found: Vec<String> = (modules.iter())
        .flat_map(|m| cross_imports(&root, m, &modules))
        .collect();
    assert_eq!(
        found,
        Vec::<String>::new(),
        "shared code belongs in the kit"
    );
}

#[test]
fn the_import_check_finds_a_flavor_naming_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (module, text) in [
        ("alpha", "use crate::flavors::beta::thing;\n"),
        (
            "beta",
            "use crate::flavors::kit::datadog::tag;\nuse crate::flavors::alpha_two::x;\n",
        ),
    ] {
        std::fs::create_dir_all(dir.path().join(module)).unwrap();
        std::fs::write(dir.path().join(module).join("mod.rs"), text).unwrap();
    }
    let modules = flavor_modules(dir.path());
    assert_eq!(modules, ["alpha", "beta"]);
    let found = cross_imports(dir.path(), "alpha", &modules);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("names flavors::beta"), "{found:?}");
    assert!(cross_imports(dir.path(), "beta", &modules).is_empty());
}
