//! Command-line interface: one module per command.

/// `print!` to standard output, ignoring a closed pipe (`credwarden … | head` is not an error).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `println!` to standard output, ignoring a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

#[cfg(feature = "aws")]
mod aws;
#[cfg(feature = "aws")]
mod collect;
mod evidence;
mod policy;
mod policy_extra;
mod query;
mod remediate;
mod scan;

use std::io::IsTerminal;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};

use credwarden::Error;

/// Find and fix risky long-lived AWS credentials, as policy-as-code.
#[derive(Debug, Parser)]
#[command(name = "credwarden", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More detail on stderr: -v steps, -vv AWS SDK requests (or set CREDWARDEN_LOG).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Nothing on stderr but errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
}

/// How chatty stderr is.
#[derive(Debug, Clone, Copy)]
pub struct Verbosity {
    pub verbose: u8,
    pub quiet: bool,
}

impl Cli {
    pub fn verbosity(&self) -> Verbosity {
        Verbosity {
            verbose: self.verbose,
            quiet: self.quiet,
        }
    }
}

/// Logs go to stderr: warnings by default, credwarden's steps with -v, the AWS SDK's with -vv.
/// `CREDWARDEN_LOG` (an `env_logger`-style filter) overrides.
pub fn init_logging(v: Verbosity) {
    let default = match (v.quiet, v.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,credwarden=info",
        (false, 2) => "info,credwarden=debug,aws_smithy_runtime=debug",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CREDWARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, as the text report does: a log piped into a
        // file or a CI system's log keeps no escape codes.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(v.verbose > 1)
        .without_time()
        .try_init();
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
    /// Evidence for auditors: export a bundle with a manifest of hashes; verify one.
    #[command(subcommand)]
    Evidence(evidence::EvidenceCommand),
    /// Ask an ad-hoc Rego question of a snapshot (like `opa eval`).
    Query(query::QueryArgs),
    /// Fix findings safely: plan, review, apply with a journal, undo.
    #[command(subcommand)]
    Remediate(remediate::RemediateCommand),
}

/// Run a command; `Ok` carries the exit code.
pub fn run(cli: Cli) -> Result<u8, Error> {
    let v = cli.verbosity();
    init_logging(v);
    match cli.command {
        Command::Scan(args) => scan::run(args, v),
        #[cfg(feature = "aws")]
        Command::Collect(args) => collect::run(args, v),
        Command::Policy(cmd) => policy::run(cmd, v),
        Command::Remediate(cmd) => remediate::run(cmd, v),
        Command::Query(args) => query::run(args),
        Command::Evidence(cmd) => evidence::run(cmd, v),
    }
}

/// The first SIGINT or SIGTERM to arrive.
#[cfg(feature = "aws")]
pub async fn signal() -> credwarden::Signal {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // No signal handling (should not happen on Unix): never resolve.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => credwarden::Signal::Interrupt,
        _ = term.recv() => credwarden::Signal::Terminate,
    }
}

/// Once a cooperative phase (collection, apply) is over, a signal ends the process at once.
/// That is safe: every file credwarden writes appears whole (a temporary file renamed into
/// place) or not at all.
#[cfg(feature = "aws")]
pub fn exit_on_signal(runtime: tokio::runtime::Runtime) {
    std::thread::spawn(move || {
        let signal = runtime.block_on(signal());
        eprintln!("error: interrupted by {signal}; no partial output is left");
        std::process::exit(signal.exit_code().into());
    });
}

/// The async runtime the AWS SDK runs on.
#[cfg(feature = "aws")]
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))
}

/// The AWS options of commands that can collect live when given no input file.
#[cfg(feature = "aws")]
pub type LiveArgs = aws::AwsArgs;

/// Without the `aws` feature there is nothing to configure: live collection is refused.
#[cfg(not(feature = "aws"))]
#[derive(Debug, clap::Args)]
pub struct LiveArgs {}

/// Collect a snapshot from live AWS (the input of a command given no input file).
#[cfg(feature = "aws")]
pub fn collect_live(
    args: &LiveArgs,
    v: Verbosity,
) -> Result<credwarden::snapshot::Snapshot, Error> {
    aws::collect(args, v)
}

#[cfg(not(feature = "aws"))]
pub fn collect_live(_: &LiveArgs, _: Verbosity) -> Result<credwarden::snapshot::Snapshot, Error> {
    Err(Error::Usage(
        "no input: give --snapshot FILE (or --credential-report FILE); this build has no live AWS collection (feature `aws`)".into(),
    ))
}

/// What an evaluation takes besides its input: config, organisational policies, time.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Configuration: thresholds, break-glass users, rules, exceptions.
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// A directory of organisational Rego policies to run beside the bundled ones (repeatable).
    #[arg(long = "policy", value_name = "DIR")]
    pub policies: Vec<std::path::PathBuf>,
    /// Evaluation time (RFC 3339 or YYYY-MM-DD); default: now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<DateTime<Utc>>,
    /// Stop a rule that evaluates for longer than this many seconds (a looping policy).
    #[arg(long, value_name = "SECONDS", default_value_t = credwarden::evaluate::DEFAULT_RULE_TIME_LIMIT.as_secs_f64(), value_parser = parse_seconds)]
    pub rule_time_limit: f64,
    /// How the bundled rules run. `fast`: the per-user rules as native code on every core
    /// (identical findings, tested); `rego`: every rule in the Rego interpreter, the reference.
    #[arg(long, value_enum, default_value_t = Engine::Fast)]
    pub engine: Engine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    Fast,
    Rego,
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() && n <= 86_400.0 => Ok(n),
        _ => Err(format!(
            "expected a number of seconds between 0 and 86400, found {s:?}"
        )),
    }
}

impl EvalArgs {
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    /// An evaluator of the bundled and `--policy` rules, with the time limit set.
    pub fn evaluator(&self) -> Result<credwarden::evaluate::Evaluator, Error> {
        let set = credwarden::evaluate::PolicySet::load(&self.policies)?;
        let mut evaluator = credwarden::evaluate::Evaluator::new(set)?;
        evaluator.set_strategy(self.strategy());
        self.limit(evaluator)
    }

    /// [`EvalArgs::evaluator`], for an evaluation under `ctx`: custom rules are compiled while
    /// the policies are parsed.
    pub fn evaluator_for(
        &self,
        ctx: &credwarden::evaluate::Context,
    ) -> Result<credwarden::evaluate::Evaluator, Error> {
        let started = std::time::Instant::now();
        let set = credwarden::evaluate::PolicySet::load(&self.policies)?;
        tracing::debug!(
            "{} policy files read, with their METADATA, in {:?}",
            set.files.len(),
            started.elapsed()
        );
        let evaluator = credwarden::evaluate::Evaluator::for_context(set, ctx, self.strategy())?;
        self.limit(evaluator)
    }

    fn strategy(&self) -> credwarden::evaluate::Strategy {
        match self.engine {
            Engine::Fast => credwarden::evaluate::Strategy::Fast,
            Engine::Rego => credwarden::evaluate::Strategy::Rego,
        }
    }

    fn limit(
        &self,
        mut evaluator: credwarden::evaluate::Evaluator,
    ) -> Result<credwarden::evaluate::Evaluator, Error> {
        evaluator.set_rule_time_limit(std::time::Duration::from_secs_f64(self.rule_time_limit));
        Ok(evaluator)
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks (e.g. two flags claiming `-v`).
    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
