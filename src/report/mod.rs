//! Stage 4 of the pipeline: findings into reports.
//!
//! Every format renders the same [`Report`]: the evaluation plus what was evaluated. Output is
//! deterministic: findings are already sorted, maps are ordered, and no format reads the clock.

pub mod csv;
pub(crate) mod held;
pub mod html;
pub mod json;
pub mod kept;
pub mod markdown;
pub mod redact;
pub mod sarif;
pub mod text;

use std::collections::HashMap;
use std::path::PathBuf;

use crate::evaluate::{Evaluation, Finding, Severity};
use crate::snapshot::{LoadedSnapshot, Snapshot};

/// Everything a reporter needs.
pub struct Report<'a> {
    pub evaluation: &'a Evaluation,
    pub input: &'a LoadedSnapshot,
    pub config_path: Option<PathBuf>,
    pub policy_dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    /// A short summary for CI job summaries.
    Markdown,
    /// One row per finding, for spreadsheets.
    Csv,
    /// One self-contained page (no network): summary, key-age chart, filterable findings.
    Html,
}

/// Counts of findings that are not suppressed, by severity (most severe first).
pub fn severity_counts(evaluation: &Evaluation) -> Vec<(Severity, usize)> {
    evaluation.tally.by_severity().collect()
}

/// Open findings by account id and severity, for the reports' account tables: counted in one pass
/// (not one per account and severity: at 100,000 users that was 500 passes over half a million
/// findings), or section by section and added up.
#[derive(Debug, Default)]
pub struct OpenByAccount(HashMap<String, [usize; Severity::ALL.len()]>);

impl OpenByAccount {
    pub fn count(&mut self, findings: &[Finding]) {
        for f in findings.iter().filter(|f| !f.suppressed) {
            let counts = match self.0.get_mut(f.account_id.as_str()) {
                Some(counts) => counts,
                None => self.0.entry(f.account_id.to_string()).or_default(),
            };
            counts[f.severity.rank()] += 1;
        }
    }

    /// Add counts made apart (of other sections).
    pub fn add(&mut self, other: OpenByAccount) {
        for (account, n) in other.0 {
            let sum = self.0.entry(account).or_default();
            for (sum, n) in sum.iter_mut().zip(n) {
                *sum += n;
            }
        }
    }

    pub fn get(&self, account_id: &str, severity: Severity) -> usize {
        self.0.get(account_id).map_or(0, |n| n[severity.rank()])
    }
}

/// Per-account facts shown in reports.
pub struct AccountSummary<'a> {
    pub account_id: &'a str,
    pub alias: Option<&'a str>,
    pub users: usize,
    pub access_keys: usize,
    pub report_generated_at: Option<chrono::DateTime<chrono::Utc>>,
    pub error: Option<&'a str>,
}

pub fn account_summaries(snapshot: &Snapshot) -> Vec<AccountSummary<'_>> {
    snapshot
        .accounts
        .iter()
        .map(|a| AccountSummary {
            account_id: &a.account_id,
            alias: a.alias.as_deref(),
            users: a.users.len(),
            access_keys: a.users.iter().map(|u| u.access_keys.len()).sum(),
            report_generated_at: a.credential_report.as_ref().and_then(|r| r.generated_at),
            error: a.error.as_ref().map(|e| e.message.as_str()),
        })
        .collect()
}

impl Report<'_> {
    /// The input path as a relative, forward-slash URI (for SARIF and reports).
    pub fn input_uri(&self) -> String {
        relative_uri(&self.input.path)
    }
}

/// A path relative to the current directory when it lies below it, with `/` separators.
pub fn relative_uri(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().ok();
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.as_ref().map_or(path.to_path_buf(), |c| c.join(path))
    };
    let rel = cwd
        .as_ref()
        .and_then(|c| abs.strip_prefix(c).ok().map(|p| p.to_path_buf()))
        .unwrap_or_else(|| {
            if path.is_relative() {
                path.to_path_buf()
            } else {
                PathBuf::from(path.file_name().unwrap_or(path.as_os_str()))
            }
        });
    let text = rel.to_string_lossy().replace('\\', "/");
    let text = text.trim_start_matches("./").to_string();
    if text.is_empty() {
        "snapshot.json".to_string()
    } else {
        text
    }
}
