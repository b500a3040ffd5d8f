//! Options shared by the commands that talk to AWS (`collect`, and `scan` without a snapshot).

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use credwarden::collect::{self, CollectOptions, Progress, ProgressFn};
use credwarden::snapshot::Snapshot;
use credwarden::Error;

use super::Verbosity;

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
}

impl AwsArgs {
    pub fn options(&self, progress: Option<ProgressFn>) -> CollectOptions {
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
            progress,
        }
    }
}

/// Progress on stderr: a bar (accounts done, the current step) on a terminal; with -v, a log
/// line per step instead; nothing with -q or when stderr is not a terminal.
fn progress(v: Verbosity) -> (Option<ProgressFn>, Option<ProgressBar>) {
    if v.quiet {
        return (None, None);
    }
    let bar = (v.verbose == 0 && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} accounts {pos}/{len} [{bar:24}] {elapsed} {wide_msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let handle = bar.clone();
    let report: ProgressFn = Arc::new(move |event: Progress| match event {
        Progress::Accounts(n) => {
            tracing::info!("collecting {n} account(s)");
            if let Some(bar) = &handle {
                bar.set_length(n as u64);
            }
        }
        Progress::Phase { account_id, phase } => {
            tracing::info!("{account_id}: {phase}");
            if let Some(bar) = &handle {
                bar.set_message(format!("{account_id}: {phase}"));
            }
        }
        Progress::Done { account_id, failed } => {
            if failed {
                tracing::warn!("{account_id}: not collected");
            } else {
                tracing::info!("{account_id}: done");
            }
            if let Some(bar) = &handle {
                bar.inc(1);
            }
        }
    });
    (Some(report), bar)
}

/// Collect a snapshot, reporting accounts that failed on stderr.
pub fn collect(args: &AwsArgs, v: Verbosity) -> Result<Snapshot, Error> {
    let runtime = super::runtime()?;
    let (report, bar) = progress(v);
    // A signal drops the collection where it stands: nothing has been written yet, and
    // nothing will be (snapshots are only ever written whole, after collection).
    let options = args.options(report);
    let result = runtime.block_on(async {
        tokio::select! {
            result = collect::collect(&options) => Ok(result),
            signal = super::signal() => Err(signal),
        }
    });
    super::exit_on_signal(runtime);
    let result = match result {
        Ok(result) => result,
        Err(signal) => {
            if let Some(bar) = bar {
                bar.abandon();
            }
            return Err(Error::Interrupted {
                signal,
                what: "collection stopped; nothing was written".into(),
            });
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let snapshot = result?;
    for account in &snapshot.accounts {
        if let Some(err) = &account.error {
            eprintln!(
                "error: account {} was not collected: {}",
                account.account_id, err.message
            );
        }
    }
    if let Some(err) = &snapshot.organization_error {
        if args.org {
            tracing::warn!("no Organization data: {}", err.message);
        } else {
            tracing::info!("no Organization data: {}", err.message);
        }
    }
    Ok(snapshot)
}

/// Whether any account failed: such a run exits 3 (AWS access failed) once its output is written.
pub fn any_failed(snapshot: &Snapshot) -> bool {
    snapshot.accounts.iter().any(|a| a.error.is_some())
}
