//! Options shared by the commands that talk to AWS (`collect`, and `scan` without a snapshot).

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;

use credwarden::collect::{self, CollectOptions, Progress, ProgressFn};
use credwarden::snapshot::Snapshot;
use credwarden::Error;

#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// A named profile of the AWS shared config files.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// The region for the AWS clients (IAM and Organizations are global).
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// Collect every active account of the AWS Organization, by assuming --role-name in each.
    #[arg(long)]
    org: bool,
    /// The role assumed in member accounts with --org.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "OrganizationAccountAccessRole"
    )]
    role_name: String,
    /// The external id the member accounts' role requires, if any.
    #[arg(long, value_name = "ID")]
    external_id: Option<String>,
    /// Accounts collected at once with --org.
    #[arg(long, value_name = "N", default_value_t = 4)]
    concurrency: usize,
    /// Regenerate a credential report older than this many hours.
    #[arg(long, value_name = "HOURS", default_value_t = 4)]
    report_max_age: u64,
    /// Stop waiting for a credential report after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    report_timeout: u64,
    /// Attempts per AWS call (throttling is retried with adaptive backoff).
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_attempts: u32,
    /// Print each account's progress.
    #[arg(short, long)]
    verbose: bool,
    /// Print nothing but errors.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
}

impl AwsArgs {
    fn options(&self) -> CollectOptions {
        CollectOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
            org: self.org,
            role_name: self.role_name.clone(),
            external_id: self.external_id.clone(),
            concurrency: self.concurrency,
            report_max_age: Duration::from_secs(self.report_max_age * 3600),
            report_timeout: Duration::from_secs(self.report_timeout),
            max_attempts: self.max_attempts,
            progress: self.progress(),
        }
    }

    /// Progress on stderr: a line per event with -v, a self-updating line on a terminal, else none.
    fn progress(&self) -> Option<ProgressFn> {
        if self.quiet {
            return None;
        }
        let tty = std::io::stderr().is_terminal();
        if !self.verbose && !tty {
            return None;
        }
        let verbose = self.verbose;
        let state = Arc::new(Mutex::new((0usize, 0usize)));
        Some(Arc::new(move |event: Progress| {
            let mut s = state.lock().expect("progress lock");
            let line = match event {
                Progress::Accounts(n) => {
                    s.1 = n;
                    format!("collecting {n} account(s)")
                }
                Progress::Phase { account_id, phase } => {
                    format!("[{}/{}] {account_id}: {phase}", s.0, s.1)
                }
                Progress::Done { account_id, failed } => {
                    s.0 += 1;
                    format!(
                        "[{}/{}] {account_id}: {}",
                        s.0,
                        s.1,
                        if failed { "FAILED" } else { "done" }
                    )
                }
            };
            if verbose {
                eprintln!("{line}");
            } else {
                eprint!("\r\x1b[2K{line}");
                if s.0 == s.1 && s.1 > 0 {
                    eprintln!();
                }
            }
        }))
    }
}

/// Collect a snapshot, reporting accounts that failed on stderr.
pub fn collect(args: &AwsArgs) -> Result<Snapshot, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    let snapshot = runtime.block_on(collect::collect(&args.options()))?;
    for account in &snapshot.accounts {
        if let Some(err) = &account.error {
            eprintln!(
                "error: account {} was not collected: {}",
                account.account_id, err.message
            );
        }
    }
    if let (Some(err), false) = (&snapshot.organization_error, args.quiet) {
        if args.org || args.verbose {
            eprintln!("note: no Organization data: {}", err.message);
        }
    }
    Ok(snapshot)
}

/// Whether any account failed: such a run exits 3 (AWS access failed) once its output is written.
pub fn any_failed(snapshot: &Snapshot) -> bool {
    snapshot.accounts.iter().any(|a| a.error.is_some())
}
