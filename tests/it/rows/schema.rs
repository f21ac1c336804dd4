//! Every `Table` of the registry agrees with the schema its migrations make,
//! on both backends; a `Table` that disagrees fails the check.

use case_event_handler::flavors::kit::{delivery, timers};
use case_event_handler::flavors::timeline::CELLS;
use case_event_handler::flavors::FLAVORS;
use case_event_handler::store::rows::schema::{check, SchemaError};
use case_event_handler::store::rows::{Patchable, Table};
use case_event_handler::store::Store;

use crate::helpers::*;

/// The kit's tables that flavors will write (listed here until one does).
const KIT_TABLES: &[&Table] = &[&timers::TIMERS, &delivery::DELIVERIES];

/// `timeline_cells` with a guard column the migrations never made.
static WRONG_GUARD: Table = Table {
    patchable: &[
        Patchable::row("content"),
        Patchable::own("edited_at", "edit_version"),
    ],
    ..copy(&CELLS)
};

/// `timeline_cells` keyed by a column that is not its primary key.
static WRONG_KEY: Table = Table {
    key: &["case_id", "event_id"],
    ..copy(&CELLS)
};

/// `timeline_cells` with an upsert column the table lacks.
static EXTRA_COLUMN: Table = Table {
    columns: &["cell_id", "updated_version", "content", "edited_by"],
    ..copy(&CELLS)
};

const fn copy(t: &Table) -> Table {
    Table {
        name: t.name,
        columns: t.columns,
        key: t.key,
        version: t.version,
        on_conflict_update: t.on_conflict_update,
        patchable: t.patchable,
    }
}

async fn every_table_agrees_with_its_migrations(store: Store) {
    let mut checked = 0;
    for spec in FLAVORS {
        assert!(
            spec.tables.is_empty() || spec.needs_store,
            "{}: writes tables without the store",
            spec.name
        );
        for table in spec.tables {
            check(&store, table)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            checked += 1;
        }
    }
    assert!(checked >= 1, "the timeline's table at least");
    // Kit tables no flavor lists yet.
    for table in KIT_TABLES {
        check(&store, table)
            .await
            .unwrap_or_else(|e| panic!("kit: {e}"));
    }
    let err = check(&store, &WRONG_GUARD).await.unwrap_err();
    assert!(
        matches!(
            err,
            SchemaError::NoColumn {
                column: "edit_version",
                ..
            }
        ),
        "{err}"
    );
    let err = check(&store, &WRONG_KEY).await.unwrap_err();
    assert!(matches!(err, SchemaError::Key { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "timeline_cells: key (case_id, event_id) is not the primary key (cell_id)"
    );
    let err = check(&store, &EXTRA_COLUMN).await.unwrap_err();
    assert!(
        matches!(
            err,
            SchemaError::NoColumn {
                column: "edited_by",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn rows_postgres_every_table_agrees_with_its_migrations() {
    let store = Store::connect(&fresh_pg().await, 2).await.expect("store");
    every_table_agrees_with_its_migrations(store).await;
}

#[tokio::test]
async fn rows_sqlite_every_table_agrees_with_its_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("schema.db").display()
    );
    let store = Store::connect(&url, 1).await.expect("sqlite store");
    every_table_agrees_with_its_migrations(store).await;
}
