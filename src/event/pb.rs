//! Generated protobuf types of package `casemgmt.events.v1` (prost) and their
//! canonical proto3 JSON serde impls (pbjson). See `proto/casemgmt/events/v1/`
//! for the documented schema.

#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags
)]

include!(concat!(env!("OUT_DIR"), "/casemgmt.events.v1.rs"));
include!(concat!(env!("OUT_DIR"), "/casemgmt.events.v1.serde.rs"));
