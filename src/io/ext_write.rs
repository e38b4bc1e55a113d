//! `AsyncWriteExt`: `write`, `write_all`, `write_all_buf`, `flush`,
//! `close`, and the numbers (`write_u8` .. `write_f64_le`, big-endian
//! unless `_le`, as in tokio).
//!
//! Same shape as `ext_read.rs`: named futures borrowing an `Unpin` writer.

use std::future::Future;
use std::io::{self, Cursor, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::write_int::WriteInt;
use super::AsyncWrite;

/// One `write_*` method per number type and byte order: the number is
/// encoded at once, and all its bytes written (`MULTI` is the
/// cancel-safety text of the numbers wider than a byte).
macro_rules! write_int {
    ($($name:ident, $ty:ty, $to:ident, $what:literal, $cancel:tt;)*) => {$(
        #[doc = concat!("Writes ", $what, "; `WriteZero` if the writer stops taking bytes.")]
        ///
        /// # Cancel safety
        #[doc = write_int!(@cancel $cancel)]
        fn $name(&mut self, n: $ty) -> WriteInt<'_, Self>
        where
            Self: Unpin,
        {
            WriteInt::new(self, &n.$to())
        }
    )*};
    (@cancel MULTI) => {
        "Not cancel safe: a prefix of the number may have been written."
    };
    (@cancel $text:literal) => {
        $text
    };
}

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

    /// Writes the bytes of `src` from its position to its end, moving the
    /// position as bytes are taken; `WriteZero` if the writer stops taking
    /// them.
    ///
    /// tokio takes any `bytes::Buf` here; ember has no `bytes`
    /// dependency, so the cursor is std's `Cursor` over any `AsRef<[u8]>`
    /// (a `Vec<u8>`, a `&[u8]`, a `Box<[u8]>`, ...).
    ///
    /// # Cancel safety
    /// Cancel safe in effect: if dropped midway, `src`'s position says
    /// exactly how much was written, and calling it again goes on from
    /// there.
    ///
    /// ```
    /// use ember::io::AsyncWriteExt;
    /// use std::io::Cursor;
    /// # ember::block_on(async {
    /// let mut out = Vec::new();
    /// let mut src = Cursor::new(b"hello".to_vec());
    /// src.set_position(1);
    /// out.write_all_buf(&mut src).await?;
    /// assert_eq!(out, b"ello");
    /// assert_eq!(src.position(), 5);
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    fn write_all_buf<'a, B>(&'a mut self, src: &'a mut Cursor<B>) -> WriteAllBuf<'a, Self, B>
    where
        Self: Unpin,
        B: AsRef<[u8]>,
    {
        WriteAllBuf { writer: self, src }
    }

    write_int! {
        write_u8, u8, to_be_bytes, "an `u8`", "Cancel safe: if dropped before it completes, nothing was written.";
        write_i8, i8, to_be_bytes, "an `i8`", "Cancel safe: if dropped before it completes, nothing was written.";
        write_u16, u16, to_be_bytes, "a big-endian `u16`", MULTI;
        write_i16, i16, to_be_bytes, "a big-endian `i16`", MULTI;
        write_u32, u32, to_be_bytes, "a big-endian `u32`", MULTI;
        write_i32, i32, to_be_bytes, "a big-endian `i32`", MULTI;
        write_u64, u64, to_be_bytes, "a big-endian `u64`", MULTI;
        write_i64, i64, to_be_bytes, "a big-endian `i64`", MULTI;
        write_u128, u128, to_be_bytes, "a big-endian `u128`", MULTI;
        write_i128, i128, to_be_bytes, "a big-endian `i128`", MULTI;
        write_f32, f32, to_be_bytes, "a big-endian IEEE 754 `f32`", MULTI;
        write_f64, f64, to_be_bytes, "a big-endian IEEE 754 `f64`", MULTI;
        write_u16_le, u16, to_le_bytes, "a little-endian `u16`", MULTI;
        write_i16_le, i16, to_le_bytes, "a little-endian `i16`", MULTI;
        write_u32_le, u32, to_le_bytes, "a little-endian `u32`", MULTI;
        write_i32_le, i32, to_le_bytes, "a little-endian `i32`", MULTI;
        write_u64_le, u64, to_le_bytes, "a little-endian `u64`", MULTI;
        write_i64_le, i64, to_le_bytes, "a little-endian `i64`", MULTI;
        write_u128_le, u128, to_le_bytes, "a little-endian `u128`", MULTI;
        write_i128_le, i128, to_le_bytes, "a little-endian `i128`", MULTI;
        write_f32_le, f32, to_le_bytes, "a little-endian IEEE 754 `f32`", MULTI;
        write_f64_le, f64, to_le_bytes, "a little-endian IEEE 754 `f64`", MULTI;
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

/// Future of [`AsyncWriteExt::write_all_buf`].
///
/// # Cancel safety
/// See [`AsyncWriteExt::write_all_buf`]: the cursor's position is exact
/// between polls.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteAllBuf<'a, W: ?Sized, B> {
    writer: &'a mut W,
    src: &'a mut Cursor<B>,
}

impl<W: AsyncWrite + Unpin + ?Sized, B: AsRef<[u8]>> Future for WriteAllBuf<'_, W, B> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let bytes = this.src.get_ref().as_ref();
            // A position past the end (set by hand) means nothing is left.
            let start =
                usize::try_from(this.src.position()).map_or(bytes.len(), |p| p.min(bytes.len()));
            let rest = &bytes[start..];
            if rest.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.src.set_position((start + n.min(rest.len())) as u64);
        }
    }
}
