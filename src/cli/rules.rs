//! `rules check [DIR]`, `rules list [--project P] [DIR]`, `rules explain
//! RULE --event FILE` and `rules diff --rules NEW_DIR (--events FILE |
//! --topic T --from-time …)`: the rules directory (`src/rules`) as CI and an
//! operator see it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use std::process::ExitCode;

use clap::Subcommand;

use super::ConfigArgs;
use crate::event::{self, CaseEvent, Event};
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
    /// Why a rule fired or did not for one event: trigger, every query term, edge, throttle, maintenance, flags.
    Explain {
        /// The rule's id.
        rule: String,
        /// One event as JSON (the form `replay` and `produce` read); its `case_after` is evaluated at its `occurred_at`.
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "case",
            conflicts_with = "case"
        )]
        event: Option<PathBuf>,
        /// Instead of --event: the newest event of this case in --events or --topic, edge state replayed from its earlier ones.
        #[arg(long, value_name = "CASE_ID", requires = "case_source")]
        case: Option<String>,
        /// With --case: the events, one JSON object a line, in order.
        #[arg(long, value_name = "FILE", requires = "case", group = "case_source")]
        events: Option<PathBuf>,
        /// With --case, instead of --events: the case's events in this topic from --from-time to the end, read from Kafka (nothing committed).
        #[arg(long, value_name = "TOPIC", requires_all = ["case", "case_from_time"], group = "case_source")]
        topic: Option<String>,
        /// With --topic: read from the first record at or after this time (RFC 3339); the case's first event there seeds the edge state.
        #[arg(long = "from-time", id = "case_from_time", value_name = "TIME", value_parser = super::replay::parse_time, requires = "topic")]
        from_time: Option<i64>,
        /// With --case: the newest event that occurred at or before this time (RFC 3339).
        #[arg(long, value_name = "TIME", requires = "case")]
        at: Option<DateTime<Utc>>,
        /// The rule's project (default: the one project that has the rule).
        #[arg(long, value_name = "KEY")]
        project: Option<String>,
        /// The rules directory (default: the configured `rules.dir`).
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// The structured form, as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Replays events (a file, or a topic's time range from Kafka) in dry run under the current and the new rules and prints the firings that differ.
    Diff {
        /// The new rules directory.
        #[arg(long, value_name = "NEW_DIR")]
        rules: PathBuf,
        /// The events, one JSON object a line (the form `replay` and `produce` read), in order.
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "topic",
            conflicts_with = "topic"
        )]
        events: Option<PathBuf>,
        /// Instead of --events: read this topic's time range from Kafka (kafka.brokers); nothing is committed.
        #[arg(long, value_name = "TOPIC", requires = "from_time")]
        topic: Option<String>,
        /// With --topic: from the first record at or after this time (RFC 3339).
        #[arg(long, value_name = "TIME", value_parser = super::replay::parse_time, requires = "topic")]
        from_time: Option<i64>,
        /// With --topic: up to the first record at or after this time (RFC 3339; default: the end).
        #[arg(long, value_name = "TIME", value_parser = super::replay::parse_time, requires = "from_time")]
        to_time: Option<i64>,
        /// The current rules directory (default: the configured `rules.dir`).
        #[arg(long, value_name = "DIR")]
        current: Option<PathBuf>,
        /// The structured form, as JSON.
        #[arg(long)]
        json: bool,
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
        RulesCommand::Explain {
            rule,
            event,
            case,
            events,
            topic,
            from_time,
            at,
            project,
            rules: dir,
            json,
        } => {
            let dir = resolve(config, dir)?;
            let snapshot = rules::load_dir(&dir)?;
            let project = project.as_deref();
            let mut source = None;
            let explained = match (event, case, events, topic.zip(from_time)) {
                (Some(event), _, _, _) => {
                    let event = read_event(&event)?;
                    rules::explain(&snapshot, project, &rule, &event)?
                }
                (None, Some(case), Some(events), _) => {
                    let events = read_events(&events)?;
                    rules::explain_case(&snapshot, project, &rule, &case, at, &events)?
                }
                (None, Some(case), None, Some((topic, from))) => {
                    let mut range = super::rules_live::read(config, &topic, from, None)?;
                    range.events.retain(|e| e.case_id == case);
                    let n = range.events.len();
                    source = Some(format!("{}; {n} of case {case}", range.summary));
                    let events = &range.events;
                    rules::explain_case(&snapshot, project, &rule, &case, at, events)?
                }
                _ => anyhow::bail!(
                    "give --event FILE, or --case CASE_ID with --events FILE or --topic T --from-time TIME"
                ),
            };
            let mut out = std::io::stdout().lock();
            match (&source, json) {
                (Some(source), false) => writeln!(out, "{source}")?,
                (Some(source), true) => eprintln!("{source}"),
                (None, _) => {}
            }
            if json {
                serde_json::to_writer_pretty(&mut out, &explained)?;
                writeln!(out)?;
            } else {
                write!(out, "{explained}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Diff {
            rules: new_dir,
            events,
            topic,
            from_time,
            to_time,
            current,
            json,
        } => {
            let current = resolve(config, current)?;
            let old = rules::load_dir(&current)
                .with_context(|| format!("the current rules {}", current.display()))?;
            let new = rules::load_dir(&new_dir)
                .with_context(|| format!("the new rules {}", new_dir.display()))?;
            let (events, source) = match (events, topic, from_time) {
                (Some(file), _, _) => (read_events(&file)?, None),
                (None, Some(topic), Some(from)) => {
                    let range = super::rules_live::read(config, &topic, from, to_time)?;
                    (range.events, Some(range.summary))
                }
                _ => anyhow::bail!("give --events FILE, or --topic T --from-time TIME"),
            };
            let report = rules::diff(&old, &new, &events);
            let mut out = std::io::stdout().lock();
            match (&source, json) {
                (Some(source), false) => writeln!(out, "{source}")?,
                (Some(source), true) => eprintln!("{source}"),
                (None, _) => {}
            }
            if json {
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
                return Ok(ExitCode::SUCCESS);
            }
            writeln!(
                out,
                "rules diff: {} events, {} cases; current {} (version {}) -> new {} (version {}); dry run, nothing sent",
                report.events,
                report.cases,
                current.display(),
                old.version(),
                new_dir.display(),
                new.version()
            )?;
            writeln!(out, "{}", report.seeding)?;
            let n = report.differences.len();
            match n {
                0 => writeln!(out, "no firings differ")?,
                1 => writeln!(out, "1 firing differs:")?,
                _ => writeln!(out, "{n} firings differ:")?,
            }
            let word = |fired: bool| if fired { "fired" } else { "not fired" };
            for d in &report.differences {
                writeln!(
                    out,
                    "{}/{}\tcase {}\tevent {} ({})\t{} -> {}: {}",
                    d.project,
                    d.rule,
                    d.case_key,
                    d.event_id,
                    d.event_type,
                    word(d.old),
                    word(d.new),
                    d.reason
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Events from a JSON-lines file, in order (blank lines skipped).
fn read_events(path: &Path) -> anyhow::Result<Vec<CaseEvent>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the events {}", path.display()))?;
    let lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    lines
        .map(|(i, line)| {
            event::from_json_line(line)
                .with_context(|| format!("{}:{}: not a valid event", path.display(), i + 1))
        })
        .collect()
}

/// One event from a JSON file (one object; pretty-printed or one line).
fn read_event(path: &Path) -> anyhow::Result<Event> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the event {}", path.display()))?;
    event::event_from_json_line(text.trim())
        .with_context(|| format!("{}: not one valid event as JSON", path.display()))
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
