//! `case-event-handler webhook …`: the endpoints and their queues
//! (`endpoints`, `resend`, `enable`), and for receivers debugging their
//! side, `sign` and `verify` (Standard Webhooks, checked against the
//! spec's test vectors).

use std::path::PathBuf;
use std::process::ExitCode;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use clap::{FromArgMatches, Subcommand};
use futures::FutureExt;

use crate::flavors::kit::delivery;
use crate::flavors::kit::inbound::verify::{Key, Keyring, Verifier};
use crate::flavors::kit::inbound::StandardWebhooks;
use crate::flavors::kit::{FlavorTools, ToolCtx, ToolError, ToolResult};
use crate::store::now_ms;

/// The row's tools.
pub static TOOLS: FlavorTools = FlavorTools {
    name: "webhook",
    about: "Webhook endpoints and their queues; sign and verify deliveries",
    needs: &[],
    command: |cmd| Tool::augment_subcommands(cmd).subcommand_required(true),
    run: |matches, ctx| run(matches, ctx).boxed(),
};

#[derive(Debug, Subcommand)]
enum Tool {
    /// Each endpoint's state (active, held or disabled, and why), queue
    /// depth and latest attempts.
    Endpoints {
        /// Latest rows shown per endpoint.
        #[arg(long, default_value_t = 3)]
        last: u32,
    },
    /// Re-queues an endpoint's dead rows (with --delivered, its delivered
    /// ones too) whose events are at or after --since; same webhook-id.
    Resend {
        /// The endpoint: PROJECT/name (e.g. SEC/soc-intake).
        #[arg(long)]
        endpoint: String,
        /// RFC 3339 instant, e.g. 2026-12-01T00:00:00Z.
        #[arg(long)]
        since: String,
        /// Delivered rows too (receivers dedupe on webhook-id).
        #[arg(long)]
        delivered: bool,
    },
    /// Enables an endpoint the queue disabled (410, or failing too long).
    Enable {
        /// The endpoint: PROJECT/name.
        #[arg(long)]
        endpoint: String,
    },
    /// Prints the three Standard Webhooks headers for a body.
    Sign {
        #[command(flatten)]
        secret: SecretArgs,
        /// The body, exactly as sent.
        #[arg(long)]
        file: PathBuf,
        /// The webhook-id (default: a new UUIDv7).
        #[arg(long)]
        id: Option<String>,
        /// The webhook-timestamp, Unix seconds (default: now).
        #[arg(long)]
        timestamp: Option<i64>,
    },
    /// Verifies a delivery: exit 0 when the signature is valid and fresh.
    Verify {
        #[command(flatten)]
        secret: SecretArgs,
        /// The body, exactly as received.
        #[arg(long)]
        file: PathBuf,
        /// The headers, one per line, `name: value`.
        #[arg(long)]
        headers: PathBuf,
        /// Accepted timestamp skew, seconds.
        #[arg(long, default_value_t = 300)]
        tolerance: u64,
        /// "Now" as Unix seconds (to check a recorded delivery).
        #[arg(long)]
        now: Option<i64>,
    },
}

/// Where the signing secret comes from.
#[derive(Debug, clap::Args)]
struct SecretArgs {
    /// The signing secret, whsec_<base64> (or --secret-file).
    #[arg(long, required_unless_present = "secret_file")]
    secret: Option<String>,
    /// A file holding the secret.
    #[arg(long)]
    secret_file: Option<PathBuf>,
}

impl SecretArgs {
    /// The secret's text.
    fn text(self) -> Result<String, ToolError> {
        match (self.secret, self.secret_file) {
            (Some(secret), _) => Ok(secret),
            (None, Some(file)) => Ok(std::fs::read_to_string(&file)
                .map_err(|e| format!("{}: {e}", file.display()))?
                .trim_end()
                .to_owned()),
            (None, None) => Err("give --secret or --secret-file".into()),
        }
    }
}

