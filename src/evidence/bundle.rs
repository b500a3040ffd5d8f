//! Building and writing an evidence bundle.
//!
//! A bundle is a set of named files plus `manifest.json`, which records the SHA-256 of every
//! other file and what produced them. Each file is rendered straight into a staging directory
//! beside the target, hashed as it is written, and synced; the staging directory is then
//! renamed into place (a directory bundle) or packed into a deterministic `.tar.gz` (written
//! atomically). Either way a failed export leaves nothing behind, and no file is ever held
//! whole in memory next to the others: at 100,000 users the bundle is a gigabyte.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::controls::{self, ControlResult, Status};
use super::EvidenceError;
use crate::evaluate::{Evaluation, Finding, FindingStream};
use crate::report::held::Held;
use crate::report::kept::Kept;
use crate::report::{self, Report};
use crate::snapshot::{InputKind, LoadedSnapshot};

/// The manifest's own name; every other file is listed in it.
pub const MANIFEST: &str = "manifest.json";
/// The manifest format this version writes (and reads).
pub const FORMAT: &str = "credwarden-evidence/1";
/// The directory every archive entry sits in.
pub const ARCHIVE_ROOT: &str = "evidence";

/// One file of the bundle, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// What the auditor needs to know about a bundle, besides its files.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub tool: Tool,
    /// Access key ids are masked in every file (`--redact`).
    pub redacted: bool,
    /// The evaluation time (the bundle records no other clock).
    pub evaluated_at: String,
    pub collected_at: String,
    pub input: InputFacts,
    /// When each account's credential report was generated.
    pub credential_reports: Vec<ReportFacts>,
    pub policy_bundle: PolicyFacts,
    pub config: Option<ConfigFacts>,
    pub summary: Summary,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputFacts {
    pub kind: &'static str,
    pub path: String,
    pub source: String,
    pub accounts: usize,
    pub accounts_not_collected: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportFacts {
    pub account_id: String,
    pub generated_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyFacts {
    /// SHA-256 over every policy file that ran (bundled and custom).
    pub digest: String,
    pub rules: Vec<String>,
    pub custom_policy_dirs: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigFacts {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub findings: usize,
    pub suppressed: usize,
    pub frameworks: Vec<FrameworkSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkSummary {
    pub id: String,
    pub name: String,
    pub pass: usize,
    pub fail: usize,
    pub not_evaluated: usize,
}

/// A bundle written: its manifest, and every file as the manifest lists it (the manifest's own
/// entry last).
#[derive(Debug, Clone)]
pub struct Written {
    pub manifest: Manifest,
    pub files: Vec<FileEntry>,
}

/// What the export reads besides the evaluation.
pub struct Sources<'a> {
    /// The input file, copied verbatim (a snapshot keeps its hash; a CSV is kept beside the
    /// snapshot made from it). `None` for a live collection.
    pub input: Option<InputFile<'a>>,
    /// The config file's bytes.
    pub config: Option<&'a [u8]>,
    /// Mask access key ids in every file (the snapshot copy is then no longer byte for byte).
    pub redact: bool,
}

/// The input file as it was when it was loaded: its path and SHA-256 ([`InputFile::hash`]
/// before loading it). The copy in the bundle is read from the file and must hash the same, or
/// the export fails ([`EvidenceError::InputChanged`]): the bundle never holds a file other
/// than the one evaluated. Not holding its bytes spares the memory of a copy (118 MB at
/// 100,000 users).
#[derive(Debug, Clone, Copy)]
pub struct InputFile<'a> {
    pub path: &'a Path,
    pub sha256: &'a str,
}

impl InputFile<'_> {
    /// The SHA-256 of the file at `path`, read a block at a time.
    pub fn hash(path: &Path) -> io::Result<String> {
        let mut hasher = Sha256::new();
        io::copy(&mut File::open(path)?, &mut hasher)?;
        Ok(format!("{:x}", hasher.finalize()))
    }

    /// Copy the file into `w`; returns the SHA-256 of what was read.
    fn copy(&self, w: &mut dyn Write) -> io::Result<String> {
        let reading = |e: io::Error| {
            io::Error::new(e.kind(), format!("reading {}: {e}", self.path.display()))
        };
        let mut file = File::open(self.path).map_err(reading)?;
        let mut read = Hashing {
            inner: w,
            hasher: Sha256::new(),
            bytes: 0,
        };
        io::copy(&mut file, &mut read).map_err(reading)?;
        Ok(format!("{:x}", read.hasher.finalize()))
    }

    /// Copy the file into the bundle as `name` (masked or not): fails with
    /// [`EvidenceError::InputChanged`] when what was read is not what was loaded.
    fn put(&self, dir: &Path, name: &str, redact: bool) -> Result<FileEntry, EvidenceError> {
        let mut read = None;
        let entry = put_file(dir, name, redact, &mut |w| {
            read = Some(self.copy(w)?);
            Ok(())
        })?;
        match read {
            Some(hash) if hash == self.sha256 => Ok(entry),
            _ => Err(EvidenceError::InputChanged(self.path.display().to_string())),
        }
    }
}

/// Render every file of the bundle of a whole evaluation into the empty directory `dir`, each
/// hashed as it is written and synced, then the manifest. (`evidence export` streams instead,
/// [`write_files_streamed`], to the same bytes.)
pub fn write_files(
    report: &Report,
    sources: &Sources,
    dir: &Path,
) -> Result<Written, EvidenceError> {
    let ev = report.evaluation;
    let put = |name: &str, write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>| {
        put_file(dir, name, sources.redact, write)
    };
    let mut files = input_files(report.input, sources, dir)?;
    files.push(put("findings.json", &mut |w| {
        report::json::write(report, w)
    })?);
    files.push(put("findings.sarif", &mut |w| {
        w.write_all(sarif(report, report::sarif::MAX_RESULTS).as_bytes())
    })?);
    files.push(put("report.html", &mut |w| {
        w.write_all(report::html::render(report).as_bytes())
    })?);
    let results = controls::evaluate(ev, &report.input.snapshot);
    files.push(put("controls.csv", &mut |w| {
        w.write_all(controls::csv(&results).as_bytes())
    })?);
    write_manifest(report, sources, dir, files, &results)
}

/// Render every file of the bundle into the empty directory `dir` as the evaluation `stream`
/// makes its findings — the bytes [`write_files`] writes of that evaluation made whole — and
/// return the evaluation without its findings.
///
/// One pass over the findings writes them all: each section's JSON and HTML rows are made on
/// the core that made the section; the JSON goes straight into `findings.json`, the rows into
/// an anonymous temporary file until the counts at the top of the page are known; the controls count each
/// rule's failing resources; the SARIF log keeps the findings it shows
/// ([`report::kept::Kept`]). At 100,000 users no more than a section of findings is held at
/// once, not half a million.
pub fn write_files_streamed(
    stream: FindingStream,
    run: &StreamedRun,
    sources: &Sources,
    dir: &Path,
) -> Result<(Written, Evaluation), EvidenceError> {
    write_streamed_with(stream, run, sources, dir, report::sarif::MAX_RESULTS)
}

/// [`write_files_streamed`], the SARIF log showing at most `sarif_max` open (and as many
/// suppressed) findings.
fn write_streamed_with(
    stream: FindingStream,
    run: &StreamedRun,
    sources: &Sources,
    dir: &Path,
    sarif_max: usize,
) -> Result<(Written, Evaluation), EvidenceError> {
    let redact = sources.redact;
    let mut files = input_files(run.input, sources, dir)?;

    let mut json = Staged::create(dir, "findings.json")?;
    // The page's rows wait here until its top, which needs their counts, is written.
    let mut rows = Held::new();
    let mut json_sections = report::json::Sections::begin(
        &stream,
        run.input,
        run.config_path.as_deref(),
        &run.policy_dirs,
        redact,
        &mut json.out,
    )
    .map_err(io_at(&json.path))?;
    let mut page = report::html::Sections::default();
    let mut by_rule = controls::RuleFindings::default();
    let mut kept = Kept::new(sarif_max);
    // Which kept list is full: the cores then stop sending findings for it.
    let full = [AtomicBool::new(false), AtomicBool::new(false)];
    let mut failed: Option<PathBuf> = None;
    let evaluation = stream
        .run(
            |mut section| {
                let json = report::json::Sections::render(&section, redact);
                let rows = report::html::Sections::render(&section, redact);
                let controls = controls::RuleFindings::of(&section);
                section.retain(|f| !full[usize::from(f.suppressed)].load(Ordering::Relaxed));
                Piece {
                    json,
                    rows,
                    controls,
                    kept: section,
                }
            },
            |piece| {
                if let Err(e) = json_sections.write(&piece.json, &mut json.out) {
                    failed = Some(json.path.clone());
                    return Err(e);
                }
                if let Err(e) = rows.write(page.add(piece.rows).as_bytes()) {
                    failed = Some(dir.join("report.html"));
                    return Err(e);
                }
                by_rule.add(piece.controls);
                kept.take(piece.kept);
                for (suppressed, full) in [false, true].into_iter().zip(&full) {
                    full.store(kept.is_full(suppressed), Ordering::Relaxed);
                }
                Ok(())
            },
        )
        .map_err(|source| EvidenceError::Io {
            path: failed.as_deref().unwrap_or(dir).display().to_string(),
            source,
        })?;
    json_sections
        .end(&evaluation, &mut json.out)
        .map_err(io_at(&json.path))?;
    files.push(json.finish()?);

    let mut evaluation = Evaluation {
        findings: kept.into_findings(),
        ..evaluation
    };
    let report = run.report(&evaluation);
    let sarif = sarif(&report, sarif_max);
    files.push(put_file(dir, "findings.sarif", redact, &mut |w| {
        w.write_all(sarif.as_bytes())
    })?);
    drop(sarif);

    let mut html = Staged::create(dir, "report.html")?;
    page.write_top(&report, redact, &mut html.out)
        .and_then(|()| rows.copy_to(&mut html.out))
        .and_then(|()| page.write_bottom(&report, redact, &mut html.out))
        .map_err(io_at(&html.path))?;
    files.push(html.finish()?);

    let results = controls::evaluate_counted(&evaluation.rules, by_rule, &run.input.snapshot);
    files.push(put_file(dir, "controls.csv", redact, &mut |w| {
        w.write_all(controls::csv(&results).as_bytes())
    })?);
    let written = write_manifest(&report, sources, dir, files, &results)?;
    evaluation.findings = Vec::new();
    Ok((written, evaluation))
}

/// What a streamed export knows of the run besides its findings.
pub struct StreamedRun<'a> {
    pub input: &'a LoadedSnapshot,
    pub config_path: Option<PathBuf>,
    pub policy_dirs: Vec<PathBuf>,
}

