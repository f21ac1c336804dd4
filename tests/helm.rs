//! The Helm chart in `helm/case-event-handler` against the flavor registry and
//! the configuration loader.
//!
//! Needs the `helm` binary: `$HELM`, else `helm` on `PATH`, else
//! `.devinfra/bin/helm` (`make helm` builds it). Without one these tests fail;
//! they never skip. Nothing is installed or contacted: only `helm lint` and
//! `helm template` run, on the chart directory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use case_event_handler::flavors::FLAVORS;
use case_event_handler::settings::{load, LoadOptions};
use serde::Deserialize;
use serde_yaml::Value;

const CHART: &str = "helm/case-event-handler";
const RELEASE: &str = "ceh";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The helm binary: `$HELM`, `helm` on `PATH`, or `.devinfra/bin/helm`.
fn helm() -> PathBuf {
    if let Some(path) = std::env::var_os("HELM").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "HELM={} is not a file; unset HELM or point it at a helm binary",
            path.display()
        );
        return path;
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("helm"))
        .find(|candidate| candidate.is_file());
    let local = root().join(".devinfra/bin/helm");
    on_path
        .or_else(|| local.is_file().then_some(local))
        .unwrap_or_else(|| {
            panic!(
                "helm not found (looked at $HELM, PATH and .devinfra/bin/helm): \
                 run `make helm` (scripts/install-helm.sh builds it with Go into \
                 .devinfra/bin/helm) or set HELM=/path/to/helm"
            )
        })
}

fn run_helm(args: &[&str]) -> Output {
    let helm = helm();
    Command::new(&helm)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("running {} {}: {e}", helm.display(), args.join(" ")))
}

/// `helm template` with extra `--set` values, parsed into its documents.
fn render(sets: &[&str]) -> Vec<Value> {
    let mut args = vec!["template", RELEASE, CHART, "--namespace", "ceh-test"];
    for set in sets {
        args.extend(["--set", set]);
    }
    let out = run_helm(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "helm {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_yaml::Deserializer::from_str(&stdout)
        .map(|doc| Value::deserialize(doc).expect("helm template renders valid YAML"))
        .filter(|doc| !doc.is_null())
        .collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn str_of(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn name_of(doc: &Value) -> &str {
    str_of(&doc["metadata"]["name"])
}

/// The flavor an object belongs to (its app.kubernetes.io/component label).
fn component(doc: &Value) -> &str {
    str_of(&doc["metadata"]["labels"]["app.kubernetes.io/component"])
}

fn registered() -> BTreeSet<&'static str> {
    FLAVORS.iter().map(|f| f.name).collect()
}

fn container(deployment: &Value) -> &Value {
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_sequence()
        .expect("containers");
    assert_eq!(
        containers.len(),
        1,
        "{}: one container",
        name_of(deployment)
    );
    &containers[0]
}

fn args(deployment: &Value) -> Vec<&str> {
    container(deployment)["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .map(str_of)
        .collect()
}

/// The value following `flag` in `args`.
fn flag<'a>(args: &[&'a str], flag: &str) -> Option<&'a str> {
    args.windows(2).find(|w| w[0] == flag).map(|w| w[1])
}

#[test]
fn chart_lints_clean() {
    let out = run_helm(&["lint", "--strict", CHART]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "helm lint failed:\n{text}");
    assert!(
        !text.contains("[WARNING]") && !text.contains("[ERROR]"),
        "helm lint reports problems:\n{text}"
    );
}

#[test]
fn values_list_exactly_the_registered_flavors() {
    let path = root().join(CHART).join("values.yaml");
    let values: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let listed: BTreeSet<&str> = values["flavors"]
        .as_mapping()
        .expect("values.yaml has a `flavors:` map")
        .keys()
        .map(str_of)
        .collect();
    let registered = registered();
    let missing: Vec<_> = registered.difference(&listed).collect();
    let unbuilt: Vec<_> = listed.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "registered flavors without an entry under `flavors:` in {}: {missing:?} \
         (add one like the timeline entry)",
        path.display()
    );
    assert!(
        unbuilt.is_empty(),
        "{} lists flavors that are not in FLAVORS (src/flavors/mod.rs): {unbuilt:?} \
         (the chart may only deploy built flavors)",
        path.display()
    );
    for name in &listed {
        let entry = &values["flavors"][*name];
        assert_eq!(
            entry["enabled"],
            Value::Bool(true),
            "flavors.{name}: enabled by default"
        );
        let args: Vec<&str> = entry["args"]
            .as_sequence()
            .unwrap_or_else(|| panic!("flavors.{name}.args"))
            .iter()
            .map(str_of)
            .collect();
        assert_eq!(args, ["run", "--flavor", name], "flavors.{name}.args");
        for key in ["replicas", "resources", "env", "config"] {
            assert!(
                entry.get(key).is_some(),
                "flavors.{name} lacks `{key}` (state it, even if empty)"
            );
        }
    }
}

