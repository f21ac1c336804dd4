//! The registry's invariants, in one place: every row has each of its
//! parts, and the check fails for a row that lacks any (shown by a made-up
//! row over an empty repository).
//!
//! A row's parts: its module opening with its contract (and, for a row that
//! declares `reads_rules`, what it reads of the rules), an example config
//! that checks clean, a Helm values entry, a README row, an integration
//! test file, metrics named after it that render; no flavor imports
//! another; no cycle through the registry loops.

use std::path::{Path, PathBuf};

use super::kit::{loops, Consumes, MetricKind, MetricSpec, Produces};
use super::{FlavorSpec, FLAVORS};
use crate::settings::{LoadOptions, Settings};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn snake(name: &str) -> String {
    name.replace('-', "_")
}

/// Every part `row` lacks in the repository at `root`, one line each.
fn problems(row: &FlavorSpec, root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut expect = |ok: bool, part: &str| {
        if !ok {
            out.push(format!("{}: {part}", row.name));
        }
    };
    expect(
        has_contract(row, root),
        "module doc with Consumes/Effects/Idempotency key/Retries",
    );
    expect(
        !row.reads_rules || says_what_rules_it_reads(row, root),
        "module doc says what it reads of the rules (`//! Rules:`)",
    );
    expect(
        example_checks_clean(row, root),
        "examples/flavors/<name>.yaml that checks clean",
    );
    expect(
        in_helm_values(row, root),
        "an entry in helm/case-event-handler/values.yaml",
    );
    expect(in_readme(row, root), "a row in README.md's flavor table");
    expect(
        has_integration_test(row, root),
        "tests/it/flavors/<name>.rs with a test",
    );
    for metric in row.metrics {
        expect(
            metric_named_for(row, metric),
            "metric names start with <name>_",
        );
        expect(
            metric_renders(metric),
            "declared metrics render as ceh_<metric>",
        );
    }
    out
}

fn read(path: PathBuf) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The text of the row's module (`<name>.rs` or `<name>/mod.rs`).
fn module_text(row: &FlavorSpec, root: &Path) -> Option<String> {
    let dir = root.join("src/flavors");
    read(dir.join(format!("{}.rs", snake(row.name))))
        .or_else(|| read(dir.join(snake(row.name)).join("mod.rs")))
}

fn has_contract(row: &FlavorSpec, root: &Path) -> bool {
    let text = module_text(row, root);
    let headings = ["Consumes:", "Effects:", "Idempotency key:", "Retries:"];
    text.is_some_and(|t| headings.iter().all(|h| t.contains(&format!("//! {h}"))))
}

/// A row that declares `reads_rules` says in its module doc which
/// sections of the rules files it reads.
fn says_what_rules_it_reads(row: &FlavorSpec, root: &Path) -> bool {
    module_text(row, root).is_some_and(|t| t.contains("//! Rules:"))
}

fn example_checks_clean(row: &FlavorSpec, root: &Path) -> bool {
    let file = root.join(format!("examples/flavors/{}.yaml", row.name));
    if !file.exists() {
        return false;
    }
    let settings: Settings = match crate::settings::load(&LoadOptions {
        config_dir: root.join("config"),
        env: "local".into(),
        extra_file: Some(file),
        overrides: vec![],
        env_vars: vec![],
    }) {
        Ok(settings) => settings,
        Err(_) => return false,
    };
    row.config.check(&settings, row.name).is_empty()
}

fn in_helm_values(row: &FlavorSpec, root: &Path) -> bool {
    let Some(text) = read(root.join("helm/case-event-handler/values.yaml")) else {
        return false;
    };
    let values: serde_yaml::Value = serde_yaml::from_str(&text).unwrap_or_default();
    values["flavors"].get(row.name).is_some()
}

fn in_readme(row: &FlavorSpec, root: &Path) -> bool {
    let row_start = format!("| `{}` |", row.name);
    read(root.join("README.md")).is_some_and(|t| t.lines().any(|l| l.starts_with(&row_start)))
}

fn has_integration_test(row: &FlavorSpec, root: &Path) -> bool {
    let file = root.join(format!("tests/it/flavors/{}.rs", snake(row.name)));
    let dir = root.join(format!("tests/it/flavors/{}", snake(row.name)));
    let texts = std::iter::once(read(file)).chain(
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .map(|e| e.ok().and_then(|e| read(e.path()))),
    );
    texts
        .flatten()
        .any(|t| t.contains("#[tokio::test") || t.contains("#[test]"))
}

