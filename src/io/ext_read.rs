//! `AsyncReadExt`: `read`, `read_exact`, `read_to_end`, `read_to_string`,
//! the numbers (`read_u8` .. `read_f64_le`, big-endian unless `_le`, as in
//! tokio), and the adapters `take` and `chain`.
//!
//! Each method returns a small named future that borrows the reader; all of
//! them need `Self: Unpin` (every ember type is; pin a `!Unpin` reader with
//! `Box::pin` or `std::pin::pin!`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::read_int::ReadInt;
use super::{AsyncRead, Chain, Take};

/// One `read_*` method per number type and byte order: exactly the
/// number's size is read, then decoded (`MULTI` is the cancel-safety text
/// of the numbers wider than a byte).
macro_rules! read_int {
    ($($name:ident, $ty:ty, $from:ident, $what:literal, $cancel:tt;)*) => {$(
        #[doc = concat!("Reads ", $what, "; `UnexpectedEof` if the stream ends first.")]
        ///
        /// # Cancel safety
        #[doc = read_int!(@cancel $cancel)]
        fn $name(&mut self) -> ReadInt<'_, Self, $ty>
        where
            Self: Unpin,
        {
            const N: usize = std::mem::size_of::<$ty>();
            ReadInt::new(self, N, |bytes| {
                let mut array = [0u8; N];
                array.copy_from_slice(&bytes[..N]);
                <$ty>::$from(array)
            })
        }
    )*};
    (@cancel MULTI) => {
        "Not cancel safe: the bytes read before the drop are lost."
    };
    (@cancel $text:literal) => {
        $text
    };
}

/// Read helpers for every [`AsyncRead`].
pub trait AsyncReadExt: AsyncRead {
    /// Reads some bytes into `buf`; `Ok(0)` at end of stream.
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, no byte was read.
    ///
    /// ```no_run
    /// use ember::io::AsyncReadExt;
    /// # async fn f(mut stream: ember::net::TcpStream) -> std::io::Result<()> {
    /// let mut buf = [0u8; 1024];
    /// let n = stream.read(&mut buf).await?;
    /// println!("got {:?}", &buf[..n]);
    /// # Ok(()) }
    /// ```
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read { reader: self, buf }
    }

    /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the stream ends
    /// first.
    ///
    /// # Cancel safety
    /// Not cancel safe: bytes read before the drop are in `buf` but their
    /// count is lost.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact {
            reader: self,
            buf,
            filled: 0,
        }
    }

    /// Reads some bytes into `buf`'s spare capacity (growing it by 64
    /// bytes first if it has none), with no zeroing, and adds them to its
    /// length; `Ok(0)` at end of stream. tokio's `read_buf`, for a `Vec`
    /// (ember has no `bytes` dependency).
    ///
    /// # Cancel safety
    /// Cancel safe: if dropped before it completes, no byte was read.
    ///
    /// ```
    /// use ember::io::AsyncReadExt;
    /// ember::block_on(async {
    ///     let mut src: &[u8] = b"abc";
    ///     let mut buf = Vec::with_capacity(16);
    ///     assert_eq!(src.read_buf(&mut buf).await.unwrap(), 3);
    ///     assert_eq!(buf, b"abc");
    /// });
    /// ```
    fn read_buf<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadBufFut<'a, Self>
    where
        Self: Unpin,
    {
        ReadBufFut { reader: self, buf }
    }

    /// Reads until end of stream, appending to `buf`; returns the count.
    ///
    /// # Cancel safety
    /// Cancel safe in the sense that every byte read so far stays in `buf`
    /// (its length is kept exact between polls).
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let start = buf.len();
        ReadToEnd {
            reader: self,
            buf,
            start,
        }
    }

    /// Reads until end of stream, appending to `buf`; `InvalidData` (and
    /// `buf` unchanged) if the bytes are not UTF-8.
    ///
    /// # Cancel safety
    /// Not cancel safe: if dropped midway, `buf` is restored to what it held
    /// and the bytes read so far are lost.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        let bytes = std::mem::take(buf).into_bytes();
        ReadToString {
            reader: self,
            start: bytes.len(),
            bytes,
            out: buf,
        }
    }

    /// A reader of at most `limit` bytes of this one, then end of stream.
    /// Bounds what a read may buffer: `(&mut reader).take(n)` keeps the
    /// reader for later (see [`Take`] for a bounded `read_line`).
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, limit)
    }

    /// A reader of this one to its end, then of `next`.
    fn chain<R: AsyncRead>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
    {
        Chain::new(self, next)
    }

    read_int! {
        read_u8, u8, from_be_bytes, "an `u8`", "Cancel safe: if dropped before it completes, no byte was read.";
        read_i8, i8, from_be_bytes, "an `i8`", "Cancel safe: if dropped before it completes, no byte was read.";
        read_u16, u16, from_be_bytes, "a big-endian `u16`", MULTI;
        read_i16, i16, from_be_bytes, "a big-endian `i16`", MULTI;
        read_u32, u32, from_be_bytes, "a big-endian `u32`", MULTI;
        read_i32, i32, from_be_bytes, "a big-endian `i32`", MULTI;
        read_u64, u64, from_be_bytes, "a big-endian `u64`", MULTI;
        read_i64, i64, from_be_bytes, "a big-endian `i64`", MULTI;
        read_u128, u128, from_be_bytes, "a big-endian `u128`", MULTI;
        read_i128, i128, from_be_bytes, "a big-endian `i128`", MULTI;
        read_f32, f32, from_be_bytes, "a big-endian IEEE 754 `f32`", MULTI;
        read_f64, f64, from_be_bytes, "a big-endian IEEE 754 `f64`", MULTI;
        read_u16_le, u16, from_le_bytes, "a little-endian `u16`", MULTI;
        read_i16_le, i16, from_le_bytes, "a little-endian `i16`", MULTI;
        read_u32_le, u32, from_le_bytes, "a little-endian `u32`", MULTI;
        read_i32_le, i32, from_le_bytes, "a little-endian `i32`", MULTI;
        read_u64_le, u64, from_le_bytes, "a little-endian `u64`", MULTI;
        read_i64_le, i64, from_le_bytes, "a little-endian `i64`", MULTI;
        read_u128_le, u128, from_le_bytes, "a little-endian `u128`", MULTI;
        read_i128_le, i128, from_le_bytes, "a little-endian `i128`", MULTI;
        read_f32_le, f32, from_le_bytes, "a little-endian IEEE 754 `f32`", MULTI;
        read_f64_le, f64, from_le_bytes, "a little-endian IEEE 754 `f64`", MULTI;
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Future of [`AsyncReadExt::read`].
///
/// # Cancel safety
/// See [`AsyncReadExt::read`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Read<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.reader).poll_read(cx, this.buf)
    }
}

