//! Building and writing an evidence bundle.
//!
//! A bundle is a set of named files plus `manifest.json`, which records the SHA-256 of every
//! other file and what produced them. It is built in memory, then written either as a
//! directory (assembled beside the target and renamed into place) or as a deterministic
//! `.tar.gz` (written atomically). Either way a failed export leaves nothing behind.

use std::io::Write;
use std::path::Path;

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

/// A bundle in memory: its files (manifest last) and the manifest.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub files: Vec<(String, Vec<u8>)>,
    pub manifest: Manifest,
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

/// Build every file of the bundle and its manifest.
pub fn build(report: &Report, sources: &Sources) -> Bundle {
    let ev = report.evaluation;
    let snap = &report.input.snapshot;
    let from_csv = report.input.kind == InputKind::CredentialReport;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let snapshot_bytes = match (sources.input, from_csv) {
        (Some(bytes), false) => bytes.to_vec(),
        _ => {
            let mut text = serde_json::to_string_pretty(snap).expect("snapshots serialise");
            text.push('\n');
            text.into_bytes()
        }
    };
    files.push(("snapshot.json".into(), snapshot_bytes));
    if let (Some(bytes), true) = (sources.input, from_csv) {
        files.push(("credential-report.csv".into(), bytes.to_vec()));
    }
    if let Some(bytes) = sources.config {
        files.push(("config.yaml".into(), bytes.to_vec()));
    }
    files.push((
        "findings.json".into(),
        report::json::render(report).into_bytes(),
    ));
    let sarif = report::sarif::render(
        report,
        &report::sarif::SarifOptions {
            artifact: Some(if from_csv {
                "credential-report.csv"
            } else {
                "snapshot.json"
            }),
            category: Some("credwarden-evidence"),
        },
    );
    files.push(("findings.sarif".into(), sarif.text.into_bytes()));
    files.push((
        "report.html".into(),
        report::html::render(report).into_bytes(),
    ));
    let results = controls::evaluate(ev, snap);
    files.push(("controls.csv".into(), controls::csv(&results).into_bytes()));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    if sources.redact {
        for (_, bytes) in &mut files {
            *bytes = report::redact::redact(&String::from_utf8_lossy(bytes)).into_bytes();
        }
    }

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
            findings: ev.findings.iter().filter(|f| !f.suppressed).count(),
            suppressed: ev.findings.iter().filter(|f| f.suppressed).count(),
            frameworks: framework_summaries(&results),
        },
        files: files
            .iter()
            .map(|(path, bytes)| FileEntry {
                path: path.clone(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&manifest).expect("manifests serialise");
    text.push('\n');
    files.push((MANIFEST.into(), text.into_bytes()));
    Bundle { files, manifest }
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

impl Bundle {
    /// The manifest file's SHA-256: record it elsewhere (a ticket, a signed note) and
    /// `evidence verify --manifest-sha256` proves the manifest itself was not rewritten.
    pub fn manifest_sha256(&self) -> String {
        let (_, bytes) = self.files.last().expect("the manifest is always there");
        sha256_hex(bytes)
    }

    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|(_, b)| b.len() as u64).sum()
    }

    /// Write the bundle as the directory `dir`, which must not exist or be empty. The files are
    /// written and synced in a hidden directory beside it, which is then renamed into place.
    pub fn write_dir(&self, dir: &Path) -> Result<(), EvidenceError> {
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
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let staging = tempfile::Builder::new()
            .prefix(".credwarden-evidence-")
            .tempdir_in(parent)
            .map_err(io(parent))?;
        for (name, bytes) in &self.files {
            let path = staging.path().join(name);
            let mut f = std::fs::File::create(&path).map_err(io(&path))?;
            f.write_all(bytes).map_err(io(&path))?;
            f.sync_all().map_err(io(&path))?;
        }
        if dir.is_dir() {
            std::fs::remove_dir(dir).map_err(io(dir))?;
        }
        let staged = staging.keep();
        if let Err(e) = std::fs::rename(&staged, dir) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io(dir)(e));
        }
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// The bundle as a `.tar.gz` whose bytes depend only on its files: entries in name order
    /// under `evidence/`, mode 0644, owner 0, modified at the evaluation time.
    pub fn archive(&self, mtime: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
        let gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for (name, bytes) in &self.files {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(mtime.timestamp().max(0) as u64);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(
                &mut header,
                format!("{ARCHIVE_ROOT}/{name}"),
                bytes.as_slice(),
            )
            .expect("writing to memory cannot fail");
        }
        tar.into_inner()
            .and_then(|gz| gz.finish())
            .expect("writing to memory cannot fail")
    }
}
