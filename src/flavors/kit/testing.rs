//! Building a flavor in a test through its registry row, as production
//! does: the repository's `base.yaml` and `local.yaml`, then the test's
//! YAML, every config problem reported; the rules of `rules.dir` (loaded
//! once, relative paths from the crate root) for rows that read them; an
//! in-memory SQLite store for rows that need one; no broker (a publisher needs one, so flavors that produce
//! build without it, as for file sources).

use super::{BuildCtx, BuildError, Built, FlavorSpec};
use crate::settings::{ConfigError, Settings};
use crate::store::Store;

/// The settings of the `local` environment with `yaml` merged last.
pub fn settings(yaml: &str) -> Result<Settings, ConfigError> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let (base, local) = (read("base.yaml"), read("local.yaml"));
    let layers = [
        ("config/base.yaml", base.as_str()),
        ("config/local.yaml", local.as_str()),
        ("test", yaml),
    ];
    crate::settings::load_texts("local", &layers)
}

/// Builds `spec` with `yaml` (e.g. `flavors: { jira: { ... } }`) over the
/// local settings, checked against its row as the runtime checks it.
pub async fn build(spec: &'static FlavorSpec, yaml: &str) -> Result<Built, BuildError> {
    let settings = settings(yaml).map_err(|err| BuildError::Client {
        flavor: spec.name,
        message: format!("the test's settings do not load: {err}"),
    })?;
    let store =
        match spec.needs_store {
            true => Some(Store::connect("sqlite::memory:", 1).await.map_err(|err| {
                BuildError::Client {
                    flavor: spec.name,
                    message: format!("in-memory store: {err}"),
                }
            })?),
            false => None,
        };
    let rules = match &settings.rules.dir {
        Some(dir) => {
            let rules = crate::rules::Rules::load(dir).map_err(|err| BuildError::Client {
                flavor: spec.name,
                message: format!("the test's rules ({}): {err}", dir.display()),
            })?;
            Some(rules.view(crate::rules::SecretResolver::new(&settings.rules)))
        }
        None => None,
    };
    let ctx = BuildCtx::new(spec, &settings, store, None).with_rules(rules);
    let built = (spec.build)(ctx).await?;
    built.check(spec)?;
    Ok(built)
}

#[cfg(test)]
mod tests {
    use crate::flavors::{timeline, FLAVORS};

    #[tokio::test]
    async fn every_flavor_builds_from_its_example_through_the_kit() {
        for spec in FLAVORS {
            let file = format!(
                "{}/examples/flavors/{}.yaml",
                env!("CARGO_MANIFEST_DIR"),
                spec.name
            );
            let yaml = std::fs::read_to_string(&file).expect("the example");
            if let Err(err) = super::build(spec, &yaml).await {
                panic!("{}: {err}", spec.name);
            }
        }
    }

    #[tokio::test]
    async fn a_bad_section_is_refused_with_its_path() {
        let yaml = "flavors:\n  timeline:\n    bogus: 1\n";
        let err = super::build(&timeline::SPEC, yaml)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }
}
