//! The command line: `run` (or the bare `--flavor NAME`), `flavors`, `produce`,
//! `replay`, `dlq`, `config`, `rules`, and each flavor's tools (`timeline show`, ...),
//! which the flavors declare in their registry rows (`FlavorSpec::tools`).

mod dlq;
pub mod produce;
mod progress;
mod registry;
mod replay;
mod rules;
mod rules_live;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::app::{self, SourceSpec};
use crate::flavors;
use crate::settings::{self, LoadOptions, Need, Settings};

/// Consumes case domain events and runs one handler flavor.
///
/// `case-event-handler --flavor NAME` runs a flavor, exactly as `run --flavor NAME`.
#[derive(Debug, Parser)]
#[command(
    name = "case-event-handler",
    version,
    about,
    long_about = None,
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The design's own invocation, without a subcommand: `--flavor NAME [--source …]`.
    #[command(flatten)]
    pub bare: BareRun,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--flavor` without a subcommand: the same as `run`.
#[derive(Debug, Args)]
pub struct BareRun {
    /// The flavor to run, as `run --flavor` (see `flavors`).
    #[arg(long, value_name = "NAME")]
    pub flavor: Option<String>,
    /// Where events come from, as `run --source`.
    #[arg(long, requires = "flavor", value_name = "SOURCE")]
    pub source: Option<String>,
}

impl Cli {
    /// What the command line asks for: a subcommand, or the bare `--flavor`
    /// as `run`. Neither is a usage error.
    pub fn parsed(self) -> Result<Parsed, clap::Error> {
        use clap::error::ErrorKind;
        let usage = |kind, message| <Self as clap::CommandFactory>::command().error(kind, message);
        let command = match (self.command, self.bare.flavor) {
            (Some(_), Some(_)) => return Err(usage(
                ErrorKind::ArgumentConflict,
                "--flavor before a subcommand: use either `--flavor NAME` or `run --flavor NAME`",
            )),
            (Some(command), None) => command,
            (None, Some(flavor)) => Command::Run {
                flavor,
                source: (self.bare.source).unwrap_or_else(|| DEFAULT_SOURCE.to_string()),
            },
            (None, None) => {
                return Err(usage(
                    ErrorKind::MissingRequiredArgument,
                    "name a subcommand, or --flavor NAME to run a flavor",
                ))
            }
        };
        Ok(Parsed {
            config: self.config,
            command,
        })
    }
}

/// Where `run` reads events from unless told.
const DEFAULT_SOURCE: &str = "kafka";

/// Where configuration comes from (all layers are optional).
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Environment: selects config/<ENV>.yaml.
    #[arg(long, global = true, env = "CEH_ENV", default_value = settings::DEFAULT_ENV)]
    pub env: String,
    /// Directory holding base.yaml and the environment overlays.
    #[arg(long, global = true, env = "CEH_CONFIG_DIR", default_value = "config")]
    pub config_dir: PathBuf,
    /// One more YAML file, merged after the environment overlay.
    #[arg(long = "config", global = true, value_name = "PATH")]
    pub extra_file: Option<PathBuf>,
    /// Override one key, e.g. --set runtime.max_in_flight=64 (repeatable; wins over everything).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

impl ConfigArgs {
    /// Where the layers come from (also what a live reload re-reads).
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            config_dir: self.config_dir.clone(),
            env: self.env.clone(),
            extra_file: self.extra_file.clone(),
            overrides: self.overrides.clone(),
            env_vars: std::env::vars().collect(),
        }
    }

    /// Loads and validates the layered configuration, requiring the
    /// connection settings of what the command uses (`needs`).
    pub fn load(&self, needs: &[Need]) -> Result<Settings, settings::ConfigError> {
        let settings = settings::load(&self.options())?;
        settings.require(needs)?;
        Ok(settings)
    }
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one flavor until stopped (SIGTERM/SIGINT drain and commit, then exit 0).
    Run {
        /// The flavor to run (see `flavors`).
        #[arg(long)]
        flavor: String,
        /// Where events come from: kafka, file:PATH (.ndjson or length-delimited protobuf), or stdin.
        #[arg(long, default_value = DEFAULT_SOURCE)]
        source: String,
    },
    /// List the registered flavors.
    Flavors,
    /// Publish events to Kafka: from an NDJSON file, or a synthetic stream.
    Produce(produce::ProduceArgs),
    /// Run a flavor over an exact offset or time range, then stop (commits nothing).
    Replay(replay::ReplayArgs),
    /// Dead-letter topic tools.
    #[command(subcommand)]
    Dlq(dlq::DlqCommand),
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Rules-as-code tools: `check` a rules directory, `list` its rules, `explain` one rule for one event or case, `diff` two rule sets over events (a file or a topic range).
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// A flavor's tools (`timeline show`, ...), mounted from its registry row.
    #[command(skip)]
    Tool(ToolCall),
}

/// One invocation of a flavor's tools.
pub struct ToolCall {
    /// The tools, from the flavor's row.
    pub tools: &'static flavors::kit::FlavorTools,
    /// The matches of the tools' subcommand.
    pub matches: clap::ArgMatches,
}

impl std::fmt::Debug for ToolCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolCall")
            .field("tools", &self.tools.name)
            .finish()
    }
}

/// Every flavor's tools.
fn flavor_tools() -> impl Iterator<Item = &'static flavors::kit::FlavorTools> {
    flavors::FLAVORS.iter().filter_map(|f| f.tools)
}

/// The full command: the built-in subcommands and every flavor's tools.
pub fn command() -> clap::Command {
    let cmd = <Cli as clap::CommandFactory>::command();
    flavor_tools().fold(cmd, |cmd, tools| cmd.subcommand(tools.subcommand()))
}

/// Parses `args` (the program name first) into what to run.
pub fn parse_from<I, T>(args: I) -> Result<Parsed, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::FromArgMatches;
    let matches = command().try_get_matches_from(args)?;
    if let Some((name, sub)) = matches.subcommand() {
        if let Some(tools) = flavor_tools().find(|t| t.name == name) {
            return Ok(Parsed {
                config: ConfigArgs::from_arg_matches(&matches)?,
                command: Command::Tool(ToolCall {
                    tools,
                    matches: sub.clone(),
                }),
            });
        }
    }
    Cli::from_arg_matches(&matches)?.parsed()
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective values, secrets masked.
    Check,
}

/// Parses arguments, runs the command, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = parse_from(std::env::args_os()).unwrap_or_else(|err| err.exit());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: starting the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Parsed) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Flavors => {
            registry::print(&mut std::io::stdout().lock());
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(ConfigCommand::Check) => config_check(&cli.config).await,
        Command::Rules(cmd) => rules::run(&cli.config, cmd),
        Command::Run { flavor, source } => run(&cli.config, &flavor, &source).await,
        Command::Produce(args) => {
            produce::run(&tool_settings(&cli.config, &[Need::Kafka])?, args).await
        }
        Command::Replay(args) => {
            let settings = tool_settings(&cli.config, &[Need::Kafka, Need::Store])?;
            replay::run(&settings, args).await
        }
        Command::Dlq(cmd) => {
            let settings = tool_settings(&cli.config, cmd.needs())?;
            dlq::run(&settings, cmd).await
        }
        Command::Tool(ToolCall { tools, matches }) => {
            let ctx = flavors::kit::ToolCtx::new(tool_settings(&cli.config, tools.needs)?);
            (tools.run)(&matches, &ctx)
                .await
                .map_err(|err| anyhow::anyhow!("{}: {err}", tools.name))
        }
    }
}

/// The command to run and its configuration layers.
#[derive(Debug)]
pub struct Parsed {
    /// Where configuration comes from.
    pub config: ConfigArgs,
    /// What to do.
    pub command: Command,
}

/// Settings plus logs, for the one-shot tools.
fn tool_settings(config: &ConfigArgs, needs: &[Need]) -> anyhow::Result<Settings> {
    let settings = config.load(needs)?;
    crate::telemetry::init_logs(&settings.telemetry);
    Ok(settings)
}

async fn run(config: &ConfigArgs, flavor: &str, source: &str) -> anyhow::Result<ExitCode> {
    let spec = flavors::find(flavor)?;
    let source = SourceSpec::parse(source).map_err(anyhow::Error::msg)?;
    let needs: &[Need] = match source {
        SourceSpec::Kafka => &[Need::Kafka, Need::Store],
        SourceSpec::File(_) => &[Need::Store],
    };
    let settings = config.load(needs)?;
    crate::telemetry::init_logs(&settings.telemetry);
    let shutdown = crate::shutdown::on_signals();
    let summary = app::run(&settings, spec, source, Some(config.options()), shutdown).await;
    let _ = tokio::task::spawn_blocking(crate::telemetry::shutdown).await;
    let summary = summary.with_context(|| format!("flavor {flavor}"))?;
    tracing::info!(%summary, "stopped");
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}

async fn config_check(config: &ConfigArgs) -> anyhow::Result<ExitCode> {
    // What `run --source kafka` needs: the deployment this checks.
    match config.load(&[Need::Kafka, Need::Store]) {
        Ok(settings) => {
            let problems = app::check_flavor_sections(&settings);
            if !problems.is_empty() {
                eprintln!("invalid configuration ({} problems):", problems.len());
                for p in problems {
                    eprintln!("{p}");
                }
                return Ok(ExitCode::from(2));
            }
            print!("{}", settings.render_masked());
            eprintln!(
                "configuration is valid (environment {})",
                settings.environment
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("invalid configuration:\n{err}");
            Ok(ExitCode::from(2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavor_tools_mount_beside_the_built_in_subcommands() {
        // Panics on a tool named like a built-in or another tool.
        command().debug_assert();
        let parsed =
            parse_from(["ceh", "timeline", "show", "SEC-1", "--set", "a.b=1"]).expect("parses");
        let Command::Tool(call) = parsed.command else {
            panic!("not a tool call: {:?}", parsed.command);
        };
        assert_eq!(call.tools.name, "timeline");
        assert_eq!(call.matches.subcommand_name(), Some("show"));
        assert_eq!(
            parsed.config.overrides,
            ["a.b=1"],
            "global args reach the tool"
        );
    }

    #[test]
    fn built_in_subcommands_still_parse() {
        let parsed = parse_from(["ceh", "flavors"]).expect("parses");
        assert!(matches!(parsed.command, Command::Flavors));
        let bare = parse_from(["ceh", "--flavor", "timeline"]).expect("parses");
        assert!(matches!(bare.command, Command::Run { .. }));
    }
}