#[test]
fn default_values_render_one_deployment_per_registered_flavor() {
    let docs = render(&[]);
    let deployments = of_kind(&docs, "Deployment");
    let mut rendered: Vec<&str> = deployments.iter().map(|d| component(d)).collect();
    rendered.sort_unstable();
    let registered: Vec<&str> = registered().into_iter().collect();
    assert_eq!(rendered, registered, "one Deployment per registered flavor");
    for deployment in deployments {
        let name = component(deployment);
        let args = args(deployment);
        assert_eq!(args.first(), Some(&"run"), "{name}: {args:?}");
        assert_eq!(flag(&args, "--flavor"), Some(name), "{name}: {args:?}");
        assert_eq!(
            args.iter().filter(|a| **a == "--flavor").count(),
            1,
            "{name}: {args:?}"
        );
    }
}

/// The value of environment variable `var` in a deployment's container.
fn env_of<'a>(deployment: &'a Value, var: &str) -> Option<&'a str> {
    let env = container(deployment)["env"].as_sequence()?;
    env.iter()
        .find(|e| e["name"] == var)
        .map(|e| str_of(&e["value"]))
}

/// The names of a deployment's volumes and of its container's mounts.
fn volumes(deployment: &Value) -> (Vec<&str>, Vec<&str>) {
    let pod = &deployment["spec"]["template"]["spec"]["volumes"];
    (names(pod), names(&container(deployment)["volumeMounts"]))
}

/// The `name` of each item of a sequence.
fn names(items: &Value) -> Vec<&str> {
    (items.as_sequence().into_iter().flatten())
        .map(|x| str_of(&x["name"]))
        .collect()
}

/// Rule files and their secrets reach every flavor's pod as volumes (so
/// Kubernetes updates them in place and the service reloads), with
/// `rules.dir` and `rules.secrets_dir` pointing at them; without them set,
/// nothing is mounted and the service runs without rules.
#[test]
fn rules_and_their_secrets_mount_into_every_flavor() {
    let docs = render(&[
        "rules.configMap=acme-rules",
        "rules.secret=acme-rule-secrets",
    ]);
    let deployments = of_kind(&docs, "Deployment");
    assert_eq!(deployments.len(), registered().len());
    for deployment in deployments {
        let name = component(deployment);
        let (pod, mounts) = volumes(deployment);
        for volume in ["rules", "rule-secrets"] {
            assert!(pod.contains(&volume), "{name}: volumes {pod:?}");
            assert!(mounts.contains(&volume), "{name}: mounts {mounts:?}");
        }
        let spec = &deployment["spec"]["template"]["spec"]["volumes"];
        let rules = (spec.as_sequence().into_iter().flatten()).find(|v| v["name"] == "rules");
        assert_eq!(
            rules.map(|v| str_of(&v["configMap"]["name"])),
            Some("acme-rules")
        );
        let dir = env_of(deployment, "CEH__RULES__DIR");
        assert_eq!(dir, Some("/etc/case-event-handler-rules"), "{name}");
        let secrets = env_of(deployment, "CEH__RULES__SECRETS_DIR");
        assert_eq!(
            secrets,
            Some("/etc/case-event-handler-rule-secrets"),
            "{name}"
        );
    }
    for deployment in of_kind(&render(&[]), "Deployment") {
        let (pod, _) = volumes(deployment);
        assert!(
            !pod.contains(&"rules"),
            "{}: {pod:?}",
            component(deployment)
        );
        assert_eq!(env_of(deployment, "CEH__RULES__DIR"), None);
    }
}