impl StreamedRun<'_> {
    fn report<'r>(&'r self, evaluation: &'r Evaluation) -> Report<'r> {
        Report {
            evaluation,
            input: self.input,
            config_path: self.config_path.clone(),
            policy_dirs: self.policy_dirs.clone(),
        }
    }
}

/// What one section of a streamed export gives each file.
struct Piece {
    json: Vec<u8>,
    rows: report::html::Rows,
    controls: controls::RuleFindings,
    /// The findings the SARIF log may still keep.
    kept: Vec<Finding>,
}

/// The SARIF log of the bundle, of at most `max` open (and as many suppressed) findings; the
/// report's findings may be only those it keeps.
fn sarif(report: &Report, max: usize) -> String {
    let from_csv = report.input.kind == InputKind::CredentialReport;
    let options = report::sarif::SarifOptions {
        artifact: Some(if from_csv {
            "credential-report.csv"
        } else {
            "snapshot.json"
        }),
        category: Some("credwarden-evidence"),
    };
    report::sarif::render_with_limits(report, &options, max, report::sarif::MAX_GZIP_BYTES).text
}

/// The files of the input: the snapshot (or the snapshot made of a credential report, and the
/// report), and the config.
fn input_files(
    input: &LoadedSnapshot,
    sources: &Sources,
    dir: &Path,
) -> Result<Vec<FileEntry>, EvidenceError> {
    let from_csv = input.kind == InputKind::CredentialReport;
    let put = |name: &str, write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>| {
        put_file(dir, name, sources.redact, write)
    };
    let mut files = Vec::new();
    match (sources.input, from_csv) {
        (Some(file), false) => files.push(file.put(dir, "snapshot.json", sources.redact)?),
        _ => files.push(put("snapshot.json", &mut |w| {
            serde_json::to_writer_pretty(&mut *w, &input.snapshot)?;
            w.write_all(b"\n")
        })?),
    }
    if let (Some(file), true) = (sources.input, from_csv) {
        files.push(file.put(dir, "credential-report.csv", sources.redact)?);
    }
    if let Some(bytes) = sources.config {
        files.push(put("config.yaml", &mut |w| w.write_all(bytes))?);
    }
    Ok(files)
}

