//! Stage 2 of the pipeline: the snapshot, the one document every policy evaluates.
//!
//! A snapshot comes from `credwarden collect` (a JSON file, [`load`]) or from the CSV that
//! `aws iam get-credential-report` returns ([`credential_report`]). Either way the result is a
//! [`LoadedSnapshot`]: the typed [`Snapshot`] plus where each resource stands in the input file,
//! so that reports (SARIF) can point at a line.

pub mod credential_report;
pub mod load;
pub mod model;
mod split;
pub mod timestamp;

use std::collections::HashMap;
use std::path::PathBuf;

pub use model::*;

/// The largest input file read by default: 256 MiB (a snapshot of about 300,000 users). A
/// snapshot is held in memory whole, and evaluation needs many times its size (3.1 GB for the
/// 81 MB of 100,000 users), so a bigger file is refused up front with a clear error rather than
/// exhausting memory. `CREDWARDEN_MAX_INPUT_BYTES` sets another limit.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 256 << 20;

/// The input size limit in force.
pub fn max_input_bytes() -> u64 {
    std::env::var("CREDWARDEN_MAX_INPUT_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_INPUT_BYTES)
}

/// Why an input file could not be read whole.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(std::io::Error),
    TooLarge { limit: u64 },
}

/// Read a file, refusing one larger than [`max_input_bytes`] without reading it (and stopping
/// at the limit for a file or pipe that does not know its size).
pub(crate) fn read_input(path: &std::path::Path) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let limit = max_input_bytes();
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let size = file.metadata().map_err(ReadError::Io)?.len();
    if size > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// The message for an input over the limit.
pub(crate) fn too_large(limit: u64) -> String {
    format!(
        "larger than the input limit of {limit} bytes; credwarden holds an input in memory whole \
         and evaluation needs several times its size. Split the collection (one account per \
         snapshot), or set CREDWARDEN_MAX_INPUT_BYTES to a higher limit if the machine has the memory"
    )
}

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
    /// 1-based line of a resource, keyed by ARN, access key id, or `account:<id>`; `None` for
    /// a snapshot file, indexed when asked (only SARIF asks, and only for what it shows).
    lines: Option<HashMap<String, u32>>,
}

impl LoadedSnapshot {
    /// An input whose resource lines are already known (or unknowable: empty).
    pub fn with_lines(
        snapshot: Snapshot,
        path: PathBuf,
        kind: InputKind,
        lines: HashMap<String, u32>,
    ) -> LoadedSnapshot {
        LoadedSnapshot {
            snapshot,
            path,
            kind,
            lines: Some(lines),
        }
    }

    /// A snapshot read from the file at `path`, its lines indexed from that file when asked.
    pub fn from_file(snapshot: Snapshot, path: PathBuf) -> LoadedSnapshot {
        LoadedSnapshot {
            snapshot,
            path,
            kind: InputKind::Snapshot,
            lines: None,
        }
    }

    /// The line where each resource is described in the input, or 1 when it cannot be placed;
    /// a resource is named by its keys (ARN, access key id, `account:<id>`), the first found
    /// wins.
    pub fn lines_of(&self, resources: &[[&str; 3]]) -> Vec<u32> {
        let read;
        let lines = match &self.lines {
            Some(lines) => lines,
            None => {
                let wanted: std::collections::HashSet<&str> =
                    resources.iter().flatten().copied().collect();
                read = load::index_file_lines(&self.path, &|key| wanted.contains(key))
                    .unwrap_or_default();
                &read
            }
        };
        resources
            .iter()
            .map(|keys| {
                keys.iter()
                    .find_map(|k| lines.get(*k).copied())
                    .unwrap_or(1)
            })
            .collect()
    }
}
