//! `credwarden scan`

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};

use credwarden::config::Config;
use credwarden::evaluate::{Context, Evaluation, FindingStream, Severity, Tally};
use credwarden::report::text::{GroupBy, TextOptions};
use credwarden::report::{self, Format, Report};
use credwarden::snapshot::credential_report::load_credential_report;
use credwarden::snapshot::load::load_snapshot;
use credwarden::snapshot::{InputKind, LoadedSnapshot};
use credwarden::{output, Error};

/// The input of an evaluation: a snapshot, a credential report, or (neither) live AWS.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// A snapshot written by `credwarden collect` (JSON, schema 1.x).
    #[arg(long, value_name = "FILE", conflicts_with = "credential_report")]
    pub snapshot: Option<PathBuf>,
    /// The CSV of `aws iam get-credential-report` (base64-decoded).
    #[arg(long, value_name = "FILE")]
    pub credential_report: Option<PathBuf>,
    /// The report's GeneratedTime (the CSV does not carry it); enables CW901.
    #[arg(long, value_name = "TIME", value_parser = super::parse_time, requires = "credential_report")]
    pub report_generated_at: Option<DateTime<Utc>>,
    #[command(flatten)]
    pub aws: super::LiveArgs,
}

impl InputArgs {
    /// The input file, if there is one.
    pub fn path(&self) -> Option<&Path> {
        self.snapshot
            .as_deref()
            .or(self.credential_report.as_deref())
    }

    /// The file to load, or a live collection made now.
    pub fn source(&self, v: super::Verbosity) -> Result<Source<'_>, Error> {
        Ok(match (&self.snapshot, &self.credential_report) {
            (Some(path), _) => Source::Snapshot(path),
            (None, Some(path)) => Source::CredentialReport(path, self.report_generated_at),
            (None, None) => Source::Live(Box::new(super::collect_live(&self.aws, v)?)),
        })
    }
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    eval: super::EvalArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity is not suppressed.
    #[arg(long, value_name = "SEVERITY", default_value = "none", value_parser = parse_fail_on)]
    fail_on: FailOn,
    /// Grouping of the text report.
    #[arg(long, value_enum, default_value_t = GroupBy::Rule)]
    group_by: GroupBy,
    /// The relative path SARIF results point at (default: the input file).
    #[arg(long, value_name = "PATH")]
    sarif_artifact: Option<String>,
    /// The SARIF analysis category (GitHub keeps one set of alerts per category).
    #[arg(long, value_name = "NAME")]
    sarif_category: Option<String>,
    /// Mask access key ids in the report (AKIA************MPLE), in every format.
    #[arg(long)]
    redact: bool,
    /// Colour in the text report.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy)]
struct FailOn(Option<Severity>);

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(FailOn(None));
    }
    s.parse::<Severity>()
        .map(|s| FailOn(Some(s)))
        .map_err(|_| format!("expected none, critical, high, medium, low or info; found {s:?}"))
}

pub fn run(args: ScanArgs, v: super::Verbosity) -> Result<u8, Error> {
    let now = args.eval.now();
    let source = args.input.source(v)?;
    // JSON, CSV, text and HTML are written as the findings are made (HTML holding its rows as
    // text), and SARIF and Markdown keep only the findings they show: at 100,000 users half a
    // million findings are never held at once.
    match args.format {
        Format::Json => {
            let (config_path, policy_dirs) = (args.eval.config.clone(), args.eval.policies.clone());
            stream_report(source, &args, now, |stream, input, out| {
                report::json::write_streamed(
                    stream,
                    input,
                    config_path,
                    policy_dirs,
                    args.redact,
                    out,
                )
            })
        }
        Format::Csv => stream_report(source, &args, now, |stream, _, out| {
            report::csv::write_streamed(stream, args.redact, out)
        }),
        Format::Text => {
            let opts = TextOptions {
                group_by: args.group_by,
                color: args.color(),
            };
            stream_report(source, &args, now, |stream, input, out| {
                report::text::write_streamed(stream, input, opts, args.redact, out)
            })
        }
        Format::Sarif => render_report(source, &args, now, report::sarif::MAX_RESULTS, |report| {
            let options = report::sarif::SarifOptions {
                artifact: args.sarif_artifact.as_deref(),
                category: args.sarif_category.as_deref(),
            };
            let sarif = report::sarif::render(report, &options);
            for warning in &sarif.warnings {
                eprintln!("warning: {warning}");
            }
            sarif.text
        }),
        Format::Markdown => render_report(
            source,
            &args,
            now,
            report::markdown::KEPT,
            report::markdown::render,
        ),
        Format::Html => stream_report(source, &args, now, |stream, input, out| {
            report::html::write_streamed(stream, input, args.redact, out)
        }),
    }
}

