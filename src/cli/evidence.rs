//! `credwarden evidence export | verify`

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use credwarden::evidence::bundle::StreamedRun;
use credwarden::evidence::{self, InputFile, Sources};
use credwarden::Error;

use super::scan::{load_with_evaluator, InputArgs, Source};

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Write an evidence bundle: snapshot, findings (JSON, SARIF, HTML), control results, and a
    /// manifest of SHA-256 hashes.
    Export(Box<ExportArgs>),
    /// Recompute every hash of a bundle (directory or .tar.gz); report files changed, missing
    /// or added.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The input (a credential report's CSV is kept in the bundle beside its snapshot).
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    eval: super::EvalArgs,
    /// Write the bundle as this directory (it must not exist, or be empty).
    #[arg(long, value_name = "DIR", required_unless_present = "archive")]
    out: Option<PathBuf>,
    /// Write the bundle as this .tar.gz (replaced atomically if it exists).
    #[arg(long, value_name = "FILE")]
    archive: Option<PathBuf>,
    /// Mask access key ids in every file of the bundle, the snapshot copy included.
    #[arg(long)]
    redact: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle: a directory, or a .tar.gz.
    bundle: PathBuf,
    /// The manifest's SHA-256 as recorded at export time: proves the manifest itself is the
    /// one that was exported.
    #[arg(long, value_name = "HEX")]
    manifest_sha256: Option<String>,
}

pub fn run(cmd: EvidenceCommand, v: super::Verbosity) -> Result<u8, Error> {
    match cmd {
        EvidenceCommand::Export(args) => export(*args, v),
        EvidenceCommand::Verify(args) => verify(args),
    }
}

fn export(args: ExportArgs, v: super::Verbosity) -> Result<u8, Error> {
    let now = args.eval.now();
    let input_path = args.input.path();
    // The bundle copies the file that was loaded: hashed before loading, and the copy must
    // hash the same.
    let input_sha256 = input_path
        .map(|path| {
            InputFile::hash(path)
                .map_err(|e| Error::Usage(format!("{}: cannot read: {e}", path.display())))
        })
        .transpose()?;
    let source = args.input.source(v)?;
    let live = matches!(source, Source::Live(_));
    let (input, ctx, mut evaluator) = load_with_evaluator(source, &args.eval, now)?;
    let collection_failed = live && input.snapshot.accounts.iter().any(|a| a.error.is_some());
    let config_bytes = args.eval.config.as_deref().map(read).transpose()?;
    let stream = evaluator.stream(&input.snapshot, &ctx)?;
    let run = StreamedRun {
        input: &input,
        config_path: args.eval.config.clone(),
        policy_dirs: args.eval.policies.clone(),
    };
    let sources = Sources {
        input: input_path
            .zip(input_sha256.as_deref())
            .map(|(path, sha256)| InputFile { path, sha256 }),
        config: config_bytes.as_deref(),
        redact: args.redact,
    };
    let write = |dir: &Path| evidence::bundle::write_files_streamed(stream, &run, &sources, dir);
    let say = |text: String| {
        if !v.quiet {
            eprintln!("{text}");
        }
    };
    // The files are rendered once: into the bundle directory, or (an archive alone) into a
    // staging directory beside the archive, removed once the archive is written.
    let (written, files_dir, _staging) = match (&args.out, &args.archive) {
        (Some(dir), _) => {
            let (written, _) = evidence::bundle::write_dir(dir, write)?;
            say(format!(
                "evidence bundle written to {} ({} files, {} bytes)",
                dir.display(),
                written.files.len(),
                written.total_bytes()
            ));
            (written, dir.clone(), None)
        }
        (None, Some(path)) => {
            let staging = evidence::bundle::staging_beside(path)?;
            let (written, _) = write(staging.path())?;
            (written, staging.path().to_path_buf(), Some(staging))
        }
        (None, None) => unreachable!("clap requires --out or --archive"),
    };
    if let Some(path) = &args.archive {
        // Entries are dated at the evaluation time.
        let bytes = evidence::bundle::write_archive(&written, &files_dir, now, path)?;
        say(format!(
            "evidence archive written to {} ({bytes} bytes)",
            path.display(),
        ));
    }
    let controls = &written.manifest.summary.frameworks;
    for fw in controls {
        say(format!(
            "  {:<16} {:>2} pass  {:>2} fail  {:>2} not evaluated",
            fw.id, fw.pass, fw.fail, fw.not_evaluated
        ));
    }
    outln!("manifest sha256 {}", written.manifest_sha256());
    // As in `scan`: the snapshot is left to the end of the process, not freed piece by piece.
    std::mem::forget((input, ctx, evaluator));
    Ok(if collection_failed { 3 } else { 0 })
}

fn verify(args: VerifyArgs) -> Result<u8, Error> {
    let v = evidence::verify(&args.bundle)?;
    for path in &v.changed {
        outln!("CHANGED {path}");
    }
    for path in &v.missing {
        outln!("MISSING {path}");
    }
    for path in &v.added {
        outln!("ADDED   {path}");
    }
    let manifest_ok = args
        .manifest_sha256
        .as_deref()
        .is_none_or(|want| want.eq_ignore_ascii_case(&v.manifest_sha256));
    if !manifest_ok {
        outln!(
            "CHANGED manifest.json (sha256 {}, expected {})",
            v.manifest_sha256,
            args.manifest_sha256.as_deref().unwrap_or_default()
        );
    }
    if v.ok() && manifest_ok {
        outln!(
            "ok: {} files match the manifest (manifest sha256 {})",
            v.intact.len(),
            v.manifest_sha256
        );
        Ok(0)
    } else {
        let altered = v.changed.len() + v.missing.len() + v.added.len() + usize::from(!manifest_ok);
        outln!(
            "FAILED: {altered} file(s) differ from the manifest; {} intact",
            v.intact.len()
        );
        Ok(1)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Usage(format!("{}: cannot read: {e}", path.display())))
}
