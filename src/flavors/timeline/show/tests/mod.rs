//! One test per event type for its exact sentence, and whole synthetic case
//! histories rendered without JSON or raw enum names.

mod case;
mod collab;
mod history;
mod ops;
mod order;

use std::collections::HashMap;

use super::{describe, CellView};
use crate::event::{CaseEvent, EventType, Payload};
use crate::flavors::timeline::plan::{cell_type, Cell};

/// The actor of the cells below.
const ANA: &str = "u-ana";
/// Another user, known by name from another cell of the case.
const BOB: &str = "u-bob";

/// Names seen in the case: Ana acts in every cell, Bob elsewhere.
fn names() -> HashMap<String, String> {
    HashMap::from([
        (ANA.to_owned(), "Ana Ruiz".to_owned()),
        (BOB.to_owned(), "Bob Lee".to_owned()),
    ])
}

/// A cell of case `c1` holding `payload`, by Ana Ruiz.
fn cell(payload: Payload) -> CellView {
    let only_payload = CaseEvent {
        payload: Some(payload.clone()),
        ..CaseEvent::default()
    };
    let value = serde_json::to_value(&only_payload).unwrap();
    let content = value
        .as_object()
        .and_then(|o| o.values().next().cloned())
        .unwrap_or_else(|| serde_json::json!({}));
    let kind = EventType::of(&payload);
    CellView {
        cell_id: "cell-1".into(),
        case_id: "c1".into(),
        case_key: "SEC-1".into(),
        cell_type: cell_type(kind).as_str().into(),
        event_type: kind.as_str().into(),
        actor: "Ana Ruiz".into(),
        actor_id: ANA.into(),
        occurred_at_ms: 1_736_150_400_000,
        aggregate_version: 2,
        content,
        edited: false,
        deleted: false,
    }
}

/// The sentence of a cell.
fn sentence_of(cell: &CellView) -> String {
    describe(cell, &names())
}

/// The sentence of a payload, by Ana Ruiz.
fn sentence(payload: Payload) -> String {
    sentence_of(&cell(payload))
}

/// The sentence of a payload with no actor (the system).
fn by_system(payload: Payload) -> String {
    let mut c = cell(payload);
    c.actor = String::new();
    c.actor_id = String::new();
    sentence_of(&c)
}

/// A planned cell as `load` reads it back.
fn view_of(c: Cell) -> CellView {
    CellView {
        cell_id: c.cell_id,
        case_id: c.case_id,
        case_key: c.case_key,
        cell_type: c.cell_type.as_str().into(),
        event_type: c.event_type.as_str().into(),
        actor: if c.actor_name.is_empty() {
            c.actor_id.clone()
        } else {
            c.actor_name
        },
        actor_id: c.actor_id,
        occurred_at_ms: c.occurred_at_ms,
        aggregate_version: c.version,
        content: serde_json::from_str(&c.content).unwrap(),
        edited: false,
        deleted: false,
    }
}