/// A report rendered (masked with `--redact`) from the evaluation, of which only the first
/// `keep` open and suppressed findings are kept.
fn render_report(
    source: Source,
    args: &ScanArgs,
    now: DateTime<Utc>,
    keep: usize,
    render: impl FnOnce(&Report) -> String,
) -> Result<u8, Error> {
    let evaluated = evaluate_keeping(source, &args.eval, now, Some(keep))?;
    let rendered = render(&evaluated.report(&args.eval));
    let rendered = if args.redact {
        report::redact::redact(&rendered)
    } else {
        rendered
    };
    emit(args.output.as_deref(), |w| w.write_all(rendered.as_bytes()))?;
    Ok(finish(evaluated, args.fail_on.0))
}

impl ScanArgs {
    /// Whether the text report is coloured.
    fn color(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                self.output.is_none()
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// A report written as the evaluation streams its findings (by `write`), to the output file
/// (atomically) or to standard output.
fn stream_report(
    source: Source,
    args: &ScanArgs,
    now: DateTime<Utc>,
    write: impl FnOnce(FindingStream, &LoadedSnapshot, &mut dyn Write) -> std::io::Result<Evaluation>,
) -> Result<u8, Error> {
    let live = matches!(source, Source::Live(_));
    let (input, ctx, mut evaluator) = load_with_evaluator(source, &args.eval, now)?;
    let collection_failed = live && input.snapshot.accounts.iter().any(|a| a.error.is_some());
    let stream = evaluator.stream(&input.snapshot, &ctx)?;
    let evaluation = match args.output.as_deref() {
        Some(path) => output::write_atomic_buffered(path, |w| write(stream, &input, w))?,
        None => {
            // A closed pipe (e.g. `| head`) is not an error worth reporting; the evaluation goes
            // on, for the exit code.
            let mut stdout = Forgiving(std::io::BufWriter::new(std::io::stdout().lock()));
            let evaluation =
                write(stream, &input, &mut stdout).map_err(|source| output::OutputError {
                    path: "standard output".into(),
                    source,
                })?;
            let _ = stdout.0.flush();
            evaluation
        }
    };
    let code = exit_code(collection_failed, &evaluation.tally, args.fail_on.0);
    // As in `finish`: left to the end of the process, the evaluator too (its engine holds the
    // input that custom rules read: a value per field of every user, a tenth of a second to
    // free at 100,000 users).
    std::mem::forget((input, ctx, evaluation, evaluator));
    Ok(code)
}

/// A writer that, after its first error, discards what it is given.
struct Forgiving<W>(W);

impl<W: Write> Write for Forgiving<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(self.0.write(buf).unwrap_or(buf.len()))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = self.0.flush();
        Ok(())
    }
}

/// The exit code, once everything is written. The snapshot and findings are left to the end of
/// the process instead of being freed one allocation at a time: at 100,000 users that is
/// millions of allocations and well over a second for nothing.
fn finish(evaluated: Evaluated, fail_on: Option<credwarden::evaluate::Severity>) -> u8 {
    let code = exit_code(
        evaluated.collection_failed,
        &evaluated.evaluation.tally,
        fail_on,
    );
    std::mem::forget(evaluated);
    code
}

/// Write the report to `output` atomically, or to stdout.
fn emit(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    match output {
        Some(path) => output::write_atomic_with(path, write)?,
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe (e.g. `| head`) is not an error worth reporting.
            let _ = write(&mut stdout).and_then(|()| stdout.flush());
        }
    }
    Ok(())
}

/// 3 when an account could not be collected, else 1 when an open finding is at or above the
/// `--fail-on` severity, else 0.
fn exit_code(collection_failed: bool, tally: &Tally, fail_on: Option<Severity>) -> u8 {
    if collection_failed {
        3
    } else if fail_on.is_some_and(|t| tally.any_open_at_or_above(t)) {
        1
    } else {
        0
    }
}

