//! The settings loader on arbitrary YAML: `config/base.yaml` (merged once),
//! then the input as one more layer (as `--config` would add it), merged,
//! deserialized with the collecting deserializer and validated. Settings that load are then
//! checked as `config check` does (every flavor section as its typed config,
//! `breakers`/`rate_limits` names), and every flavor's runtime overrides,
//! maintenance windows, flags and the masked rendering are computed.
#![no_main]

use std::sync::OnceLock;

use case_event_handler::app::check_flavor_sections;
use case_event_handler::fuzzing::ConfigLayers;
use case_event_handler::settings::ConfigError;
use libfuzzer_sys::fuzz_target;

const BASE: &str = include_str!("../../config/base.yaml");

/// `base.yaml` is the same for every input: parsed and merged once.
fn base() -> &'static ConfigLayers {
    static BASE_LAYERS: OnceLock<ConfigLayers> = OnceLock::new();
    BASE_LAYERS
        .get_or_init(|| ConfigLayers::new("fuzz", &[("base.yaml", BASE)]).expect("base.yaml"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let settings = match base().load("fuzz.yaml", text) {
        Ok(settings) => settings,
        Err(ConfigError::Invalid(problems)) => {
            assert!(!problems.is_empty(), "invalid without a problem");
            return;
        }
        Err(_) => return,
    };
    let _ = check_flavor_sections(&settings);
    for name in settings.flavors.keys() {
        let _ = settings.runtime_for(name);
    }
    let _ = (settings.windows(), settings.flags());
    let _ = settings.render_masked();
});
