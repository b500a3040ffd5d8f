//! Writing output files atomically: the content goes to a temporary file beside the target,
//! is flushed to disk, then renamed over it. A reader sees the old file or the whole new one,
//! never a partial one, and a failed run leaves no file behind.

use std::io::Write;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot write the output: {source}")]
pub struct OutputError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Write `bytes` to `path` atomically and durably. An existing file is replaced; a symlink at
/// `path` is replaced by the file, never followed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] for content produced by `write` into a buffered writer, so that a large
/// report is never held in memory whole.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    write_atomic_buffered(path, |w| write(w))
}

/// [`write_atomic_with`] for a writer that wants the file itself beneath the buffer (to copy
/// into it from another file in the kernel), and that returns what it made.
pub fn write_atomic_buffered<T>(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&mut std::fs::File>) -> std::io::Result<T>,
) -> Result<T, OutputError> {
    let err = |source| OutputError {
        path: path.display().to_string(),
        source,
    };
    let dir = directory_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".credwarden-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    let made = {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        let made = write(&mut buffered).map_err(err)?;
        buffered.flush().map_err(err)?;
        made
    };
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(made)
}

/// The directory a file is (to be) in.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        std::fs::write(&target, "old").unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_replaced_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "keep me").unwrap();
        let link = dir.path().join("report.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_atomic(&link, b"report").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "report");
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_path() {
        let err = write_atomic(Path::new("/nonexistent-dir/x.json"), b"x").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("/nonexistent-dir/x.json: cannot write"));
    }
}