async fn run(matches: &clap::ArgMatches, ctx: &ToolCtx) -> ToolResult {
    match Tool::from_arg_matches(matches)? {
        Tool::Endpoints { last } => endpoints(ctx, last).await,
        Tool::Resend {
            endpoint,
            since,
            delivered,
        } => {
            let since = chrono::DateTime::parse_from_rfc3339(&since)
                .map_err(|e| format!("--since {since}: not an RFC 3339 instant: {e}"))?;
            let store = ctx.store().await?;
            let (flavor, at) = (super::SPEC.name, since.timestamp_millis());
            let n =
                delivery::requeue(store.pool(), flavor, &endpoint, at, delivered, now_ms()).await?;
            println!("re-queued {n} deliveries to {endpoint}");
            Ok(ExitCode::SUCCESS)
        }
        Tool::Enable { endpoint } => {
            let store = ctx.store().await?;
            delivery::enable(store.pool(), super::SPEC.name, &endpoint, now_ms()).await?;
            println!("enabled {endpoint}");
            Ok(ExitCode::SUCCESS)
        }
        Tool::Sign {
            secret,
            file,
            id,
            timestamp,
        } => {
            let secret = StandardWebhooks::decode_secret(&secret.text()?)
                .map_err(|_| "the secret is not whsec_<base64>")?;
            let body = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let id = id.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
            let ts = timestamp.unwrap_or_else(|| chrono::Utc::now().timestamp());
            println!("webhook-id: {id}");
            println!("webhook-timestamp: {ts}");
            println!(
                "webhook-signature: {}",
                super::signature(&[secret], &id, ts, &body)
            );
            Ok(ExitCode::SUCCESS)
        }
        Tool::Verify {
            secret,
            file,
            headers,
            tolerance,
            now,
        } => {
            let secret = secret.text()?;
            let body = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let text = std::fs::read_to_string(&headers)
                .map_err(|e| format!("{}: {e}", headers.display()))?;
            let now = now.unwrap_or_else(|| chrono::Utc::now().timestamp());
            Ok(match verify(&secret, &body, &text, tolerance, now)? {
                Ok(()) => {
                    println!("valid");
                    ExitCode::SUCCESS
                }
                Err(why) => {
                    println!("invalid: {why}");
                    ExitCode::from(1)
                }
            })
        }
    }
}

/// Verifies `body` with the headers of `text` (`name: value` per line);
/// the outer error is unusable input, the inner one a refusal.
pub fn verify(
    secret: &str,
    body: &[u8],
    text: &str,
    tolerance_s: u64,
    now_s: i64,
) -> Result<Result<(), String>, ToolError> {
    let mut headers = HeaderMap::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (name, value) = (line.split_once(':'))
            .ok_or_else(|| format!("headers line {}: not `name: value`", i + 1))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|e| format!("headers line {}: {e}", i + 1))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|e| format!("headers line {}: {e}", i + 1))?;
        headers.append(name, value);
    }
    let keys = Keyring::new([Key::new("secret", secret.as_bytes())]);
    let verifier = StandardWebhooks::new(&keys, std::time::Duration::from_secs(tolerance_s))?;
    Ok(verifier
        .verify(&headers, body, now_s)
        .map(|_| ())
        .map_err(|refusal| refusal.to_string()))
}

/// Prints every configured endpoint (from the rules directory) and every
/// destination with rows, with state, depth and latest rows.
async fn endpoints(ctx: &ToolCtx, last: u32) -> ToolResult {
    let store = ctx.store().await?;
    let flavor = super::SPEC.name;
    let mut depths: std::collections::BTreeMap<String, delivery::Depth> =
        (delivery::depth(store.pool(), flavor).await?.into_iter())
            .map(|d| (d.destination.clone(), d))
            .collect();
    if let Some(dir) = &ctx.settings().rules.dir {
        let rules =
            crate::rules::Rules::load(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for project in rules.snapshot().projects() {
            for w in &project.rules.webhooks {
                let name = super::destination(&project.key, &w.name);
                let entry = depths.entry(name).or_default();
                if !w.enabled {
                    entry.reason = "disabled in the rules".into();
                }
            }
        }
    }
    for (name, d) in &depths {
        let state = if d.state.is_empty() {
            "active"
        } else {
            &d.state
        };
        println!(
            "{name}\t{state}\tpending={} leased={} dead={}\t{}",
            d.pending, d.leased, d.dead, d.reason
        );
        for r in delivery::recent(store.pool(), flavor, name, last).await? {
            println!(
                "  {}\t{}\tattempts={}\t{}",
                r.event_id, r.state, r.attempts, r.last_error
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
