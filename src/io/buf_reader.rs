//! `BufReader`: adds a read buffer to any `AsyncRead`, making it an
//! `AsyncBufRead` (lines, delimiters, peeking at what arrived).
//!
//! Used directly by applications and by `AsyncBufReadExt`. Relies on the
//! wrapped reader's `poll_read`, and on the runtime's cooperative budget
//! (`runtime/coop.rs`): each read from the inner reader takes a unit, so a
//! `BufReader` over an always-ready reader (an in-memory source) still
//! yields to the other tasks. Reads served from the buffer cost nothing.
//!
//! # Invariant
//! `buf[pos..cap]` holds the bytes read from the inner reader and not yet
//! consumed; `pos <= cap <= buf.len()`. The buffer is refilled only when it
//! is empty (`pos == cap`), so `poll_fill_buf` never reads while it still
//! has something to return.

use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
use crate::runtime::coop;

/// The default buffer size, as in std and tokio.
pub(super) const DEFAULT_BUF_SIZE: usize = 8 * 1024;

pin_project! {
    /// Adds a buffer to a reader: many small reads (or a line-by-line
    /// parse) cost one read of the inner reader per buffer-full.
    ///
    /// A read at least as large as the buffer, made while the buffer is
    /// empty, goes straight to the inner reader (no copy). Writes pass
    /// through unbuffered, so a `BufReader<TcpStream>` still writes.
    ///
    /// ```
    /// use ember::io::{AsyncBufReadExt, BufReader};
    /// # ember::block_on(async {
    /// let mut reader = BufReader::new(&b"one\ntwo\n"[..]);
    /// let mut line = String::new();
    /// reader.read_line(&mut line).await?;
    /// assert_eq!(line, "one\n");
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub struct BufReader<R> {
        #[pin]
        inner: R,
        buf: Box<[u8]>,
        pos: usize,
        cap: usize,
    }
}

impl<R: AsyncRead> BufReader<R> {
    /// Wraps `inner` with an 8 KiB buffer.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        BufReader {
            inner,
            buf: vec![0; capacity].into_boxed_slice(),
            pos: 0,
            cap: 0,
        }
    }
}

impl<R> BufReader<R> {
    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly skips the
    /// buffered bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Unwraps the inner reader. Buffered bytes not yet consumed are lost;
    /// look at [`buffer`](Self::buffer) first if they matter.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The bytes buffered and not yet consumed (no I/O).
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.cap]
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Forgets the buffered bytes.
    fn discard_buffer(self: Pin<&mut Self>) {
        let this = self.project();
        *this.pos = 0;
        *this.cap = 0;
    }
}

impl<R: AsyncRead> AsyncRead for BufReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        // Nothing buffered and a large read: skip the copy.
        if self.pos == self.cap && buf.len() >= self.buf.len() {
            let n = ready!(read_inner(self.as_mut().project().inner, cx, buf));
            self.discard_buffer();
            return Poll::Ready(n);
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }

    /// Copies buffered bytes into `buf` with no zeroing first; a large read
    /// with nothing buffered goes straight to the inner reader's own
    /// `poll_read_buf`.
    fn poll_read_buf(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut super::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos == self.cap && buf.remaining() >= self.buf.len() {
            ready!(coop::poll_proceed(cx));
            let read = self.as_mut().project().inner.poll_read_buf(cx, buf);
            if read.is_pending() {
                coop::refund();
            } else {
                self.discard_buffer();
            }
            return read;
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncRead> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if *this.pos >= *this.cap {
            let n = ready!(read_inner(this.inner, cx, this.buf))?;
            *this.pos = 0;
            *this.cap = n;
        }
        Poll::Ready(Ok(&this.buf[*this.pos..*this.cap]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        *this.pos = (*this.pos + amt).min(*this.cap);
    }
}

/// Seeking drops the buffered bytes. A `SeekFrom::Current(n)` counts
/// from where the reader of the `BufReader` stands, not from the inner
/// reader's cursor (which is ahead by the buffered bytes), as in std's
/// `BufReader`.
impl<R: AsyncRead + AsyncSeek> AsyncSeek for BufReader<R> {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        // The buffer is kept until the seek completes, so a poll after a
        // `Pending` computes the same target.
        let target = match pos {
            SeekFrom::Current(n) => {
                let ahead = i64::try_from(self.cap - self.pos).unwrap_or(i64::MAX);
                match n.checked_sub(ahead) {
                    Some(n) => SeekFrom::Current(n),
                    None => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "seek offset overflows",
                        )))
                    }
                }
            }
            other => other,
        };
        let result = ready!(self.as_mut().project().inner.poll_seek(cx, target));
        self.discard_buffer();
        Poll::Ready(result)
    }
}

/// Reads from the inner reader, at the cost of a unit of the task's
/// cooperative budget (given back if the read waits): a `BufReader` over a
/// reader that is always ready still yields, whatever loop drives it.
fn read_inner<R: AsyncRead>(
    inner: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    ready!(coop::poll_proceed(cx));
    // Through `poll_read_buf`, so a socket reads straight into the buffer.
    let mut read_buf = super::ReadBuf::new(buf);
    let read = inner.poll_read_buf(cx, &mut read_buf);
    if read.is_pending() {
        coop::refund();
    }
    read.map_ok(|()| read_buf.filled().len())
}

/// Writes go straight to the inner writer.
impl<R: AsyncWrite> AsyncWrite for BufReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("inner", &self.inner)
            .field("buffered", &(self.cap - self.pos))
            .field("capacity", &self.buf.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{AsyncBufReadExt, AsyncReadExt};

    #[test]
    fn a_large_read_on_an_empty_buffer_bypasses_it() {
        crate::block_on(async {
            let mut r = BufReader::with_capacity(4, &b"abcdefgh"[..]);
            let mut big = [0u8; 8];
            assert_eq!(r.read(&mut big).await.ok(), Some(8));
            assert_eq!(r.buffer(), b"");
        });
    }

    #[test]
    fn a_small_read_fills_the_buffer_and_leaves_the_rest_in_it() {
        crate::block_on(async {
            let mut r = BufReader::with_capacity(4, &b"abcdefgh"[..]);
            let mut small = [0u8; 1];
            assert_eq!(r.read(&mut small).await.ok(), Some(1));
            assert_eq!(&small, b"a");
            assert_eq!(r.buffer(), b"bcd");
            assert_eq!(r.fill_buf().await.ok(), Some(&b"bcd"[..]));
            r.consume(10); // more than buffered: clamped
            assert_eq!(r.buffer(), b"");
            assert_eq!(r.fill_buf().await.ok(), Some(&b"efgh"[..]));
        });
    }
}
