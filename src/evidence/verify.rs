//! `evidence verify`: recompute every hash of a bundle and say what changed.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::bundle::{sha256_hex, FileEntry, ARCHIVE_ROOT, FORMAT, MANIFEST};
use super::EvidenceError;

/// What a verification found, file by file (sorted by path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    pub intact: Vec<String>,
    /// Present, but its SHA-256 differs from the manifest's.
    pub changed: Vec<String>,
    /// Listed in the manifest, absent from the bundle.
    pub missing: Vec<String>,
    /// In the bundle, not listed in the manifest.
    pub added: Vec<String>,
    pub manifest_sha256: String,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.added.is_empty()
    }
}

#[derive(Debug, Deserialize)]
struct ManifestFiles {
    format: String,
    files: Vec<FileEntry>,
}

/// Verify a bundle directory, or a `.tar.gz` made by `evidence export --archive`.
pub fn verify(path: &Path) -> Result<Verification, EvidenceError> {
    let files = if path.is_dir() {
        read_dir(path)?
    } else {
        read_archive(path)?
    };
    check(path, files)
}

fn check(path: &Path, mut files: BTreeMap<String, Vec<u8>>) -> Result<Verification, EvidenceError> {
    let manifest_path = format!("{}/{MANIFEST}", path.display());
    let bytes = files
        .remove(MANIFEST)
        .ok_or_else(|| EvidenceError::BadManifest {
            path: manifest_path.clone(),
            message: "not found: this is not an evidence bundle (or its manifest was removed)"
                .into(),
        })?;
    let text = String::from_utf8_lossy(&bytes);
    let manifest: ManifestFiles =
        serde_json::from_str(&text).map_err(|e| EvidenceError::BadManifest {
            path: format!("{manifest_path}:{}:{}", e.line(), e.column()),
            message: format!(
                "{e}; expected the manifest.json written by `credwarden evidence export`"
            ),
        })?;
    if manifest.format != FORMAT {
        return Err(EvidenceError::BadManifest {
            path: manifest_path,
            message: format!("format {:?} is not {FORMAT:?}", manifest.format),
        });
    }
    let mut v = Verification {
        manifest_sha256: sha256_hex(&bytes),
        ..Verification::default()
    };
    for entry in &manifest.files {
        match files.remove(&entry.path) {
            None => v.missing.push(entry.path.clone()),
            Some(content) if sha256_hex(&content) != entry.sha256 => {
                v.changed.push(entry.path.clone())
            }
            Some(_) => v.intact.push(entry.path.clone()),
        }
    }
    v.added = files.into_keys().collect();
    for list in [&mut v.intact, &mut v.changed, &mut v.missing] {
        list.sort();
    }
    Ok(v)
}

/// Every regular file below `dir`, by `/`-separated relative path.
fn read_dir(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, EvidenceError> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let io = |source| EvidenceError::Io {
            path: d.display().to_string(),
            source,
        };
        for entry in std::fs::read_dir(&d).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let kind = path.symlink_metadata().map_err(io)?.file_type();
            if kind.is_dir() {
                pending.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .expect("below the bundle")
                .to_string_lossy()
                .replace('\\', "/");
            // A symlink is reported as a file whose content cannot be trusted: read as empty.
            let content = if kind.is_file() {
                std::fs::read(&path).map_err(|source| EvidenceError::Io {
                    path: path.display().to_string(),
                    source,
                })?
            } else {
                Vec::new()
            };
            files.insert(rel, content);
        }
    }
    Ok(files)
}

/// Every file of a `.tar.gz`, with the leading `evidence/` removed.
fn read_archive(path: &Path) -> Result<BTreeMap<String, Vec<u8>>, EvidenceError> {
    let bad = |message: String| EvidenceError::BadArchive {
        path: path.display().to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|source| EvidenceError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut files = BTreeMap::new();
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a .tar.gz archive ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("not a .tar.gz archive ({e})")))?;
        if entry.header().entry_type().is_dir() {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| bad(format!("an entry has a bad name ({e})")))?
            .to_string_lossy()
            .replace('\\', "/");
        let name = name
            .strip_prefix(&format!("{ARCHIVE_ROOT}/"))
            .unwrap_or(&name)
            .to_string();
        let mut content = Vec::new();
        entry
            .read_to_end(&mut content)
            .map_err(|e| bad(format!("{name}: cannot read the entry ({e})")))?;
        files.insert(name, content);
    }
    Ok(files)
}