/// Where the snapshot comes from.
pub(super) enum Source<'a> {
    Snapshot(&'a Path),
    CredentialReport(&'a Path, Option<DateTime<Utc>>),
    Live(Box<credwarden::snapshot::Snapshot>),
}

/// A snapshot evaluated with the config and policies.
pub(super) struct Evaluated {
    pub input: LoadedSnapshot,
    pub config: Config,
    pub evaluation: Evaluation,
    /// Some account of a live collection failed.
    pub collection_failed: bool,
    /// Kept to be left to the end of the process with the rest (see [`finish`]).
    pub _evaluator: credwarden::evaluate::Evaluator,
}

impl Evaluated {
    /// What the reporters need.
    pub fn report<'a>(&'a self, eval: &super::EvalArgs) -> Report<'a> {
        Report {
            evaluation: &self.evaluation,
            input: &self.input,
            config_path: eval.config.clone(),
            policy_dirs: eval.policies.clone(),
        }
    }
}

/// Load (or take) the snapshot, and load the config.
pub(super) fn load_input(
    source: Source,
    config_path: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<(LoadedSnapshot, Config), Error> {
    let config = Config::load(config_path)?;
    Ok((load_source(source, now)?, config))
}

/// The input, the evaluation's context (`now` and the config) and an evaluator made for it.
/// The policies are read, parsed and their custom rules compiled on the other cores while the
/// snapshot is loaded: neither needs the other. Errors come as [`load_input`] and then
/// [`super::EvalArgs::evaluator_for`] give them: the config's, the input's, the policies'.
pub(super) fn load_with_evaluator(
    source: Source,
    args: &super::EvalArgs,
    now: DateTime<Utc>,
) -> Result<(LoadedSnapshot, Context, credwarden::evaluate::Evaluator), Error> {
    let config = Config::load(args.config.as_deref())?;
    let ctx = Context { now, config };
    let (input, evaluator) = std::thread::scope(|scope| {
        let evaluator = std::thread::Builder::new()
            .name("policies".into())
            .spawn_scoped(scope, || args.evaluator_for(&ctx));
        let input = load_source(source, now);
        let evaluator = match evaluator {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            // No thread to be had: the policies after the input, as before.
            Err(_) => args.evaluator_for(&ctx),
        };
        (input, evaluator)
    });
    let input = input?;
    Ok((input, ctx, evaluator?))
}

/// Load (or take) the input of `source`.
fn load_source(source: Source, now: DateTime<Utc>) -> Result<LoadedSnapshot, Error> {
    Ok(match source {
        Source::Snapshot(path) => load_snapshot(path)?,
        Source::CredentialReport(path, generated) => {
            load_credential_report(path, generated, generated.unwrap_or(now))?
        }
        Source::Live(snapshot) => LoadedSnapshot::with_lines(
            *snapshot,
            PathBuf::from("aws"),
            InputKind::Snapshot,
            Default::default(),
        ),
    })
}

/// Load (or take) the snapshot, the config and the policies, and evaluate at `now`.
pub(super) fn evaluate(
    source: Source,
    args: &super::EvalArgs,
    now: DateTime<Utc>,
) -> Result<Evaluated, Error> {
    evaluate_keeping(source, args, now, None)
}

/// Evaluate, keeping every finding, or only the first `keep` open and suppressed ones (all that
/// a SARIF log or a Markdown summary shows; [`report::kept::Kept`]): the tally counts them all.
fn evaluate_keeping(
    source: Source,
    args: &super::EvalArgs,
    now: DateTime<Utc>,
    keep: Option<usize>,
) -> Result<Evaluated, Error> {
    let live = matches!(source, Source::Live(_));
    let (input, ctx, mut evaluator) = load_with_evaluator(source, args, now)?;
    let collection_failed = live && input.snapshot.accounts.iter().any(|a| a.error.is_some());
    let config = ctx.config.clone();
    let evaluation = match keep {
        None => evaluator.evaluate(&input.snapshot, &ctx)?,
        Some(max) => report::kept::evaluate_kept(evaluator.stream(&input.snapshot, &ctx)?, max),
    };
    Ok(Evaluated {
        input,
        config,
        evaluation,
        collection_failed,
        _evaluator: evaluator,
    })
}
