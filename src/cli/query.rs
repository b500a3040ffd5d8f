//! `credwarden query`: ad-hoc Rego over a snapshot, like `opa eval`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use credwarden::evaluate::query::{table, QueryOutput};
use credwarden::evaluate::Context;
use credwarden::Error;

use super::scan::{load_input, Source};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  credwarden query --snapshot s.json 'count(input.accounts)'
  credwarden query --snapshot s.json --format table \\
    '{u.user_name: n | some a in input.accounts; some u in a.users;
      n := count([k | some k in u.access_keys; data.credwarden.lib.never_used(k)]); n > 0}'

`input` is the snapshot; `data.credwarden.now`, `.now_ns` and `.config` are set as for a scan;
the bundled helpers are in `data.credwarden.lib`. Exit 0 with a result, 1 when the query is
undefined, 2 on an error.")]
pub struct QueryArgs {
    /// The Rego query (an expression, or several separated by `;`).
    query: String,
    /// A snapshot written by `credwarden collect`.
    #[arg(long, value_name = "FILE", conflicts_with = "credential_report")]
    snapshot: Option<PathBuf>,
    /// The CSV of `aws iam get-credential-report`.
    #[arg(long, value_name = "FILE", required_unless_present = "snapshot")]
    credential_report: Option<PathBuf>,
    #[command(flatten)]
    eval: super::EvalArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryFormat::Json)]
    format: QueryFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum QueryFormat {
    Json,
    Table,
}

pub fn run(args: QueryArgs) -> Result<u8, Error> {
    let now = args.eval.now();
    let source = match (&args.snapshot, &args.credential_report) {
        (Some(path), _) => Source::Snapshot(path),
        (None, Some(path)) => Source::CredentialReport(path, None),
        (None, None) => unreachable!("clap requires one input"),
    };
    let (input, config) = load_input(source, args.eval.config.as_deref(), now)?;
    let mut evaluator = args.eval.evaluator()?;
    let output = evaluator.query(&input.snapshot, &Context { now, config }, &args.query)?;
    match (&output, args.format) {
        (QueryOutput::Undefined, _) => {
            eprintln!("undefined: the query has no result");
            return Ok(1);
        }
        (_, QueryFormat::Table) => out!("{}", table(&output)),
        (QueryOutput::Value(v), QueryFormat::Json) => outln!("{}", pretty(v)),
        (QueryOutput::Bindings(rows), QueryFormat::Json) => {
            let rows: Vec<_> = rows
                .iter()
                .cloned()
                .map(serde_json::Value::Object)
                .collect();
            outln!("{}", pretty(&serde_json::Value::Array(rows)))
        }
    }
    Ok(0)
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON values serialise")
}
