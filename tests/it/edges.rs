//! Kit edge state per (rule, case) on PostgreSQL: the same scenarios the
//! unit tests run on SQLite (`kit::edge::scenarios`).

use case_event_handler::flavors::kit::edge::scenarios;
use case_event_handler::store::Store;

use crate::helpers::fresh_pg;

#[tokio::test]
async fn edge_state_scenarios_hold_on_postgresql() {
    let store = Store::connect(&fresh_pg().await, 2).await.expect("pg");
    scenarios::run(&store, "edge-it").await;
}
