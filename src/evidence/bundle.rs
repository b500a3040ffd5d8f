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

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::controls::{self, ControlResult, Status};
use super::EvidenceError;
use crate::report::{self, Report};
use crate::snapshot::InputKind;

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
    /// The input file's bytes, copied verbatim (a snapshot keeps its hash; a CSV is kept beside
    /// the snapshot made from it). `None` for a live collection.
    pub input: Option<&'a [u8]>,
    /// The config file's bytes.
    pub config: Option<&'a [u8]>,
    /// Mask access key ids in every file (the snapshot copy is then no longer byte for byte).
    pub redact: bool,
}

/// Render every file of the bundle into the empty directory `dir`, each hashed as it is
/// written and synced, then the manifest.
pub fn write_files(
    report: &Report,
    sources: &Sources,
    dir: &Path,
) -> Result<Written, EvidenceError> {
    let ev = report.evaluation;
    let snap = &report.input.snapshot;
    let from_csv = report.input.kind == InputKind::CredentialReport;
    let put = |name: &str, write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>| {
        put_file(dir, name, sources.redact, write)
    };
    let mut files = Vec::new();
    files.push(put(
        "snapshot.json",
        &mut |w| match (sources.input, from_csv) {
            (Some(bytes), false) => w.write_all(bytes),
            _ => {
                serde_json::to_writer_pretty(&mut *w, snap)?;
                w.write_all(b"\n")
            }
        },
    )?);
    if let (Some(bytes), true) = (sources.input, from_csv) {
        files.push(put("credential-report.csv", &mut |w| w.write_all(bytes))?);
    }
    if let Some(bytes) = sources.config {
        files.push(put("config.yaml", &mut |w| w.write_all(bytes))?);
    }
    files.push(put("findings.json", &mut |w| {
        report::json::write(report, w)
    })?);
    let sarif_options = report::sarif::SarifOptions {
        artifact: Some(if from_csv {
            "credential-report.csv"
        } else {
            "snapshot.json"
        }),
        category: Some("credwarden-evidence"),
    };
    files.push(put("findings.sarif", &mut |w| {
        w.write_all(
            report::sarif::render(report, &sarif_options)
                .text
                .as_bytes(),
        )
    })?);
    files.push(put("report.html", &mut |w| {
        w.write_all(report::html::render(report).as_bytes())
    })?);
    let results = controls::evaluate(ev, snap);
    files.push(put("controls.csv", &mut |w| {
        w.write_all(controls::csv(&results).as_bytes())
    })?);
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
            frameworks: framework_summaries(&results),
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
        write(&mut text).expect("writing to memory");
        let masked = report::redact::redact(&String::from_utf8_lossy(&text));
        drop(text);
        return put_file(dir, name, false, &mut |w| w.write_all(masked.as_bytes()));
    }
    let path = dir.join(name);
    let err = |source| EvidenceError::Io {
        path: path.display().to_string(),
        source,
    };
    let file = File::create(&path).map_err(err)?;
    let mut out = Hashing {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    write(&mut out).map_err(err)?;
    let file = out.inner.into_inner().map_err(|e| err(e.into_error()))?;
    file.sync_all().map_err(err)?;
    Ok(FileEntry {
        path: name.to_string(),
        sha256: format!("{:x}", out.hasher.finalize()),
        bytes: out.bytes,
    })
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

/// Write the bundle as the directory `dir`, which must not exist or be empty: rendered in a
/// staging directory beside it, which is then renamed into place.
pub fn write_dir(report: &Report, sources: &Sources, dir: &Path) -> Result<Written, EvidenceError> {
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
    let written = write_files(report, sources, staging.path())?;
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
        let gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(&mut counted, flate2::Compression::default());
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
