//! `copy` and `copy_buf`: move every byte from a reader to a writer.
//!
//! `copy` goes through one 8 KiB buffer ([`CopyBuffer`], shared with
//! `copy_bidirectional`), filled by the reader and drained into the writer;
//! `copy_buf` uses the reader's own buffer. Both flush the writer once the
//! reader reaches end of stream.
//!
//! Called by user code (and `copy_bidirectional`); relies on the traits
//! only, and on the runtime's cooperative budget (`runtime/coop.rs`): each
//! round (one read, then writing what it gave) takes a unit, so a copy
//! between two ends that are always ready (in-memory buffers) still lets
//! the other tasks run. A round whose read waits gives its unit back.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncBufRead, AsyncRead, AsyncWrite};
use crate::runtime::coop;

const BUF_SIZE: usize = 8 * 1024;

/// One direction of a copy: a buffer between a reader and a writer.
///
/// # Invariant
/// `buf[pos..cap]` has been read and not yet written; once `eof` is set
/// the reader is not polled again.
#[derive(Debug)]
pub(super) struct CopyBuffer {
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
    total: u64,
    eof: bool,
    /// Bytes were written since the writer was last flushed.
    need_flush: bool,
}

impl CopyBuffer {
    pub(super) fn new() -> CopyBuffer {
        CopyBuffer {
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            cap: 0,
            total: 0,
            eof: false,
            need_flush: false,
        }
    }

    /// Copies until the reader ends, then flushes the writer; returns the
    /// bytes copied. Also flushes whenever the reader has nothing for now,
    /// so a buffering writer never holds bytes while the copy waits. Safe to
    /// poll again after `Pending`.
    pub(super) fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            if self.pos == self.cap && !self.eof {
                // Each round costs a unit of the task's cooperative budget,
                // so a copy between two always-ready ends still yields.
                ready!(coop::poll_proceed(cx));
                let mut buf = super::ReadBuf::new(&mut self.buf);
                let read = reader
                    .as_mut()
                    .poll_read_buf(cx, &mut buf)
                    .map_ok(|()| buf.filled().len());
                if read.is_pending() {
                    coop::refund();
                    // The reader has nothing for now: push out what a
                    // buffering writer holds, or a request/response peer
                    // would wait for bytes that sit in our buffer.
                    if self.need_flush {
                        ready!(writer.as_mut().poll_flush(cx))?;
                        self.need_flush = false;
                    }
                    return Poll::Pending;
                }
                let n = ready!(read)?;
                if n == 0 {
                    self.eof = true;
                } else {
                    self.pos = 0;
                    self.cap = n;
                }
            }
            while self.pos < self.cap {
                let n = ready!(writer
                    .as_mut()
                    .poll_write(cx, &self.buf[self.pos..self.cap]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.pos += n;
                self.total += n as u64;
                self.need_flush = true;
            }
            if self.eof {
                ready!(writer.as_mut().poll_flush(cx))?;
                return Poll::Ready(Ok(self.total));
            }
        }
    }
}

/// Copies `reader` to `writer` until end of stream, flushes `writer`, and
/// returns the number of bytes copied.
///
/// # Cancel safety
/// Not cancel safe: bytes read but not yet written are lost if it is dropped.
///
/// ```
/// # ember::block_on(async {
/// let mut reader: &[u8] = b"hello";
/// let mut writer: Vec<u8> = Vec::new();
/// let n = ember::io::copy(&mut reader, &mut writer).await?;
/// assert_eq!((n, &writer[..]), (5, &b"hello"[..]));
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> Copy<'a, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    Copy {
        reader,
        writer,
        buf: CopyBuffer::new(),
    }
}

/// Future of [`copy`].
///
/// # Cancel safety
/// See [`copy`]: bytes read but not yet written are lost on a drop.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Copy<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    buf: CopyBuffer,
}

impl<R, W> Future for Copy<'_, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        this.buf
            .poll_copy(cx, Pin::new(&mut *this.reader), Pin::new(&mut *this.writer))
    }
}

/// Copies a buffered reader to `writer` through the reader's own buffer
/// (no second buffer, no copy between them), flushes `writer`, and returns
/// the number of bytes copied.
///
/// # Cancel safety
/// Cancel safe: bytes leave the reader's buffer only once `writer` has
/// taken them, so a dropped `copy_buf` loses nothing (though `writer` may
/// not be flushed).
///
/// ```
/// use ember::io::BufReader;
/// # ember::block_on(async {
/// let mut reader = BufReader::new(&b"hello"[..]);
/// let mut writer: Vec<u8> = Vec::new();
/// ember::io::copy_buf(&mut reader, &mut writer).await?;
/// assert_eq!(writer, b"hello");
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub fn copy_buf<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> CopyBuf<'a, R, W>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    CopyBuf {
        reader,
        writer,
        total: 0,
    }
}

/// Future of [`copy_buf`].
///
/// # Cancel safety
/// See [`copy_buf`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct CopyBuf<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    total: u64,
}

impl<R, W> Future for CopyBuf<'_, R, W>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            let mut reader = Pin::new(&mut *this.reader);
            // Each round costs a unit of the task's cooperative budget
            // (given back if the reader has nothing), as in `copy`.
            ready!(coop::poll_proceed(cx));
            let available = match reader.as_mut().poll_fill_buf(cx) {
                Poll::Ready(result) => result?,
                Poll::Pending => {
                    coop::refund();
                    return Poll::Pending;
                }
            };
            if available.is_empty() {
                ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                return Poll::Ready(Ok(this.total));
            }
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, available))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            reader.consume(n);
            this.total += n as u64;
        }
    }
}
