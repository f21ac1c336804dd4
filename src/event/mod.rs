//! Event catalogue (generated from proto/).
