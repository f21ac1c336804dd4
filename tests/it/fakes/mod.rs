//! In-process fakes of the external services integrations talk to.

pub mod events_intake;
pub mod jira;
pub mod logs_intake;
pub mod server;
