//! Stage 2 of the pipeline: the snapshot, the one document every policy evaluates.
//!
//! A snapshot comes from `credwarden collect` (a JSON file, [`load`]) or from the CSV that
//! `aws iam get-credential-report` returns ([`credential_report`]). Either way the result is a
//! [`LoadedSnapshot`]: the typed [`Snapshot`] plus where each resource stands in the input file,
//! so that reports (SARIF) can point at a line.

pub mod credential_report;
pub mod load;
pub mod model;

use std::collections::HashMap;
use std::path::PathBuf;

pub use model::*;

/// What kind of file the snapshot was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Snapshot,
    CredentialReport,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InputKind::Snapshot => "snapshot",
            InputKind::CredentialReport => "credential-report",
        }
    }
}

/// A snapshot with the file it came from and the line of each resource in that file.
#[derive(Debug, Clone)]
pub struct LoadedSnapshot {
    pub snapshot: Snapshot,
    pub path: PathBuf,
    pub kind: InputKind,
    /// 1-based line of a resource, keyed by ARN, access key id, or `account:<id>`.
    pub lines: HashMap<String, u32>,
}

impl LoadedSnapshot {
    /// The line where a resource is described in the input, or 1 when it cannot be placed.
    pub fn line_of(&self, keys: &[&str]) -> u32 {
        keys.iter()
            .find_map(|k| self.lines.get(*k).copied())
            .unwrap_or(1)
    }
}
