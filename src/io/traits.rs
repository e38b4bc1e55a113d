//! `AsyncRead`, `AsyncWrite`, `AsyncBufRead` and `AsyncSeek`, in the shape
//! of the `futures-io` traits.
//!
//! Implemented by ember's sockets and adapters; used by the extension traits
//! (`ext_read.rs`, `ext_write.rs`, `ext_buf_read.rs`) and by `copy`. The shape is the one most
//! of the ecosystem knows: a plain `&mut [u8]` buffer. Reads into
//! uninitialised memory go through the provided `poll_read_buf` and a
//! [`ReadBuf`], which the fd-backed readers override.

use std::io::{self, IoSlice, IoSliceMut, SeekFrom};
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::ReadBuf;

/// Reads bytes asynchronously.
///
/// `poll_read` either fills some of `buf` and returns `Ready(Ok(n))`
/// (`n == 0` means end of stream, when `buf` is not empty), or registers the
/// task's waker and returns `Pending`.
pub trait AsyncRead {
    /// Attempts to read into `buf`.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>;

    /// Attempts to read into several buffers; by default into the first
    /// non-empty one.
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        match bufs.iter_mut().find(|b| !b.is_empty()) {
            Some(buf) => self.poll_read(cx, buf),
            None => self.poll_read(cx, &mut []),
        }
    }

    /// Attempts to read into the unfilled part of `buf`, which may be
    /// uninitialised; the bytes read become filled (none at end of
    /// stream). By default the unfilled part is zeroed where it is not
    /// initialised yet, then handed to [`poll_read`](Self::poll_read);
    /// ember's sockets read into it directly, with no zeroing (what
    /// hyper's buffers need).
    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = ready!(self.poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// Writes bytes asynchronously.
pub trait AsyncWrite {
    /// Attempts to write from `buf`; `Ready(Ok(n))` with `n` bytes taken.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;

    /// Attempts to write from several buffers; by default from the first
    /// non-empty one.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match bufs.iter().find(|b| !b.is_empty()) {
            Some(buf) => self.poll_write(cx, buf),
            None => self.poll_write(cx, &[]),
        }
    }

    /// Whether [`poll_write_vectored`](Self::poll_write_vectored) writes
    /// from several buffers at once (`writev`); `false` by default, where it
    /// writes only the first non-empty one. Writers that gather small
    /// pieces (`BufWriter`) ask, to avoid a copy when it is `true`.
    fn is_write_vectored(&self) -> bool {
        false
    }

    /// Flushes buffered data to the underlying object.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Flushes and closes the writing side (for a socket: shuts down writes,
    /// so the peer reads end of stream).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// Reads bytes through an internal buffer, so that a reader can look at
/// what arrived before deciding how much of it to take (a line, a header).
///
/// The contract, as in `std::io::BufRead`:
///
/// - `poll_fill_buf` returns the buffered bytes, reading from the source
///   only if the buffer is empty; an empty slice means end of stream. While
///   the buffer is not empty, calling it again returns the same bytes
///   without I/O.
/// - `consume(amt)` marks the first `amt` of those bytes as used; they are
///   not returned again. `amt` must not exceed the length last returned.
pub trait AsyncBufRead: AsyncRead {
    /// Returns the buffered bytes, filling the buffer first if it is empty.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>>;

    /// Marks `amt` buffered bytes as read.
    fn consume(self: Pin<&mut Self>, amt: usize);
}

/// Moves the cursor of a seekable source (a file) asynchronously.
///
/// The `futures-io` shape: one method, called again with the same `pos`
/// after a `Pending`, until it returns the new position from the start of
/// the source. (tokio splits it in two, `start_seek` and `poll_complete`;
/// `AsyncSeekExt::seek` is the same call in both.)
pub trait AsyncSeek {
    /// Attempts to seek to `pos`; `Ready(Ok(n))` with the new position.
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>>;
}

impl<T: ?Sized + AsyncSeek + Unpin> AsyncSeek for &mut T {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Pin::new(&mut **self).poll_seek(cx, pos)
    }
}

impl<T: ?Sized + AsyncSeek + Unpin> AsyncSeek for Box<T> {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        Pin::new(&mut **self).poll_seek(cx, pos)
    }
}

impl<P> AsyncSeek for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncSeek,
{
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.get_mut().as_mut().poll_seek(cx, pos)
    }
}

macro_rules! deref_async_read {
    () => {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_read(cx, buf)
        }

        fn poll_read_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &mut [IoSliceMut<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_read_vectored(cx, bufs)
        }

        fn poll_read_buf(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_read_buf(cx, buf)
        }
    };
}

macro_rules! deref_async_write {
    () => {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_write_vectored(cx, bufs)
        }

        fn is_write_vectored(&self) -> bool {
            (**self).is_write_vectored()
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_flush(cx)
        }

        fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_close(cx)
        }
    };
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for &mut T {
    deref_async_read!();
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for Box<T> {
    deref_async_read!();
}

macro_rules! deref_async_buf_read {
    () => {
        fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
            Pin::new(&mut **self.get_mut()).poll_fill_buf(cx)
        }

        fn consume(mut self: Pin<&mut Self>, amt: usize) {
            Pin::new(&mut **self).consume(amt)
        }
    };
}

impl<T: ?Sized + AsyncBufRead + Unpin> AsyncBufRead for &mut T {
    deref_async_buf_read!();
}

impl<T: ?Sized + AsyncBufRead + Unpin> AsyncBufRead for Box<T> {
    deref_async_buf_read!();
}

impl<T: ?Sized + AsyncWrite + Unpin> AsyncWrite for &mut T {
    deref_async_write!();
}

impl<T: ?Sized + AsyncWrite + Unpin> AsyncWrite for Box<T> {
    deref_async_write!();
}

impl<P> AsyncRead for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncRead,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_read(cx, buf)
    }

    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_read_buf(cx, buf)
    }
}

impl<P> AsyncBufRead for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncBufRead,
{
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().as_mut().poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().as_mut().consume(amt)
    }
}

impl<P> AsyncWrite for Pin<P>
where
    P: DerefMut + Unpin,
    P::Target: AsyncWrite,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        (**self).is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().as_mut().poll_close(cx)
    }
}

/// In-memory reads, handy in tests: reading consumes the slice.
impl AsyncRead for &[u8] {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(io::Read::read(self.get_mut(), buf))
    }

    fn poll_read_buf(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.len().min(buf.remaining());
        buf.put_slice(&this[..n]);
        *this = &this[n..];
        Poll::Ready(Ok(()))
    }
}

/// In-memory buffered reads: the slice is its own buffer.
impl AsyncBufRead for &[u8] {
    fn poll_fill_buf(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(Ok(*self.get_mut()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        *this = &this[amt.min(this.len())..];
    }
}

/// In-memory writes, handy in tests: writing appends.
impl AsyncWrite for Vec<u8> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
