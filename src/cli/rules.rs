//! `rules check [DIR]` and `rules list [--project P] [DIR]`: the rules
//! directory (`src/rules`) as CI and an operator see it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::ConfigArgs;
use crate::rules::{self, RulesError};

/// `rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate a rules directory: every problem with file:line:col, rule id and a caret; exit 1 if any.
    Check {
        /// The directory (default: the configured `rules.dir`).
        dir: Option<PathBuf>,
    },
    /// One line per rule: project, kind, id, enabled, version.
    List {
        /// Only this project.
        #[arg(long, value_name = "KEY")]
        project: Option<String>,
        /// The directory (default: the configured `rules.dir`).
        dir: Option<PathBuf>,
    },
}

/// Runs a `rules` subcommand.
pub fn run(config: &ConfigArgs, cmd: RulesCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RulesCommand::Check { dir } => {
            let dir = resolve(config, dir)?;
            match rules::load_dir(&dir) {
                Ok(snapshot) => {
                    let count = snapshot.entries().count();
                    let projects = snapshot.projects().count();
                    println!(
                        "{}: {projects} projects, {count} rules, version {}",
                        dir.display(),
                        snapshot.version()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(RulesError::Invalid(problems)) => {
                    let mut out = std::io::stdout().lock();
                    for p in &problems {
                        writeln!(out, "{}\n", p.render())?;
                    }
                    let noun = if problems.len() == 1 {
                        "problem"
                    } else {
                        "problems"
                    };
                    eprintln!("{}: {} {noun}", dir.display(), problems.len());
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.into()),
            }
        }
        RulesCommand::List { project, dir } => {
            let dir = resolve(config, dir)?;
            let snapshot = rules::load_dir(&dir)?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "PROJECT\tKIND\tID\tENABLED\tVERSION")?;
            let wanted = |p: &str| project.as_deref().is_none_or(|w| w == p);
            for e in snapshot.entries().filter(|e| wanted(&e.project)) {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    e.project, e.kind, e.id, e.enabled, e.version
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `dir`, or the configured `rules.dir`.
fn resolve(config: &ConfigArgs, dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = dir {
        return Ok(dir);
    }
    let settings = config.load(&[])?;
    settings
        .rules
        .dir
        .ok_or_else(|| anyhow::anyhow!("no rules directory: give DIR or set rules.dir"))
}
