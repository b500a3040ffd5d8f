//! `credwarden policy …`

use std::path::PathBuf;

use clap::{Args, Subcommand};

use credwarden::evaluate::testing::{self, Outcome};
use credwarden::evaluate::PolicySet;
use credwarden::Error;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run the `test_*` rules of Rego test files (`*_test.rego`), like `opa test`.
    Test(TestArgs),
    /// List every rule, bundled and custom: id, slug, severity, frameworks, source.
    List {
        /// Directories of organisational policies to list beside the bundled ones.
        #[arg(long = "policy", value_name = "DIR")]
        policies: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Lint organisational policies: METADATA, ids, syntax, and the shape of their findings.
    Check {
        /// Directories (or files) of policies.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
    /// Write a Markdown reference page per rule (default: docs/rules).
    Doc {
        /// Directories of organisational policies to document too.
        #[arg(long = "policy", value_name = "DIR")]
        policies: Vec<PathBuf>,
        /// Where to write the pages.
        #[arg(long, value_name = "DIR", default_value = "docs/rules")]
        out: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Directories (or files) of policies and their tests; none runs the bundled suite.
    dirs: Vec<PathBuf>,
    /// Only run tests whose `data.<package>.<name>` path matches this regular expression.
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    run: Option<regex::Regex>,
    /// Report, per policy file, the lines the tests evaluated and those they did not.
    #[arg(long)]
    coverage: bool,
}

fn parse_regex(s: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(s).map_err(|e| format!("not a valid regular expression: {e}"))
}

pub fn run(cmd: PolicyCommand, v: super::Verbosity) -> Result<u8, Error> {
    match cmd {
        PolicyCommand::Test(args) => test(args, v.verbose > 0),
        PolicyCommand::List { policies, format } => {
            super::policy_extra::list(&policies, format == ListFormat::Json)
        }
        PolicyCommand::Check { dirs } => super::policy_extra::check(&dirs),
        PolicyCommand::Doc { policies, out } => super::policy_extra::doc(&policies, &out),
    }
}

/// `verbose` (-v) prints every test, not only failures.
fn test(args: TestArgs, verbose: bool) -> Result<u8, Error> {
    let policies = PolicySet::load_for_tests(&args.dirs)?;
    let run = testing::run(policies, args.run.as_ref(), args.coverage)?;
    let results = run.results;
    let (mut passed, mut failed) = (0, 0);
    for r in &results {
        let at = format!("{}:{}", r.case.file, r.case.line);
        match &r.outcome {
            Outcome::Pass => {
                passed += 1;
                if verbose {
                    outln!("PASS {at}: {} ({:.1?})", r.case.path, r.duration);
                }
            }
            Outcome::Fail => {
                failed += 1;
                outln!("FAIL {at}: {}", r.case.path);
            }
            Outcome::Error(e) => {
                failed += 1;
                outln!("ERROR {at}: {}: {e}", r.case.path);
            }
        }
    }
    if results.is_empty() {
        eprintln!("error: no test_* rules found in *_test.rego files");
        return Ok(1);
    }
    if let Some(coverage) = &run.coverage {
        print_coverage(coverage);
    }
    outln!("{passed} passed, {failed} failed");
    Ok(if failed > 0 { 1 } else { 0 })
}

/// One line per policy file: covered/coverable lines, the percentage, the uncovered lines.
fn print_coverage(files: &[testing::FileCoverage]) {
    let width = files.iter().map(|f| f.file.len()).max().unwrap_or(4).max(4);
    outln!(
        "\n{:<width$}  {:>9}  {:>6}  UNCOVERED LINES",
        "FILE",
        "LINES",
        "COVER"
    );
    let (mut covered, mut total, mut untouched) = (0, 0, 0);
    for f in files {
        if f.not_evaluated() {
            untouched += 1;
            outln!(
                "{:<width$}  {:>9}  {:>5.1}%  all: no test evaluated this file",
                f.file,
                "-",
                0.0
            );
            continue;
        }
        let n = f.covered.len() + f.not_covered.len();
        covered += f.covered.len();
        total += n;
        outln!(
            "{:<width$}  {:>9}  {:>5.1}%  {}",
            f.file,
            format!("{}/{n}", f.covered.len()),
            f.percent(),
            f.uncovered_ranges()
        );
    }
    let percent = if total == 0 {
        0.0
    } else {
        covered as f64 * 100.0 / total as f64
    };
    let note = match untouched {
        0 => String::new(),
        n => format!("  (and {n} file(s) no test evaluated)"),
    };
    outln!(
        "{:<width$}  {:>9}  {:>5.1}%{note}\n",
        "total",
        format!("{covered}/{total}"),
        percent
    );
}