/// The manifest of the `files` written, written last.
fn write_manifest(
    report: &Report,
    sources: &Sources,
    dir: &Path,
    mut files: Vec<FileEntry>,
    results: &[ControlResult],
) -> Result<Written, EvidenceError> {
    let ev = report.evaluation;
    let snap = &report.input.snapshot;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = Manifest {
        format: FORMAT,
        tool: Tool {
            name: "credwarden",
            version: env!("CARGO_PKG_VERSION"),
        },
        redacted: sources.redact,
        evaluated_at: rfc3339(ev.evaluated_at),
        collected_at: rfc3339(snap.collected_at),
        input: InputFacts {
            kind: report.input.kind.as_str(),
            path: report.input_uri(),
            source: snap.source.clone(),
            accounts: snap.accounts.len(),
            accounts_not_collected: snap
                .accounts
                .iter()
                .filter(|a| a.error.is_some())
                .map(|a| a.account_id.clone())
                .collect(),
        },
        credential_reports: snap
            .accounts
            .iter()
            .filter(|a| a.error.is_none())
            .map(|a| ReportFacts {
                account_id: a.account_id.clone(),
                generated_at: a
                    .credential_report
                    .as_ref()
                    .and_then(|r| r.generated_at)
                    .map(rfc3339),
            })
            .collect(),
        policy_bundle: PolicyFacts {
            digest: ev.policy_digest.clone(),
            rules: ev.rules.iter().map(|r| r.id.clone()).collect(),
            custom_policy_dirs: report
                .policy_dirs
                .iter()
                .map(|p| report::relative_uri(p))
                .collect(),
        },
        config: match (&report.config_path, sources.config) {
            (Some(path), Some(bytes)) => Some(ConfigFacts {
                path: report::relative_uri(path),
                sha256: sha256_hex(bytes),
            }),
            _ => None,
        },
        summary: Summary {
            findings: ev.tally.open(),
            suppressed: ev.tally.suppressed(),
            frameworks: framework_summaries(results),
        },
        files,
    };
    let mut text = serde_json::to_string_pretty(&manifest).expect("manifests serialise");
    text.push('\n');
    // The manifest is never masked: it holds no key id, only hashes of what was.
    let entry = put_file(dir, MANIFEST, false, &mut |w| w.write_all(text.as_bytes()))?;
    let mut files = manifest.files.clone();
    files.push(entry);
    Ok(Written { manifest, files })
}

