//! A flavor's command-line tools: `case-event-handler <name> …` (for
//! example `timeline show`, later `webhook verify`, `snow reconcile`). The
//! flavor declares them in its row; the CLI mounts every row's tools beside
//! its own subcommands, so no flavor grows `src/cli/`. Commands that span
//! flavors (`dlq`, `replay`, the kit's `rules …`) live in `src/cli/`.

use std::process::ExitCode;

use futures::future::BoxFuture;

use crate::settings::{Need, Settings};
use crate::store::{OpenError, Store};

/// Why a tool failed (printed by the binary's edge).
pub type ToolError = Box<dyn std::error::Error + Send + Sync>;

/// A flavor's tools, as its registry row declares them.
pub struct FlavorTools {
    /// The subcommand (`timeline`); unique among every subcommand.
    pub name: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// The connections the tools need (`settings.require`).
    pub needs: &'static [Need],
    /// The subcommand's own arguments and subcommands (clap's builder;
    /// a derive's `augment_subcommands` works).
    pub command: fn(clap::Command) -> clap::Command,
    /// Runs one invocation with the matches of `name`'s subcommand.
    pub run: for<'a> fn(&'a clap::ArgMatches, &'a ToolCtx) -> BoxFuture<'a, ToolResult>,
}

/// What a tool answers: its exit code.
pub type ToolResult = Result<ExitCode, ToolError>;

impl FlavorTools {
    /// The clap subcommand.
    pub fn subcommand(&self) -> clap::Command {
        (self.command)(clap::Command::new(self.name).about(self.about))
    }
}

/// What a tool may use: the loaded settings and the store they name.
pub struct ToolCtx {
    settings: Settings,
}

impl ToolCtx {
    /// A context over `settings` (already checked against the tool's needs).
    pub fn new(settings: Settings) -> Self {
        Self { settings }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The store of `store.url` (its error names the masked URL).
    pub async fn store(&self) -> Result<Store, OpenError> {
        Store::open(&self.settings.store).await
    }
}