#[test]
fn pods_have_probes_and_a_locked_down_security_context() {
    let docs = render(&[]);
    for deployment in of_kind(&docs, "Deployment") {
        let name = name_of(deployment);
        let pod = &deployment["spec"]["template"]["spec"];
        let c = container(deployment);

        let port = &c["ports"][0];
        assert_eq!(port["name"], "http", "{name}: container port");
        assert_eq!(port["containerPort"], 9464, "{name}: container port");
        for (probe, path) in [
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
            ("startupProbe", "/healthz"),
        ] {
            assert_eq!(c[probe]["httpGet"]["path"], path, "{name}: {probe}");
            assert_eq!(c[probe]["httpGet"]["port"], "http", "{name}: {probe}");
        }
        let http_addr = c["env"]
            .as_sequence()
            .expect("env")
            .iter()
            .find(|e| e["name"] == "CEH__TELEMETRY__HTTP_ADDR")
            .map(|e| str_of(&e["value"]));
        assert_eq!(
            http_addr,
            Some("0.0.0.0:9464"),
            "{name}: the HTTP server binds all interfaces on the probed port"
        );

        let psc = &pod["securityContext"];
        assert_eq!(psc["runAsNonRoot"], true, "{name}: pod runAsNonRoot");
        assert_eq!(psc["runAsUser"], 10001, "{name}: the image's uid");
        assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault", "{name}");
        let sc = &c["securityContext"];
        assert_eq!(sc["runAsNonRoot"], true, "{name}: container runAsNonRoot");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{name}");
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{name}");
        let drop: Vec<&str> = sc["capabilities"]["drop"]
            .as_sequence()
            .map(|s| s.iter().map(str_of).collect())
            .unwrap_or_default();
        assert_eq!(drop, ["ALL"], "{name}: capabilities.drop");
        assert_eq!(pod["automountServiceAccountToken"], false, "{name}");

        let annotations = &deployment["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(annotations["prometheus.io/scrape"], "true", "{name}");
        assert_eq!(annotations["prometheus.io/port"], "9464", "{name}");
    }
}

#[test]
fn every_flavor_has_a_service_a_pdb_and_recommended_labels() {
    let docs = render(&[]);
    let by_flavor = |kind: &str| -> BTreeMap<&str, &Value> {
        of_kind(&docs, kind)
            .into_iter()
            .map(|d| (component(d), d))
            .collect()
    };
    let services = by_flavor("Service");
    let pdbs = by_flavor("PodDisruptionBudget");
    for deployment in of_kind(&docs, "Deployment") {
        let flavor = component(deployment);
        let selector = &deployment["spec"]["selector"]["matchLabels"];
        let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
        for (key, value) in selector.as_mapping().expect("matchLabels") {
            assert_eq!(
                &pod_labels[key], value,
                "{flavor}: pod labels match selector"
            );
        }
        assert_eq!(selector["app.kubernetes.io/component"], flavor);
        for label in [
            "app.kubernetes.io/name",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/version",
            "app.kubernetes.io/component",
            "app.kubernetes.io/part-of",
            "app.kubernetes.io/managed-by",
        ] {
            assert!(
                deployment["metadata"]["labels"].get(label).is_some(),
                "{flavor}: label {label}"
            );
        }

        let service = services
            .get(flavor)
            .unwrap_or_else(|| panic!("{flavor}: no Service"));
        assert_eq!(&service["spec"]["selector"], selector, "{flavor}: Service");
        assert_eq!(service["spec"]["ports"][0]["targetPort"], "http");
        assert_eq!(service["spec"]["ports"][0]["port"], 9464);

        let pdb = pdbs
            .get(flavor)
            .unwrap_or_else(|| panic!("{flavor}: no PodDisruptionBudget"));
        assert_eq!(
            &pdb["spec"]["selector"]["matchLabels"], selector,
            "{flavor}: PodDisruptionBudget"
        );
    }
    assert!(
        of_kind(&docs, "ServiceMonitor").is_empty(),
        "ServiceMonitor is opt-in"
    );
    let with_monitor = render(&["metrics.serviceMonitor.enabled=true"]);
    assert_eq!(of_kind(&with_monitor, "ServiceMonitor").len(), 1);
}

#[test]
fn a_disabled_flavor_renders_nothing() {
    let name = FLAVORS[0].name;
    let docs = render(&[&format!("flavors.{name}.enabled=false")]);
    let left: Vec<String> = docs
        .iter()
        .filter(|d| component(d) == name)
        .map(|d| format!("{} {}", str_of(&d["kind"]), name_of(d)))
        .collect();
    assert!(left.is_empty(), "{name} disabled, still rendered: {left:?}");
}

/// Renders the chart and loads each flavor's configuration the way its pod
/// would: the projected ConfigMaps as the config directory, the args' --env,
/// --config-dir and --config, and the container's environment (secrets get
/// stand-in values). The service must accept it.
#[test]
fn each_flavors_rendered_configuration_loads() {
    let first = FLAVORS[0].name;
    let docs = render(&[
        "defaults.env.CEH__KAFKA__BROKERS=kafka-0:9092",
        "defaults.config.runtime.max_in_flight=64",
        &format!("flavors.{first}.config.runtime.handler_timeout_ms=5000"),
    ]);
    let config_maps: BTreeMap<&str, &Value> = of_kind(&docs, "ConfigMap")
        .into_iter()
        .map(|cm| (name_of(cm), &cm["data"]))
        .collect();
    let deployments = of_kind(&docs, "Deployment");
    assert!(!deployments.is_empty());
    for deployment in deployments {
        let flavor = component(deployment);
        let c = container(deployment);
        let args = args(deployment);
        let config_dir = flag(&args, "--config-dir").expect("--config-dir");
        let extra = flag(&args, "--config").expect("--config");
        let env = flag(&args, "--env").expect("--env");

        let mount = c["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == config_dir)
            .unwrap_or_else(|| panic!("{flavor}: nothing mounted at {config_dir}"));
        let volume = deployment["spec"]["template"]["spec"]["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == mount["name"])
            .expect("the mounted volume");
        let dir = tempfile::tempdir().unwrap();
        for source in volume["projected"]["sources"]
            .as_sequence()
            .expect("projected")
        {
            let cm_name = str_of(&source["configMap"]["name"]);
            let data = config_maps
                .get(cm_name)
                .unwrap_or_else(|| panic!("{flavor}: ConfigMap {cm_name} is not rendered"));
            for (file, text) in data.as_mapping().unwrap() {
                let path = dir.path().join(str_of(file));
                assert!(!path.exists(), "{flavor}: two ConfigMaps provide {file:?}");
                std::fs::write(path, str_of(text)).unwrap();
            }
        }
        let extra_file = Path::new(extra)
            .strip_prefix(config_dir)
            .map(|rel| dir.path().join(rel))
            .unwrap_or_else(|_| panic!("{flavor}: --config {extra} outside {config_dir}"));

        let mut env_vars = Vec::new();
        for var in c["env"].as_sequence().unwrap() {
            let name = str_of(&var["name"]).to_owned();
            let value = if var["valueFrom"]["secretKeyRef"].is_mapping() {
                match name.as_str() {
                    "CEH__STORE__URL" => "postgres://ceh:secret@db:5432/ceh".to_owned(),
                    _ => "stand-in-secret".to_owned(),
                }
            } else {
                str_of(&var["value"]).to_owned()
            };
            env_vars.push((name, value));
        }

        let settings = load(&LoadOptions {
            config_dir: dir.path().to_owned(),
            env: env.to_owned(),
            extra_file: Some(extra_file),
            overrides: Vec::new(),
            env_vars,
        })
        .unwrap_or_else(|e| panic!("{flavor}: the rendered configuration is rejected:\n{e}"));
        assert_eq!(settings.environment, "production", "{flavor}");
        assert_eq!(settings.kafka.brokers, "kafka-0:9092", "{flavor}");
        assert!(
            settings.telemetry.http_addr.ip().is_unspecified(),
            "{flavor}: {}",
            settings.telemetry.http_addr
        );
        assert_eq!(
            c["ports"][0]["containerPort"],
            settings.telemetry.http_addr.port()
        );
        let runtime = settings.runtime_for(flavor);
        assert_eq!(runtime.max_in_flight, 64, "{flavor}: defaults.config");
        assert_eq!(
            runtime.handler_timeout_ms == 5000,
            flavor == first,
            "{flavor}: flavors.{first}.config applies to {first} only"
        );
    }
}

/// The chart's base ConfigMap is built from files/config/base.yaml and
/// production.yaml (Helm reads files only from inside the chart). They are
/// symlinks to config/, so the chart always ships the current configuration;
/// a copy in their place would drift.
#[test]
fn chart_config_files_are_the_repositorys() {
    for file in ["base.yaml", "production.yaml"] {
        let chart_path = root().join(CHART).join("files/config").join(file);
        let fix = format!(
            "restore the symlink: ln -sf ../../../../config/{file} {CHART}/files/config/{file}"
        );
        let meta = std::fs::symlink_metadata(&chart_path)
            .unwrap_or_else(|e| panic!("{}: {e}; {fix}", chart_path.display()));
        assert!(
            meta.file_type().is_symlink(),
            "{} is not a symlink; {fix}",
            chart_path.display()
        );
        let repo = std::fs::read_to_string(root().join("config").join(file)).unwrap();
        let chart = std::fs::read_to_string(&chart_path)
            .unwrap_or_else(|e| panic!("{}: {e}; {fix}", chart_path.display()));
        assert!(
            repo == chart,
            "{} is not config/{file}; {fix}",
            chart_path.display()
        );
    }
}