/// Write the file `name` in `dir` with what `write` writes (masked when `redact`), synced, and
/// return its entry (size and SHA-256, computed as it is written).
fn put_file(
    dir: &Path,
    name: &str,
    redact: bool,
    write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
) -> Result<FileEntry, EvidenceError> {
    if redact {
        // Masking needs the text whole: one file at a time.
        let mut text = Vec::new();
        write(&mut text).map_err(io_at(&dir.join(name)))?;
        let masked = report::redact::redact(&String::from_utf8_lossy(&text));
        drop(text);
        return put_file(dir, name, false, &mut |w| w.write_all(masked.as_bytes()));
    }
    let mut file = Staged::create(dir, name)?;
    write(&mut file.out).map_err(io_at(&file.path))?;
    file.finish()
}

/// A file of the bundle being written: hashed and counted as it is written, synced when
/// finished.
struct Staged {
    path: PathBuf,
    name: String,
    out: Hashing<BufWriter<File>>,
}

impl Staged {
    fn create(dir: &Path, name: &str) -> Result<Staged, EvidenceError> {
        let path = dir.join(name);
        let file = File::create(&path).map_err(io_at(&path))?;
        Ok(Staged {
            out: Hashing {
                inner: BufWriter::with_capacity(1 << 20, file),
                hasher: Sha256::new(),
                bytes: 0,
            },
            path,
            name: name.to_string(),
        })
    }

