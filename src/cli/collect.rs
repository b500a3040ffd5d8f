//! `credwarden collect`

use std::path::PathBuf;

use clap::Args;

use credwarden::{output, Error};

use super::aws::{self, AwsArgs};

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Where to write the snapshot (atomically: an interrupted run leaves no partial file).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn run(args: CollectArgs, v: super::Verbosity) -> Result<u8, Error> {
    let snapshot = aws::collect(&args.aws, v)?;
    let mut text = serde_json::to_string_pretty(&snapshot).expect("a snapshot serialises");
    text.push('\n');
    output::write_atomic(&args.output, text.as_bytes())?;
    Ok(if aws::any_failed(&snapshot) { 3 } else { 0 })
}