fn metric_named_for(row: &FlavorSpec, metric: &MetricSpec) -> bool {
    metric.name.starts_with(&format!("{}_", snake(row.name)))
}

/// Registers `metric` through the one path flavors use, writes one
/// sample (an empty family does not render) and looks for it.
fn metric_renders(metric: &'static MetricSpec) -> bool {
    use crate::telemetry::declared::{family, Registered};
    let labels = metric.labels.iter().map(|l| (*l, "registry-test"));
    let labels: Vec<_> = std::iter::once(("flavor", "registry-test"))
        .chain(labels)
        .collect();
    match family(metric) {
        Registered::Counter(f) => drop(f.get_or_create(&labels).inc()),
        Registered::Gauge(f) => drop(f.get_or_create(&labels).set(0)),
        Registered::Histogram(f) => f.get_or_create(&labels).observe(0.0),
    }
    let text = crate::telemetry::metrics::render();
    let help = format!("# HELP ceh_{} ", metric.name);
    text.lines().any(|l| l.starts_with(&help))
}

#[test]
fn every_row_has_all_its_parts() {
    let found: Vec<String> = FLAVORS
        .iter()
        .flat_map(|row| problems(row, repo()))
        .collect();
    assert_eq!(found, Vec::<String>::new());
}

static GHOST_METRIC: MetricSpec = MetricSpec {
    name: "not_the_ghost_deliveries",
    help: "a metric named for another flavor",
    kind: MetricKind::Counter,
    labels: &["result"],
};

static GHOST: FlavorSpec = FlavorSpec {
    name: "ghost-flavor",
    summary: "a row with none of its parts",
    style: super::Style::Single,
    needs_store: false,
    dependencies: &[],
    consumes: Consumes::all(),
    produces: Produces::NOTHING,
    metrics: std::slice::from_ref(&GHOST_METRIC),
    routes: &[],
    tables: &[],
    reads_rules: true,
    tools: None,
    config: &super::kit::ConfigOf::<super::kit::NoConfig>::KIND,
    build: |_| Box::pin(async { Err(super::BuildError::NeedsStore("ghost-flavor")) }),
};

#[test]
fn a_row_missing_its_parts_is_named_part_by_part() {
    let empty = tempfile::tempdir().expect("tempdir");
    let found = problems(&GHOST, empty.path());
    for part in [
        "module doc",
        "`//! Rules:`",
        "examples/flavors",
        "helm",
        "README.md",
        "tests/it/flavors",
        "start with <name>_",
    ] {
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("ghost-flavor: ") && p.contains(part)),
            "{part} not reported: {found:?}"
        );
    }
    // In the real repository, only the parts the ghost truly lacks.
    let here = problems(&GHOST, repo());
    assert!(here.iter().any(|p| p.contains("README.md")), "{here:?}");
    assert!(!here.iter().any(|p| p.contains("render")), "{here:?}");
}

#[test]
fn names_are_unique_and_kebab_case() {
    let mut names = super::valid_names();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), FLAVORS.len(), "duplicate flavor names");
    for name in names {
        let ok = name.chars().all(|c| c.is_ascii_lowercase() || c == '-');
        assert!(ok, "{name}");
    }
}

#[test]
fn every_flavor_module_is_registered() {
    let modules = flavor_modules(&repo().join("src/flavors"));
    let rows: Vec<String> = FLAVORS.iter().map(|f| snake(f.name)).collect();
    for module in &modules {
        assert!(
            rows.contains(module),
            "src/flavors/{module} has no registry row"
        );
    }
}

#[test]
fn nothing_in_the_registry_loops() {
    let nodes: Vec<_> = FLAVORS.iter().map(FlavorSpec::node).collect();
    assert_eq!(loops(&nodes), Vec::<String>::new());
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

#[test]
fn route_paths_are_webhooks_and_unique_within_a_row() {
    for row in FLAVORS {
        let mut paths: Vec<&str> = row.routes.iter().map(|r| r.path).collect();
        for path in &paths {
            assert!(
                path.starts_with("/webhooks/") && path.len() > "/webhooks/".len(),
                "{}: route {path} is not under /webhooks/",
                row.name
            );
        }
        let n = paths.len();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), n, "{}: a route path twice", row.name);
    }
    assert!(
        FLAVORS.iter().any(|r| !r.routes.is_empty()),
        "jira declares its webhook"
    );
}
