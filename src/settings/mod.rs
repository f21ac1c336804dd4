//! Layered, validated configuration.
