//! `credwarden remediate plan | show | apply | undo`

use std::path::PathBuf;

use chrono::Utc;
use clap::{Args, Subcommand};

use credwarden::remediate::{self, Plan, PlanOptions};
use credwarden::{output, Error};

use super::scan::{evaluate, Evaluated, Source};
use super::Verbosity;

#[derive(Debug, Subcommand)]
pub enum RemediateCommand {
    /// Make a remediation plan from the findings of a snapshot (or of live AWS).
    Plan(PlanArgs),
    /// Summarise a plan for review: what, why, on which account.
    Show {
        /// The plan file.
        plan: PathBuf,
    },
    /// Apply a reviewed plan: re-check each action live, act, journal.
    #[cfg(feature = "aws")]
    Apply(ApplyArgs),
    /// Reactivate what a journal says was deactivated.
    #[cfg(feature = "aws")]
    Undo(UndoArgs),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A snapshot from `credwarden collect`; without it, live AWS is collected.
    #[arg(long, value_name = "FILE")]
    snapshot: Option<PathBuf>,
    #[command(flatten)]
    eval: super::EvalArgs,
    /// Only act on findings of these rules (comma-separated ids).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    rules: Vec<String>,
    /// Also delete keys that unused-key findings show already inactive.
    #[arg(long)]
    delete_inactive_keys: bool,
    /// Also delete the console password of inactive users (CW301).
    #[arg(long)]
    delete_login_profiles: bool,
    /// Include the SCP that denies iam:CreateAccessKey to all but break-glass principals.
    #[arg(long)]
    scp_guardrail: bool,
    /// Let the SCP guardrail deny iam:CreateUser too.
    #[arg(long, requires = "scp_guardrail")]
    scp_deny_create_user: bool,
    /// A principal ARN pattern the SCP guardrail exempts (repeatable), e.g. a break-glass role.
    #[arg(long, value_name = "ARN", requires = "scp_guardrail")]
    scp_exempt: Vec<String>,
    /// Where to write the plan.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    aws: super::LiveArgs,
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The reviewed plan.
    plan: PathBuf,
    /// Apply without asking (required when standard input is not a terminal).
    #[arg(long)]
    yes: bool,
    /// The journal (JSON lines); default: the plan's path with `.journal.jsonl`.
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Refuse plans older than this many hours.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    max_plan_age: u64,
    /// Configuration: its break-glass users are never acted on.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Create and attach the plan's SCP guardrail (needs --attach-scp-to).
    #[arg(long, requires = "attach_scp_to")]
    apply_scp: bool,
    /// The root (r-…) or OU (ou-…) id to attach the SCP guardrail to (needs --apply-scp).
    #[arg(long, value_name = "ID", requires = "apply_scp")]
    attach_scp_to: Option<String>,
    #[command(flatten)]
    aws: super::aws::AwsArgs,
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The journal of an apply.
    journal: PathBuf,
    /// Undo without asking (required when standard input is not a terminal).
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    aws: super::aws::AwsArgs,
}

pub fn run(cmd: RemediateCommand, v: Verbosity) -> Result<u8, Error> {
    match cmd {
        RemediateCommand::Plan(args) => plan(args, v),
        RemediateCommand::Show { plan } => {
            let text = std::fs::read_to_string(&plan).map_err(|e| {
                Error::Usage(format!("{}: cannot read the plan: {e}", plan.display()))
            })?;
            let parsed: Plan = serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!(
                    "{}:{}:{}: the plan is not valid: {e}",
                    plan.display(),
                    e.line(),
                    e.column()
                ))
            })?;
            out!("{}", remediate::describe(&parsed));
            if parsed.compute_digest() != parsed.digest {
                eprintln!(
                    "warning: {}: the plan was changed after it was made; apply will refuse it",
                    plan.display()
                );
            }
            Ok(0)
        }
        #[cfg(feature = "aws")]
        RemediateCommand::Apply(args) => apply(args, v),
        #[cfg(feature = "aws")]
        RemediateCommand::Undo(args) => undo(args, v),
    }
}

fn plan(args: PlanArgs, v: Verbosity) -> Result<u8, Error> {
    let now = args.eval.now();
    let source = match &args.snapshot {
        Some(path) => Source::Snapshot(path),
        None => Source::Live(Box::new(super::collect_live(&args.aws, v)?)),
    };
    let Evaluated {
        input,
        config,
        evaluation,
        ..
    } = evaluate(source, &args.eval, now)?;
    let opts = PlanOptions {
        rules: args.rules.clone(),
        delete_inactive_keys: args.delete_inactive_keys,
        delete_login_profiles: args.delete_login_profiles,
        scp_guardrail: args.scp_guardrail.then_some(args.scp_deny_create_user),
        scp_exempt: args.scp_exempt.clone(),
    };
    let plan = Plan::build(&input.snapshot, &evaluation, &config, &opts, Utc::now());
    output::write_atomic(&args.output, plan.to_json().as_bytes())?;
    if !v.quiet {
        out!("{}", remediate::describe(&plan));
        outln!(
            "Plan written to {}. Review it, then: credwarden remediate apply {}",
            args.output.display(),
            args.output.display()
        );
    }
    Ok(0)
}

