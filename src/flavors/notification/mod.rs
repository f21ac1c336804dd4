//! The notification flavor (not built yet): for now only its per-channel rendering.
pub mod render;
