//! `ReadInt`: the future of `AsyncReadExt::read_u8` .. `read_f64_le`.
//!
//! Used by `ext_read.rs`, whose macro makes one method per type and byte
//! order. One generic future serves them all: it reads exactly `len`
//! bytes (at most 16, an `u128`) into a small array, then decodes them
//! with the function the method chose (`u32::from_be_bytes`, ...).

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::AsyncRead;

/// Future of the `AsyncReadExt::read_*` methods for numbers
/// (`read_u16`, `read_i64_le`, `read_f32`, ...): reads exactly the
/// number's size, `UnexpectedEof` if the stream ends first.
///
/// # Cancel safety
/// Not cancel safe for numbers of more than one byte: bytes read before
/// the drop are lost. (`read_u8` and `read_i8` are: no byte was read.)
#[must_use = "futures do nothing unless awaited"]
pub struct ReadInt<'a, R: ?Sized, T> {
    reader: &'a mut R,
    buf: [u8; 16],
    len: usize,
    filled: usize,
    decode: fn(&[u8]) -> T,
}

impl<'a, R: ?Sized, T> ReadInt<'a, R, T> {
    /// Reads `len` (at most 16) bytes, then gives them to `decode`.
    pub(super) fn new(reader: &'a mut R, len: usize, decode: fn(&[u8]) -> T) -> Self {
        debug_assert!(len <= 16, "no number is wider than 16 bytes");
        ReadInt {
            reader,
            buf: [0; 16],
            len: len.min(16),
            filled: 0,
            decode,
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized, T> Future for ReadInt<'_, R, T> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.filled < this.len {
            let dst = &mut this.buf[this.filled..this.len];
            let n = ready!(Pin::new(&mut *this.reader).poll_read(cx, dst))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into()));
            }
            this.filled += n;
        }
        Poll::Ready(Ok((this.decode)(&this.buf[..this.len])))
    }
}

impl<R: ?Sized, T> fmt::Debug for ReadInt<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadInt")
            .field("len", &self.len)
            .field("filled", &self.filled)
            .finish_non_exhaustive()
    }
}
