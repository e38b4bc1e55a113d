//! `Buf`: the bytes a [`File`](super::File) hands to, or gets back from,
//! a job on the blocking pool.
//!
//! Used only by `file.rs`. A `Buf` moves into the job and comes back with
//! its result, so the loop and the pool thread never share it: no lock.
//! The same allocation goes back and forth for the file's whole life (it
//! grows once to the size of the largest read or write, at most the file's
//! `max_buf_size`).
//!
//! # Invariant
//! `bytes[pos..]` are the bytes not handed out yet: read-ahead waiting for
//! the next `poll_read`, or a write waiting for its job. `pos <=
//! bytes.len()`; an empty `Buf` (`pos == bytes.len()`) is cleared before
//! it is filled again.

use std::io::{self, Read, Write};

/// Read-ahead or pending write bytes of one file.
#[derive(Debug, Default)]
pub(super) struct Buf {
    bytes: Vec<u8>,
    pos: usize,
}

impl Buf {
    /// No bytes waiting.
    pub(super) fn is_empty(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// How many bytes are waiting.
    pub(super) fn len(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Moves as many waiting bytes as fit into `dst`; returns the count.
    pub(super) fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = self.len().min(dst.len());
        dst[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    /// Takes up to `max` bytes of `src` to write; returns the count.
    /// The buffer must be empty.
    pub(super) fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        debug_assert!(self.is_empty(), "a write buffer must start empty");
        let n = src.len().min(max);
        self.clear();
        self.bytes.extend_from_slice(&src[..n]);
        n
    }

    /// Drops the waiting bytes (read-ahead that a write or a seek makes
    /// stale) and returns minus their count: the `SeekFrom::Current` that
    /// moves the OS cursor back to where the reader stands.
    pub(super) fn discard_read(&mut self) -> i64 {
        // A buffer holds at most `max_buf_size` bytes, far below `i64::MAX`.
        let back = -i64::try_from(self.len()).unwrap_or(i64::MAX);
        self.clear();
        back
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.pos = 0;
    }

    /// On the pool thread: reads at most `max` bytes from `file` into the
    /// (empty) buffer; returns the count, 0 at end of file. Retries
    /// `Interrupted`.
    pub(super) fn read_from(&mut self, mut file: &std::fs::File, max: usize) -> io::Result<usize> {
        debug_assert!(self.is_empty(), "a read buffer must start empty");
        self.clear();
        // The trait takes `&mut [u8]`, which must be initialised: zeroing
        // `max` bytes costs little next to the read, and it is paid here,
        // on the pool thread, not on the loop.
        self.bytes.resize(max, 0);
        let result = loop {
            match file.read(&mut self.bytes) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.bytes.truncate(*result.as_ref().unwrap_or(&0));
        result
    }

    /// On the pool thread: writes every waiting byte to `file`, then
    /// empties the buffer (also on error: those bytes are not retried).
    pub(super) fn write_to(&mut self, mut file: &std::fs::File) -> io::Result<()> {
        let result = file.write_all(&self.bytes[self.pos..]);
        self.clear();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_copied_in_come_out_in_order_across_small_reads() {
        let mut buf = Buf::default();
        assert_eq!(buf.copy_from(b"hello world", 5), 5);
        let mut out = [0u8; 3];
        assert_eq!(buf.copy_to(&mut out), 3);
        assert_eq!(&out, b"hel");
        assert_eq!(buf.len(), 2);
        assert_eq!(buf.copy_to(&mut out), 2);
        assert_eq!(&out[..2], b"lo");
        assert!(buf.is_empty());
    }

    #[test]
    fn discarding_read_ahead_gives_the_seek_back_to_the_reader() {
        let mut buf = Buf::default();
        buf.copy_from(b"abcdef", 100);
        let mut out = [0u8; 2];
        buf.copy_to(&mut out);
        assert_eq!(buf.discard_read(), -4);
        assert!(buf.is_empty());
        assert_eq!(buf.discard_read(), 0);
    }
}
