//! `AsyncWriteExt`: `write`, `write_all`, `flush`, `close`.
//!
//! Same shape as `ext_read.rs`: named futures borrowing an `Unpin` writer.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::AsyncWrite;

/// Write helpers for every [`AsyncWrite`].
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `buf`; returns how much was taken.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, nothing was written.
    fn write<'a>(&'a mut self, buf: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write { writer: self, buf }
    }

    /// Writes all of `buf`; `WriteZero` if the writer stops taking bytes.
    ///
    /// # Cancel safety
    /// Not cancel safe: if dropped midway, an unknown prefix of `buf` has
    /// been written.
    ///
    /// ```no_run
    /// use ember::io::AsyncWriteExt;
    /// # async fn f(mut stream: ember::net::TcpStream) -> std::io::Result<()> {
    /// stream.write_all(b"hello\n").await?;
    /// # Ok(()) }
    /// ```
    fn write_all<'a>(&'a mut self, buf: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll { writer: self, buf }
    }

    /// Writes from several buffers in one call where the writer can
    /// (`is_write_vectored`: a `writev`/`sendmsg` for ember's sockets),
    /// else from the first non-empty one; returns how many bytes went.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, nothing was written.
    ///
    /// ```
    /// use std::io::IoSlice;
    /// use ember::io::AsyncWriteExt;
    /// ember::block_on(async {
    ///     let mut out = Vec::new();
    ///     let n = out
    ///         .write_vectored(&[IoSlice::new(b"head "), IoSlice::new(b"body")])
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(&out[..n], &b"head body"[..n]);
    /// });
    /// ```
    fn write_vectored<'a>(&'a mut self, bufs: &'a [IoSlice<'a>]) -> WriteVectored<'a, Self>
    where
        Self: Unpin,
    {
        WriteVectored { writer: self, bufs }
    }

    /// Flushes buffered data.
    ///
    /// # Cancel safety
    /// Cancel safe: flushing can be retried.
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush { writer: self }
    }

    /// Flushes, then closes the write side (a socket sends FIN).
    ///
    /// # Cancel safety
    /// Cancel safe: closing can be retried.
    fn close(&mut self) -> Close<'_, Self>
    where
        Self: Unpin,
    {
        Close { writer: self }
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

/// Future of [`AsyncWriteExt::write`].
///
/// # Cancel safety
/// See [`AsyncWriteExt::write`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Write<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write(cx, this.buf)
    }
}

/// Future of [`AsyncWriteExt::write_all`].
///
/// # Cancel safety
/// See [`AsyncWriteExt::write_all`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteAll<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: &'a [u8],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, this.buf))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.buf = &this.buf[n..];
        }
        Poll::Ready(Ok(()))
    }
}

/// Future of [`AsyncWriteExt::flush`].
///
/// # Cancel safety
/// See [`AsyncWriteExt::flush`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Flush<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_flush(cx)
    }
}

/// Future of [`AsyncWriteExt::close`].
///
/// # Cancel safety
/// See [`AsyncWriteExt::close`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Close<'a, W: ?Sized> {
    writer: &'a mut W,
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for Close<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut *self.get_mut().writer).poll_close(cx)
    }
}

/// Future of [`AsyncWriteExt::write_vectored`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteVectored<'a, W: ?Sized> {
    writer: &'a mut W,
    bufs: &'a [IoSlice<'a>],
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteVectored<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Pin::new(&mut *this.writer).poll_write_vectored(cx, this.bufs)
    }
}
