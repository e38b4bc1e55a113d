//! `BufWriter`: gathers small writes into one buffer, so that many
//! `write_all`s of a few bytes cost one `write` to the inner writer.
//!
//! Used by applications that write piecewise (a protocol encoder, a line
//! formatter). Relies only on the wrapped writer.
//!
//! # Invariant
//! `buf[written..]` is accepted from the caller and not yet handed to the
//! inner writer; `buf.len() <= capacity` (the `Vec` never grows past it).
//! `written` is non-zero only while a flush is under way, so a flush that
//! returned `Pending` resumes where it stopped.

use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::buf_reader::DEFAULT_BUF_SIZE;
use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};

pin_project! {
    /// Adds a buffer to a writer. Bytes reach the inner writer when the
    /// buffer is full, on [`flush`](crate::io::AsyncWriteExt::flush), and on
    /// [`close`](crate::io::AsyncWriteExt::close).
    ///
    /// A write at least as large as the buffer skips it (after the buffer
    /// is flushed, to keep the order). Vectored writes that fit are copied
    /// in together; larger ones go to the inner writer's
    /// `poll_write_vectored` in one call. Reads pass through unbuffered.
    ///
    /// **Flush before dropping**: a drop cannot wait, so bytes still in
    /// the buffer when a `BufWriter` is dropped are lost.
    ///
    /// ```
    /// use ember::io::{AsyncWriteExt, BufWriter};
    /// # ember::block_on(async {
    /// let mut w = BufWriter::new(Vec::new());
    /// w.write_all(b"a").await?;
    /// w.write_all(b"b").await?;
    /// assert!(w.get_ref().is_empty()); // still buffered
    /// w.flush().await?;
    /// assert_eq!(w.get_ref(), b"ab");
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub struct BufWriter<W> {
        #[pin]
        inner: W,
        buf: Vec<u8>,
        written: usize,
    }
}

impl<W: AsyncWrite> BufWriter<W> {
    /// Wraps `inner` with an 8 KiB buffer.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes.
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            written: 0,
        }
    }

    /// Hands every buffered byte to the inner writer (without flushing it).
    fn poll_flush_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        let mut result = Ok(());
        while *this.written < this.buf.len() {
            match ready!(this
                .inner
                .as_mut()
                .poll_write(cx, &this.buf[*this.written..]))
            {
                Ok(0) => {
                    result = Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the inner writer took no bytes of the buffer",
                    ));
                    break;
                }
                Ok(n) => *this.written += n,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // On error too: what was written is gone from the buffer, the rest
        // stays for a retry.
        this.buf.drain(..*this.written);
        *this.written = 0;
        Poll::Ready(result)
    }
}

impl<W> BufWriter<W> {
    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably. Writing to it directly jumps ahead of the
    /// buffered bytes.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The inner writer, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut W> {
        self.project().inner
    }

    /// Unwraps the inner writer. Bytes still buffered are lost: flush
    /// first.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The bytes buffered and not yet written.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// The buffer's size.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

impl<W: AsyncWrite> AsyncWrite for BufWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.buf.len() + buf.len() > self.buf.capacity() {
            ready!(self.as_mut().poll_flush_buf(cx))?;
        }
        let this = self.project();
        if buf.len() >= this.buf.capacity() {
            this.inner.poll_write(cx, buf)
        } else {
            this.buf.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total = bufs
            .iter()
            .fold(0usize, |sum, b| sum.saturating_add(b.len()));
        if self.buf.len() + total > self.buf.capacity() {
            ready!(self.as_mut().poll_flush_buf(cx))?;
        }
        let this = self.project();
        if total >= this.buf.capacity() {
            if this.inner.is_write_vectored() {
                // Large: one vectored call, no copy. The inner writer
                // decides how much it takes (sockets send them in one
                // `sendmsg`).
                this.inner.poll_write_vectored(cx, bufs)
            } else {
                // It would write the first slice only anyway.
                let first = bufs.iter().find(|b| !b.is_empty());
                this.inner.poll_write(cx, first.map_or(&[][..], |b| &b[..]))
            }
        } else {
            // Small: gather the slices here, as if written one by one.
            for b in bufs {
                this.buf.extend_from_slice(b);
            }
            Poll::Ready(Ok(total))
        }
    }

    /// `true`: small slices are gathered in the buffer, large ones go on
    /// in one vectored call when the inner writer takes them.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush_buf(cx))?;
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush_buf(cx))?;
        self.project().inner.poll_close(cx)
    }
}

/// Reads go straight to the inner reader.
/// Seeking first hands the buffered bytes to the inner writer, then seeks
/// it.
impl<W: AsyncWrite + AsyncSeek> AsyncSeek for BufWriter<W> {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        ready!(self.as_mut().poll_flush_buf(cx))?;
        self.project().inner.poll_seek(cx, pos)
    }
}

impl<W: AsyncRead> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_read(cx, buf)
    }
}

/// Buffered reads go straight to the inner reader, so a
/// `BufWriter<BufReader<T>>` is buffered both ways.
impl<W: AsyncBufRead> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.project().inner.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.project().inner.consume(amt)
    }
}

impl<W: fmt::Debug> fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufWriter")
            .field("inner", &self.inner)
            .field("buffered", &(self.buf.len() - self.written))
            .field("capacity", &self.buf.capacity())
            .finish()
    }
}
