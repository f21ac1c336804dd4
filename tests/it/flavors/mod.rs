//! One integration test file (or folder) per flavor, named as its module
//! under `src/flavors/`; the registry tests check that each row has one.

mod evp_indexer;
mod evp_indexer_feed;
mod jira;
mod timeline;
mod webhook;
