//! Stage 2 of the pipeline: the snapshot, the one document every policy evaluates.
//!
//! A snapshot comes from `credwarden collect` (a JSON file, [`load`]) or from the CSV that
//! `aws iam get-credential-report` returns ([`credential_report`]). Either way the result is a
//! [`LoadedSnapshot`]: the typed [`Snapshot`] plus where each resource stands in the input file,
//! so that reports (SARIF) can point at a line.

pub mod credential_report;
mod exact;
pub mod load;
pub mod model;
mod split;
mod tags;
pub mod timestamp;

use std::collections::HashMap;
use std::path::PathBuf;

pub use model::*;
pub use tags::Tags;

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

/// An input file's bytes: read into memory, or mapped from the file.
pub(crate) enum InputBytes {
    Read(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for InputBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            InputBytes::Read(bytes) => bytes,
            InputBytes::Mapped(map) => map,
        }
    }
}

impl InputBytes {
    /// The bytes as a vector of their own (copied when mapped).
    pub(crate) fn into_vec(self) -> Vec<u8> {
        match self {
            InputBytes::Read(bytes) => bytes,
            InputBytes::Mapped(map) => map.to_vec(),
        }
    }
}

/// Files at least this large are mapped rather than read: reading copies every byte into
/// fresh memory, which the kernel must first zero — on the virtual machines CI gates run on,
/// the single largest cost of loading a large snapshot (perf: a tenth of a 100,000-user scan
/// with custom rules). A small file gains nothing from a mapping.
pub(crate) const MAP_AT_LEAST: u64 = 4 << 20;

/// Read a file, refusing one larger than [`max_input_bytes`] without reading it (and stopping
/// at the limit for a file or pipe that does not know its size). A large regular file is mapped
/// instead of read (see [`MAP_AT_LEAST`]); where mapping fails it is read.
pub(crate) fn read_input(path: &std::path::Path) -> Result<InputBytes, ReadError> {
    use std::io::Read;
    let limit = max_input_bytes();
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    let size = metadata.len();
    if size > limit {
        return Err(ReadError::TooLarge { limit });
    }
    if metadata.is_file() && size >= MAP_AT_LEAST {
        // SAFETY: the mapping is read-only and private, and is dropped before the load returns
        // (the snapshot parsed from it owns its data). Were another process to shrink the file
        // while it is parsed, the read would fault, as it does for ripgrep and every reader of
        // mapped files; credwarden never writes its input.
        if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
            if map.len() as u64 == size {
                return Ok(InputBytes::Mapped(map));
            }
        }
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(InputBytes::Read(bytes))
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
