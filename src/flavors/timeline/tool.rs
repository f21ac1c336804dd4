//! `case-event-handler timeline show CASE [--json]`: the timeline's tools.

use std::process::ExitCode;

use clap::{FromArgMatches, Subcommand};
use futures::FutureExt;

use crate::flavors::kit::{FlavorTools, ToolCtx, ToolResult};
use crate::settings::Need;

/// The row's tools.
pub static TOOLS: FlavorTools = FlavorTools {
    name: "timeline",
    about: "Timeline read-model tools",
    needs: &[Need::Store],
    command: |cmd| Tool::augment_subcommands(cmd).subcommand_required(true),
    run: |matches, ctx| run(matches, ctx).boxed(),
};

#[derive(Debug, Subcommand)]
enum Tool {
    /// Print a case's timeline, oldest first (exit 1 when it has no cells).
    Show {
        /// Case id or case key (e.g. SEC-42).
        case: String,
        /// One JSON document per line instead of aligned text.
        #[arg(long)]
        json: bool,
    },
}

async fn run(matches: &clap::ArgMatches, ctx: &ToolCtx) -> ToolResult {
    let Tool::Show { case, json } = Tool::from_arg_matches(matches)?;
    let cells = super::show::load(&ctx.store().await?, &case).await?;
    if json {
        for cell in &cells {
            println!("{}", serde_json::to_string(cell)?);
        }
    } else {
        print!("{}", super::show::render(&cells));
    }
    Ok(match cells.is_empty() {
        true => ExitCode::from(1),
        false => ExitCode::SUCCESS,
    })
}
