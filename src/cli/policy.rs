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
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Directories (or files) of policies and their tests; none runs the bundled suite.
    dirs: Vec<PathBuf>,
    /// Only run tests whose `data.<package>.<name>` path contains this text.
    #[arg(long)]
    run: Option<String>,
}

pub fn run(cmd: PolicyCommand, v: super::Verbosity) -> Result<u8, Error> {
    match cmd {
        PolicyCommand::Test(args) => test(args, v.verbose > 0),
    }
}

/// `verbose` (-v) prints every test, not only failures.
fn test(args: TestArgs, verbose: bool) -> Result<u8, Error> {
    let policies = PolicySet::load_for_tests(&args.dirs)?;
    let results = testing::run(policies, args.run.as_deref())?;
    let (mut passed, mut failed) = (0, 0);
    for r in &results {
        let at = format!("{}:{}", r.case.file, r.case.line);
        match &r.outcome {
            Outcome::Pass => {
                passed += 1;
                if verbose {
                    println!("PASS {at}: {} ({:.1?})", r.case.path, r.duration);
                }
            }
            Outcome::Fail => {
                failed += 1;
                println!("FAIL {at}: {}", r.case.path);
            }
            Outcome::Error(e) => {
                failed += 1;
                println!("ERROR {at}: {}: {e}", r.case.path);
            }
        }
    }
    if results.is_empty() {
        eprintln!("error: no test_* rules found in *_test.rego files");
        return Ok(1);
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed > 0 { 1 } else { 0 })
}
