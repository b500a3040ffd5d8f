//! Writing output files atomically: the content goes to a temporary file beside the target,
//! is flushed to disk, then renamed over it. A reader sees the old file or the whole new one,
//! never a partial one, and a failed run leaves no file behind.
//!
//! A target that is not a file to replace — a pipe, a terminal, `/dev/null`, `/dev/stdout` —
//! is written to directly: renaming a file over it would destroy it (as root, `-o /dev/null`
//! once left a regular file in place of the device).

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

/// [`write_atomic_with`] for a writer that returns what it made.
pub fn write_atomic_buffered<T>(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<Writeback<'_>>) -> std::io::Result<T>,
) -> Result<T, OutputError> {
    let err = |source| OutputError {
        path: path.display().to_string(),
        source,
    };
    match target_of(path).map_err(err)? {
        Target::Stream => return stream_to(path, write).map_err(err),
        Target::Replace => {}
    }
    let dir = directory_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".credwarden-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    let made = {
        let file = Writeback::new(tmp.as_file_mut(), true);
        let mut buffered = std::io::BufWriter::with_capacity(1 << 20, file);
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

/// A file being written whose pages are sent to disk every `Writeback::STRIDE` (8 MiB), without
/// waiting for them. Left to the final `fsync`, a 600 MB report's writeback began only when the
/// report was complete, and took up to a second more; started as the report grows, it runs
/// while the rest is still being made.
pub struct Writeback<'f> {
    file: &'f mut std::fs::File,
    written: u64,
    /// Where the range not yet sent to disk starts.
    sent: u64,
    /// False for a pipe or device: nothing to send.
    to_disk: bool,
}

impl<'f> Writeback<'f> {
    const STRIDE: u64 = 8 << 20;

    fn new(file: &'f mut std::fs::File, to_disk: bool) -> Writeback<'f> {
        Writeback {
            file,
            written: 0,
            sent: 0,
            to_disk,
        }
    }

    /// Start writing back what was written since the last call (Linux; elsewhere the final
    /// `fsync` does it all). A failure here is not an error: the `fsync` reports any.
    fn send(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let (Ok(from), Ok(len)) = (
                libc::off64_t::try_from(self.sent),
                libc::off64_t::try_from(self.written - self.sent),
            ) else {
                return;
            };
            // SAFETY: a plain system call on a descriptor this value borrows for its lifetime;
            // it reads no memory of ours.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    from,
                    len,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.sent = self.written;
    }
}

impl Write for Writeback<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.to_disk && self.written - self.sent >= Self::STRIDE {
            self.send();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// How output reaches a path.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A regular file, a symlink or nothing yet: replaced atomically by a new file.
    Replace,
    /// A pipe, a socket or a character device (`/dev/null`, a terminal), or one of the names of
    /// the process's own streams (`/dev/stdout`, `/dev/fd/N`): opened and written in place.
    Stream,
}

/// What `path` is. A symlink is never followed (a link planted where a report is expected must
/// not redirect it), except the names a shell user gives for the process's own streams.
fn target_of(path: &Path) -> std::io::Result<Target> {
    let own_stream = ["/dev/stdout", "/dev/stderr"].contains(&path.to_str().unwrap_or(""))
        || path.starts_with("/dev/fd")
        || path.starts_with("/proc/self/fd");
    if own_stream {
        return Ok(Target::Stream);
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Target::Replace),
        Err(e) => return Err(e),
    };
    special_kind(&meta.file_type())
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> std::io::Result<Target> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_block_device() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a block device; name a regular file (or a pipe) for the output",
        ));
    }
    Ok(
        if kind.is_fifo() || kind.is_char_device() || kind.is_socket() {
            Target::Stream
        } else {
            Target::Replace
        },
    )
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> std::io::Result<Target> {
    Ok(Target::Replace)
}

/// Write into a pipe or device as it is: there is no file to replace, and nothing to sync.
fn stream_to<T>(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<Writeback<'_>>) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    let into = Writeback::new(&mut file, false);
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, into);
    let made = write(&mut buffered)?;
    buffered.flush()?;
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
    fn a_report_larger_than_the_writeback_stride_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("big.json");
        let line: Vec<u8> = (0..=255u8).cycle().take(1 << 16).collect();
        let pieces = (Writeback::STRIDE as usize * 5 / 2) / line.len();
        write_atomic_with(&target, |w| {
            for _ in 0..pieces {
                w.write_all(&line)?;
            }
            Ok(())
        })
        .unwrap();
        let written = std::fs::read(&target).unwrap();
        assert_eq!(written.len(), pieces * line.len());
        assert!(written.chunks(line.len()).all(|c| c == line));
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        write_atomic(Path::new("/dev/null"), b"report").unwrap();
        let kind = std::fs::symlink_metadata("/dev/null").unwrap().file_type();
        assert!(kind.is_char_device(), "/dev/null is still the device");
        assert_eq!(target_of(Path::new("/dev/stdout")).unwrap(), Target::Stream);
        assert_eq!(target_of(Path::new("/dev/fd/1")).unwrap(), Target::Stream);
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_is_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_directory_is_an_error_naming_the_path() {
        let err = write_atomic(Path::new("/nonexistent-dir/x.json"), b"x").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("/nonexistent-dir/x.json: cannot write"));
    }
}
