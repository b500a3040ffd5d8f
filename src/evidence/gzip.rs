//! A gzip writer that compresses on every core, for evidence archives.
//!
//! At 100,000 users an archive packs a gigabyte of text, and gzip on one core was nearly all of
//! the export's time (14 s of 18). The input is cut into blocks of [`BLOCK`] bytes, each
//! compressed on its own, as pigz does: every block but the last ends with a sync flush (an
//! empty stored block, which leaves the stream at a byte boundary and not finished), and the
//! last with the final block, so that the blocks' outputs laid end to end are one deflate
//! stream, in one gzip member with the CRC-32 and length of the whole input. Any gzip reader
//! reads it (a single member: no reader has to know about concatenated members).
//!
//! The output depends only on the input and the level, never on the number of cores or on
//! which core finished first: the blocks are fixed by their offsets and written in order. A
//! block does not see the one before it (pigz primes it with the last 32 KB; the pure-Rust
//! deflate backend cannot), which costs about 1% of size on blocks of 1 MiB (56.3 MB against
//! 55.6 MB for the bundle of 100,000 users).

use std::io::{self, Write};

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Bytes of input compressed as one block.
pub const BLOCK: usize = 1 << 20;

/// Blocks gathered before they are compressed together: enough to keep every core busy.
const BLOCKS_PER_BATCH: usize = 8;

/// A writer of one gzip member (header with no name and modification time 0, as
/// `flate2::GzBuilder::new().mtime(0)` writes it), compressed a block at a time on every
/// core. [`ParallelGzip::finish`] must be called: dropped, it writes nothing more.
pub struct ParallelGzip<W: Write> {
    out: W,
    level: Compression,
    /// Input not yet compressed: less than a batch.
    pending: Vec<u8>,
    crc: Crc,
    /// Whether the header has been written.
    started: bool,
}

impl<W: Write> ParallelGzip<W> {
    pub fn new(out: W, level: Compression) -> ParallelGzip<W> {
        ParallelGzip {
            out,
            level,
            pending: Vec::with_capacity(BLOCK * BLOCKS_PER_BATCH),
            crc: Crc::new(),
            started: false,
        }
    }

    /// Compress what is left, end the stream and write the trailer; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.compress_pending(true)?;
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&self.crc.sum().to_le_bytes());
        // The input's length modulo 2^32, as gzip records it.
        trailer[4..].copy_from_slice(&self.crc.amount().to_le_bytes());
        self.out.write_all(&trailer)?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Compress the blocks pending that are whole and not the last (every block, the last one
    /// ending the stream, when `last`) on every core, and write them in order.
    fn compress_pending(&mut self, last: bool) -> io::Result<()> {
        if !self.started {
            self.started = true;
            self.out.write_all(&self.header())?;
        }
        // The block holding the input's last byte ends the stream, so it waits for `finish`,
        // even when whole: where the stream ends never depends on how the input was written.
        let whole = if last {
            self.pending.len()
        } else {
            self.pending.len().saturating_sub(1) / BLOCK * BLOCK
        };
        // At the end there is always a block to end the stream, if an empty one.
        let blocks = whole.div_ceil(BLOCK).max(usize::from(last));
        let (input, level, out) = (&self.pending[..whole], self.level, &mut self.out);
        crate::parallel::in_order(
            blocks,
            || Compress::new(level, false),
            |compress, i| {
                let block = &input[(i * BLOCK).min(whole)..((i + 1) * BLOCK).min(whole)];
                deflate(compress, block, last && i + 1 == blocks)
            },
            &mut |compressed: Vec<u8>| out.write_all(&compressed),
        )?;
        self.pending.drain(..whole);
        Ok(())
    }

    /// The gzip header: deflate, no flags, modification time 0, the level's extra flags, and
    /// "unknown" for the operating system (flate2's own choice, for reproducible streams).
    fn header(&self) -> [u8; 10] {
        let extra = if self.level.level() >= Compression::best().level() {
            2
        } else if self.level.level() <= Compression::fast().level() {
            4
        } else {
            0
        };
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extra, 255]
    }
}

impl<W: Write> Write for ParallelGzip<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.crc.update(buf);
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= BLOCK * BLOCKS_PER_BATCH {
            self.compress_pending(false)?;
        }
        Ok(buf.len())
    }

    /// Blocks are compressed whole: a flush does not cut one short (that would make the
    /// output depend on when the writer was flushed).
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One block as raw deflate, ending with a sync flush, or with the final block when `last`.
fn deflate(compress: &mut Compress, block: &[u8], last: bool) -> Vec<u8> {
    compress.reset();
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(block.len() / 3 + 64);
    let mut read = 0;
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(4096));
        }
        let before = compress.total_in();
        let status = compress
            .compress_vec(&block[read..], &mut out, flush)
            .expect("deflating into memory does not fail");
        read += (compress.total_in() - before) as usize;
        // Done when the stream ended, or (a sync flush) when everything was read and the
        // output was not filled: the flush is then complete.
        let done = match status {
            Status::StreamEnd => true,
            Status::Ok | Status::BufError => {
                !last && read == block.len() && out.len() < out.capacity()
            }
        };
        if done {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        // A single-member reader: it reads the whole input only if the output is one member.
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    /// Text like a bundle's, and noise that does not compress, in lengths around the block
    /// and batch sizes.
    fn input(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (state >> 60) % 4 == 0 {
                out.extend_from_slice(&state.to_le_bytes());
            } else {
                out.extend_from_slice(
                    format!("  \"access_key_id\": \"AKIA{:016X}\",\n", state >> 8).as_bytes(),
                );
            }
        }
        out.truncate(len);
        out
    }

    fn compress(data: &[u8], write_size: usize) -> Vec<u8> {
        let mut gz = ParallelGzip::new(Vec::new(), Compression::default());
        for piece in data.chunks(write_size.max(1)) {
            gz.write_all(piece).unwrap();
        }
        gz.finish().unwrap()
    }

    #[test]
    fn any_length_comes_back_whole_from_one_member() {
        let batch = BLOCK * BLOCKS_PER_BATCH;
        for len in [
            0,
            1,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            batch - 1,
            batch,
            batch + 1,
            2 * batch + 3 * BLOCK + 17,
        ] {
            let data = input(len, len as u64);
            let gz = compress(&data, 100_000);
            assert!(gunzip(&gz) == data, "{len} bytes");
            assert_eq!(&gz[..4], &[0x1f, 0x8b, 8, 0]);
        }
    }

    /// The bytes depend on the input only: not on how it was written, nor on the cores.
    #[test]
    fn the_output_is_reproducible() {
        let data = input(3 * BLOCK * BLOCKS_PER_BATCH / 2, 7);
        let once = compress(&data, 1 << 16);
        assert!(once == compress(&data, 4093), "write sizes");
        assert!(once == compress(&data, data.len()), "one write");
    }

    /// Cutting the input into blocks costs little: within 1% of one stream at the same level.
    #[test]
    fn blocks_cost_little_size() {
        let data = input(4 * BLOCK, 3);
        let mut one = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        one.write_all(&data).unwrap();
        let one = one.finish().unwrap().len();
        let blocks = compress(&data, 1 << 16).len();
        assert!(blocks as f64 <= one as f64 * 1.01, "{blocks} against {one}");
    }
}
