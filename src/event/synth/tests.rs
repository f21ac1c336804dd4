//! Catalogue-wide checks of the events the repository itself makes: the
//! synthetic streams, the checked-in fixtures and the Jira webhook's events.

use super::{Synth, SynthSpec};
use crate::event::pb::ExternalSystem;
use crate::event::{from_json_line, CaseEvent, Payload};
use crate::flavors::jira::webhook::tests::built_events;

/// Far above any case's event count, far below a vendor time: a Unix time
/// in ms is about 1.7e12, in seconds about 1.7e9.
const CASE_VERSION_BOUND: u64 = 1_000_000_000;

/// Synthetic streams of several shapes, project events included.
fn synthetic() -> Vec<CaseEvent> {
    let shapes = [
        SynthSpec::default(),
        SynthSpec {
            cases: 40,
            events_per_case: 120,
            project_events: 30,
            ..SynthSpec::default()
        },
    ];
    (shapes.into_iter().enumerate())
        .flat_map(|(seed, spec)| Synth::new(seed as u64, spec))
        .collect()
}

/// The checked-in fixtures: `examples/events.ndjson`, and the seeds of the
/// `decode_json` fuzz target (a selector before one JSON event each).
fn fixtures() -> Vec<CaseEvent> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let examples = std::fs::read_to_string(root.join("examples/events.ndjson")).unwrap();
    let mut lines: Vec<String> = examples.lines().map(str::to_owned).collect();
    for seed in std::fs::read_dir(root.join("fuzz/corpus/decode_json")).unwrap() {
        let bytes = std::fs::read(seed.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        lines.extend(text.find('{').map(|at| text[at..].trim().to_owned()));
    }
    (lines.iter().filter(|l| !l.trim().is_empty()))
        .map(|l| from_json_line(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `aggregate_version` is a case version and nothing else: no event the
/// repository makes carries a vendor's time (Jira's `updated` in ms) there;
/// that goes in the payload (`ExternalTicketChanged.ext_version`).
/// `arbitrary_event` is left out on purpose: it draws every field from its
/// whole range to explore the encoding, not to model the catalogue.
#[test]
fn no_vendor_time_as_aggregate_version_in_the_catalogue() {
    let sources = [
        ("synthetic", synthetic()),
        ("fixture", fixtures()),
        ("jira webhook", built_events()),
    ];
    let mut ticket_changes = 0;
    for (source, events) in &sources {
        assert!(events.len() >= 3, "{source}: {} events", events.len());
        for e in events {
            assert!(
                e.aggregate_version < CASE_VERSION_BOUND,
                "{source} {} {} has aggregate_version {}: a vendor time?",
                e.event_type,
                e.event_id,
                e.aggregate_version
            );
            let jira = ExternalSystem::Jira as i32;
            if let Some(Payload::ExternalTicketChanged(p)) = e.payload.as_ref() {
                if p.system != jira {
                    continue;
                }
                ticket_changes += 1;
                assert!(
                    p.ext_version > CASE_VERSION_BOUND as i64,
                    "{source} {}: Jira's `updated` belongs in ext_version, got {}",
                    e.event_id,
                    p.ext_version
                );
            }
        }
    }
    assert!(
        ticket_changes >= 4,
        "{ticket_changes} Jira ticket changes seen"
    );
}
