//! Text written now and read back once: what a report writes after something it can only know
//! at the end (the HTML page's rows wait for the counts at its top).

/// Text written now and read back once, in order: in an anonymous temporary file (removed by
/// the system when closed, even if the process dies), or in memory where no temporary file can
/// be made.
pub(crate) enum Held {
    File(std::io::BufWriter<std::fs::File>),
    Memory(Vec<u8>),
}

impl Held {
    pub(crate) fn new() -> Held {
        match tempfile::tempfile() {
            Ok(file) => Held::File(std::io::BufWriter::with_capacity(1 << 20, file)),
            Err(_) => Held::Memory(Vec::new()),
        }
    }

    pub(crate) fn write(&mut self, text: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        match self {
            Held::File(file) => file.write_all(text),
            Held::Memory(bytes) => {
                bytes.extend_from_slice(text);
                Ok(())
            }
        }
    }

    /// Write everything held to `out`.
    pub(crate) fn copy_to<W: std::io::Write + ?Sized>(self, out: &mut W) -> std::io::Result<()> {
        use std::io::Seek;
        match self {
            Held::File(file) => {
                let mut file = file.into_inner().map_err(|e| e.into_error())?;
                file.seek(std::io::SeekFrom::Start(0))?;
                std::io::copy(&mut file, out).map(drop)
            }
            Held::Memory(bytes) => out.write_all(&bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Held;

    /// Held in a scratch file or in memory, text comes back whole and in order.
    #[test]
    fn held_text_comes_back_in_order() {
        let pieces: Vec<Vec<u8>> = (0..300)
            .map(|i| {
                format!("<tr><td>{i}</td></tr>\n")
                    .repeat(i % 7 + 1)
                    .into_bytes()
            })
            .collect();
        let whole: Vec<u8> = pieces.concat();
        let file = Held::new();
        assert!(
            matches!(file, Held::File(_)),
            "a scratch file can be made here"
        );
        for mut held in [file, Held::Memory(Vec::new())] {
            for piece in &pieces {
                held.write(piece).unwrap();
            }
            let mut out = b"top\n".to_vec();
            held.copy_to(&mut out).unwrap();
            assert!(out[4..] == whole[..]);
        }
    }
}
