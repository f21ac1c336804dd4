//! What the binary-level test crates (`tests/cli.rs`, `tests/rules_cli.rs`)
//! share.

use std::process::{Command, Output};

/// Runs the built binary with `args` from the repository root, outside any
/// `CEH_ENV` of the caller.
pub fn ceh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_case-event-handler"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CEH_ENV")
        .args(args)
        .output()
        .expect("run the binary")
}
