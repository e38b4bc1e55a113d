//! `copy`: move every byte from a reader to a writer.
//!
//! One 8 KiB buffer, filled by the reader and drained into the writer; the
//! writer is flushed once the reader reaches end of stream.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncRead, AsyncWrite};

const BUF_SIZE: usize = 8 * 1024;

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
        buf: vec![0; BUF_SIZE].into_boxed_slice(),
        pos: 0,
        cap: 0,
        total: 0,
        eof: false,
    }
}

/// Future of [`copy`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Copy<'a, R: ?Sized, W: ?Sized> {
    reader: &'a mut R,
    writer: &'a mut W,
    buf: Box<[u8]>,
    /// `buf[pos..cap]` is read and not yet written.
    pos: usize,
    cap: usize,
    total: u64,
    eof: bool,
}

impl<R, W> Future for Copy<'_, R, W>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            if this.pos == this.cap && !this.eof {
                let n = ready!(Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf))?;
                if n == 0 {
                    this.eof = true;
                } else {
                    this.pos = 0;
                    this.cap = n;
                }
            }
            while this.pos < this.cap {
                let n = ready!(
                    Pin::new(&mut *this.writer).poll_write(cx, &this.buf[this.pos..this.cap])
                )?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                this.pos += n;
                this.total += n as u64;
            }
            if this.eof {
                ready!(Pin::new(&mut *this.writer).poll_flush(cx))?;
                return Poll::Ready(Ok(this.total));
            }
        }
    }
}
