//! The `webhook` flavor: delivery of case events to customer endpoints.

pub mod transport;