    /// Flush and sync the file; its entry in the manifest.
    fn finish(self) -> Result<FileEntry, EvidenceError> {
        let err = io_at(&self.path);
        let file = self
            .out
            .inner
            .into_inner()
            .map_err(|e| err(e.into_error()))?;
        file.sync_all().map_err(err)?;
        Ok(FileEntry {
            path: self.name,
            sha256: format!("{:x}", self.out.hasher.finalize()),
            bytes: self.out.bytes,
        })
    }
}

/// An I/O error at `path`.
fn io_at(path: &Path) -> impl Fn(io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A writer that hashes and counts what goes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn framework_summaries(results: &[ControlResult]) -> Vec<FrameworkSummary> {
    let mut out: Vec<FrameworkSummary> = Vec::new();
    for r in results {
        let i = match out.iter().position(|f| f.id == r.framework) {
            Some(i) => i,
            None => {
                out.push(FrameworkSummary {
                    id: r.framework.clone(),
                    name: r.framework_name.clone(),
                    pass: 0,
                    fail: 0,
                    not_evaluated: 0,
                });
                out.len() - 1
            }
        };
        match r.status {
            Status::Pass => out[i].pass += 1,
            Status::Fail => out[i].fail += 1,
            Status::NotEvaluated => out[i].not_evaluated += 1,
        }
    }
    out
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

impl Written {
    /// The manifest file's SHA-256: record it elsewhere (a ticket, a signed note) and
    /// `evidence verify --manifest-sha256` proves the manifest itself was not rewritten.
    pub fn manifest_sha256(&self) -> &str {
        &self
            .files
            .last()
            .expect("the manifest is always there")
            .sha256
    }

    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

/// A fresh, hidden staging directory beside `target` (so that renaming it into place does not
/// cross file systems); removed when dropped unless kept.
pub fn staging_beside(target: &Path) -> Result<tempfile::TempDir, EvidenceError> {
    let parent = parent_of(target);
    tempfile::Builder::new()
        .prefix(".credwarden-evidence-")
        .tempdir_in(parent)
        .map_err(|source| EvidenceError::Io {
            path: parent.display().to_string(),
            source,
        })
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Write the bundle as the directory `dir`, which must not exist or be empty: rendered by
/// `write` ([`write_files`], [`write_files_streamed`]) in a staging directory beside it, which
/// is then renamed into place.
pub fn write_dir<T>(
    dir: &Path,
    write: impl FnOnce(&Path) -> Result<T, EvidenceError>,
) -> Result<T, EvidenceError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| EvidenceError::Io { path, source }
    };
    if dir.symlink_metadata().is_ok() {
        let empty = dir.is_dir()
            && !dir.is_symlink()
            && std::fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !empty {
            return Err(EvidenceError::Exists(dir.display().to_string()));
        }
    }
    let staging = staging_beside(dir)?;
    let written = write(staging.path())?;
    if dir.is_dir() {
        std::fs::remove_dir(dir).map_err(io(dir))?;
    }
    let staged: PathBuf = staging.keep();
    if let Err(e) = std::fs::rename(&staged, dir) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(io(dir)(e));
    }
    if let Ok(d) = File::open(parent_of(dir)) {
        let _ = d.sync_all();
    }
    Ok(written)
}

/// Pack the bundle's files, read from `dir`, into the `.tar.gz` at `path` (replaced
/// atomically). Its bytes depend only on the files: entries in the manifest's order (the
/// manifest last) under `evidence/`, mode 0644, owner 0, modified at the evaluation time.
pub fn write_archive(
    written: &Written,
    dir: &Path,
    mtime: chrono::DateTime<chrono::Utc>,
    path: &Path,
) -> Result<u64, EvidenceError> {
    let pack = |out: &mut BufWriter<crate::output::Writeback<'_>>| -> io::Result<u64> {
        let mut counted = Counting {
            inner: out,
            bytes: 0,
        };
        // On every core: gzip on one was most of the export's time.
        let gz = super::gzip::ParallelGzip::new(&mut counted, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for entry in &written.files {
            let mut header = tar::Header::new_ustar();
            header.set_size(entry.bytes);
            header.set_mode(0o644);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(mtime.timestamp().max(0) as u64);
            header.set_entry_type(tar::EntryType::Regular);
            let file = File::open(dir.join(&entry.path))?;
            tar.append_data(&mut header, format!("{ARCHIVE_ROOT}/{}", entry.path), file)?;
        }
        tar.into_inner()?.finish()?;
        Ok(counted.bytes)
    };
    crate::output::write_atomic_buffered(path, pack).map_err(|e| EvidenceError::Io {
        path: e.path,
        source: e.source,
    })
}

/// A writer that counts what goes through it.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::evaluate::{Context, Evaluator, PolicySet};

    /// Past the SARIF log's limit, the streamed bundle's cores stop sending the findings the
    /// log will not show, and the log is still the one of the whole evaluation.
    #[test]
    fn the_streamed_sarif_log_keeps_what_the_whole_one_shows() {
        let input =
            crate::snapshot::load::load_snapshot(Path::new("fixtures/demo/snapshot.json")).unwrap();
        let ctx = Context {
            now: "2026-11-21T00:00:00Z".parse().unwrap(),
            config: Config::load(Some(Path::new("fixtures/config/example.yaml"))).unwrap(),
        };
        let mut evaluator = Evaluator::new(PolicySet::load(&[]).unwrap()).unwrap();
        let whole = evaluator.evaluate(&input.snapshot, &ctx).unwrap();
        let suppressed = whole.findings.iter().filter(|f| f.suppressed).count();
        assert!(whole.findings.len() - suppressed > 3 && suppressed >= 1);
        let run = StreamedRun {
            input: &input,
            config_path: None,
            policy_dirs: vec![],
        };
        let sources = Sources {
            input: None,
            config: None,
            redact: false,
        };
        for max in [0, 1, 3, usize::MAX] {
            let dir = tempfile::tempdir().unwrap();
            let stream = evaluator.stream(&input.snapshot, &ctx).unwrap();
            write_streamed_with(stream, &run, &sources, dir.path(), max).unwrap();
            let expected = sarif(&run.report(&whole), max);
            let written = std::fs::read_to_string(dir.path().join("findings.sarif")).unwrap();
            assert!(written == expected, "at most {max} results");
        }
    }

    /// The bundle holds the input file that was loaded, or nothing: a file that no longer
    /// hashes as it did before loading fails the export.
    #[test]
    fn an_input_file_changed_since_it_was_loaded_fails_the_export() {
        let path = Path::new("fixtures/demo/snapshot.json");
        let input = crate::snapshot::load::load_snapshot(path).unwrap();
        let evaluation = Evaluation {
            findings: Vec::new(),
            tally: Default::default(),
            exceptions: Vec::new(),
            rule_timings: Vec::new(),
            rules: Vec::new(),
            evaluated_at: "2026-11-21T00:00:00Z".parse().unwrap(),
            policy_digest: String::new(),
        };
        let report = Report {
            evaluation: &evaluation,
            input: &input,
            config_path: None,
            policy_dirs: vec![],
        };
        let sha256 = InputFile::hash(path).unwrap();
        for redact in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let sources = Sources {
                input: Some(InputFile {
                    path,
                    sha256: &sha256,
                }),
                config: None,
                redact,
            };
            let written = write_files(&report, &sources, dir.path()).unwrap();
            let copy = written.files.iter().find(|f| f.path == "snapshot.json");
            assert_eq!(copy.map(|f| f.sha256 == sha256), Some(!redact));
        }
        for redact in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let other = "0".repeat(64);
            let sources = Sources {
                input: Some(InputFile {
                    path,
                    sha256: &other,
                }),
                config: None,
                redact,
            };
            let err = write_files(&report, &sources, dir.path()).unwrap_err();
            assert_eq!(
                err.to_string(),
                "fixtures/demo/snapshot.json: the file changed while it was being read; export again"
            );
        }
    }
}