/// Ask on the terminal, or refuse without one.
#[cfg(feature = "aws")]
fn confirm(question: &str, yes: bool) -> Result<bool, Error> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage("refusing to change AWS without confirmation: standard input is not a terminal; review the plan and pass --yes".into()));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::Usage(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES"))
}

#[cfg(feature = "aws")]
fn default_journal(plan: &std::path::Path) -> PathBuf {
    let mut name = plan.file_stem().unwrap_or_default().to_os_string();
    name.push(".journal.jsonl");
    plan.with_file_name(name)
}

#[cfg(feature = "aws")]
fn apply(args: ApplyArgs, v: Verbosity) -> Result<u8, Error> {
    use credwarden::remediate::apply;
    use credwarden::remediate::journal::{Event, Journal};

    let now = Utc::now();
    let plan = remediate::load_plan(&args.plan, now, args.max_plan_age)?;
    let config = credwarden::config::Config::load(args.config.as_deref())?;
    let journal_path = args
        .journal
        .clone()
        .unwrap_or_else(|| default_journal(&args.plan));
    let journal = Journal::open(&journal_path, &plan.digest)?;
    if !v.quiet {
        out!("{}", remediate::describe(&plan));
    }
    if !confirm(
        &format!("Apply {} action(s)?", plan.actions.len()),
        args.yes,
    )? {
        eprintln!("Nothing applied.");
        return Ok(1);
    }
    let runtime = super::runtime()?;
    let scp_target = args.attach_scp_to.as_deref().filter(|_| args.apply_scp);
    if plan.scp_guardrail.is_some() && scp_target.is_none() {
        eprintln!("note: the plan's SCP guardrail is not applied: give --apply-scp --attach-scp-to ROOT_OR_OU_ID (it also blocks key rotation)");
    }
    // The first SIGINT/SIGTERM lets the actions in flight finish and be journalled, and starts
    // no more; a second one stops at once (the journal's `started` lines make a re-run resume).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let options = args.aws.options(None);
    let run = runtime.block_on(async {
        let apply = apply::apply(&plan, journal, &options, &config, scp_target, stop.clone());
        tokio::pin!(apply);
        let signal = tokio::select! {
            summary = &mut apply => return (Some(summary), None),
            signal = super::signal() => signal,
        };
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        eprintln!(
            "{signal}: finishing the actions in flight, starting no more (again to stop now)"
        );
        tokio::select! {
            summary = &mut apply => (Some(summary), Some(signal)),
            again = super::signal() => (None, Some(again)),
        }
    });
    super::exit_on_signal(runtime);
    let (summary, interrupted) = run;
    let summary = match (summary, interrupted) {
        (Some(summary), _) => summary?,
        (None, signal) => {
            return Err(Error::Interrupted {
                signal: signal.expect("only a signal stops the apply early"),
                what: format!(
                    "stopped with actions in flight; the journal {} is consistent: run the same apply again to resume",
                    journal_path.display()
                ),
            })
        }
    };
    for o in &summary.outcomes {
        let label = match o.event {
            Event::Done => "done",
            Event::Skipped => "SKIPPED",
            Event::Failed => "FAILED",
            _ => "?",
        };
        outln!("{} {label}: {}", o.action_id, o.detail);
    }
    let (done, skipped, failed) = (
        summary.count(Event::Done),
        summary.count(Event::Skipped),
        summary.count(Event::Failed),
    );
    outln!(
        "{done} done, {skipped} skipped, {failed} failed{}; journal: {}",
        if summary.already > 0 {
            format!(" ({} already done in an earlier run)", summary.already)
        } else {
            String::new()
        },
        journal_path.display()
    );
    if let Some(signal) = interrupted {
        return Err(Error::Interrupted {
            signal,
            what: format!(
                "{} action(s) not started; the journal {} is consistent: run the same apply again to resume",
                summary.not_started,
                journal_path.display()
            ),
        });
    }
    Ok(if failed > 0 {
        3
    } else if skipped > 0 {
        1
    } else {
        0
    })
}

#[cfg(feature = "aws")]
fn undo(args: UndoArgs, _v: Verbosity) -> Result<u8, Error> {
    use credwarden::remediate::apply;
    use credwarden::remediate::journal::{self, Event, Journal};

    let records = journal::read(&args.journal)?;
    let Some(first) = records.first() else {
        return Err(Error::Usage(format!(
            "{}: the journal is empty",
            args.journal.display()
        )));
    };
    let journal = Journal::open(&args.journal, &first.plan_digest.clone())?;
    if !confirm(
        "Reactivate the access keys this journal deactivated?",
        args.yes,
    )? {
        eprintln!("Nothing undone.");
        return Ok(1);
    }
    let runtime = super::runtime()?;
    let summary = runtime.block_on(apply::undo(journal, &args.aws.options(None)))?;
    for o in &summary.outcomes {
        let label = match o.event {
            Event::Undone => "undone",
            Event::Skipped => "CANNOT UNDO",
            _ => "FAILED",
        };
        outln!("{} {label}: {}", o.action_id, o.detail);
    }
    let (undone, cannot, failed) = (
        summary.count(Event::Undone),
        summary.count(Event::Skipped),
        summary.count(Event::Failed),
    );
    outln!("{undone} undone, {cannot} cannot be undone, {failed} failed");
    Ok(if failed > 0 {
        3
    } else if cannot > 0 {
        1
    } else {
        0
    })
}