/// Future of [`AsyncReadExt::read_exact`].
///
/// # Cancel safety
/// See [`AsyncReadExt::read_exact`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadExact<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut [u8],
    filled: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.filled < this.buf.len() {
            let n =
                ready!(Pin::new(&mut *this.reader).poll_read(cx, &mut this.buf[this.filled..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            this.filled += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// Future of [`AsyncReadExt::read_to_end`].
///
/// # Cancel safety
/// See [`AsyncReadExt::read_to_end`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    start: usize,
}

/// The most a single read of `read_to_end` asks for. Bounds the zeroing of
/// spare capacity each read needs (the trait takes `&mut [u8]`, which must
/// be initialised).
const CHUNK: usize = 64 * 1024;

/// Reads into `buf`'s spare room until end of stream, keeping `buf.len()`
/// equal to the bytes read between polls.
fn poll_read_to_end<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
    start: usize,
) -> Poll<io::Result<usize>> {
    loop {
        if buf.capacity() - buf.len() < 32 {
            buf.reserve(buf.len().max(1024));
        }
        // Into the spare capacity, with no zeroing (`ReadBuf`); the
        // length grows by exactly what was read.
        let result = super::read_buf::poll_read_vec(Pin::new(&mut *reader), cx, buf, CHUNK);
        match result {
            Poll::Ready(Ok(0)) => return Poll::Ready(Ok(buf.len() - start)),
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_read_to_end(this.reader, cx, this.buf, this.start)
    }
}

/// Future of [`AsyncReadExt::read_to_string`].
///
/// # Cancel safety
/// See [`AsyncReadExt::read_to_string`]: its section says what a drop midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    /// The string's original bytes, then what was read.
    bytes: Vec<u8>,
    start: usize,
    out: &'a mut String,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let result = ready!(poll_read_to_end(
            this.reader,
            cx,
            &mut this.bytes,
            this.start
        ));
        let bytes = std::mem::take(&mut this.bytes);
        // On error, `bytes` goes back so that `drop` restores the original.
        let n = match result {
            Ok(n) => n,
            Err(e) => {
                this.bytes = bytes;
                return Poll::Ready(Err(e));
            }
        };
        match String::from_utf8(bytes) {
            Ok(s) => {
                *this.out = s;
                this.start = usize::MAX; // done: nothing to restore on drop
                Poll::Ready(Ok(n))
            }
            Err(e) => {
                this.bytes = e.into_bytes();
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )))
            }
        }
    }
}

impl<R: ?Sized> Drop for ReadToString<'_, R> {
    fn drop(&mut self) {
        if self.start == usize::MAX {
            return;
        }
        self.bytes.truncate(self.start);
        // These are the string's original bytes, so they are UTF-8.
        *self.out = String::from_utf8(std::mem::take(&mut self.bytes)).unwrap_or_default();
    }
}

/// Future of [`AsyncReadExt::read_buf`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadBufFut<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadBufFut<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.buf.len() == this.buf.capacity() {
            this.buf.reserve(64);
        }
        super::read_buf::poll_read_vec(Pin::new(&mut *this.reader), cx, this.buf, usize::MAX)
    }
}
