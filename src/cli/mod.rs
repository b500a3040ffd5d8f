//! Command-line interface: one module per command.

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
mod collect;
mod policy;
mod scan;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};

use credwarden::Error;

/// Find and fix risky long-lived AWS credentials, as policy-as-code.
#[derive(Debug, Parser)]
#[command(name = "credwarden", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate live AWS, a snapshot or a credential report, and report findings.
    Scan(scan::ScanArgs),
    /// Collect a snapshot from live AWS (one account, or the Organization with --org).
    #[cfg(feature = "aws")]
    Collect(collect::CollectArgs),
    /// Work with Rego policies.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
}

/// Run a command; `Ok` carries the exit code.
pub fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        #[cfg(feature = "aws")]
        Command::Collect(args) => collect::run(args),
        Command::Policy(cmd) => policy::run(cmd),
    }
}

/// `--now`: an RFC 3339 time, or a date (midnight UTC).
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.to_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!("expected an RFC 3339 time like 2026-11-21T00:00:00Z or a date like 2026-11-21, found {s:?}"))
}
