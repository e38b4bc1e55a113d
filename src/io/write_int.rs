//! `WriteInt`: the future of `AsyncWriteExt::write_u8` .. `write_f64_le`.
//!
//! Used by `ext_write.rs`, whose macro makes one method per type and byte
//! order: the method encodes the number into a small array at once, and
//! this one generic future writes all of it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::AsyncWrite;

/// Future of the `AsyncWriteExt::write_*` methods for numbers
/// (`write_u16`, `write_i64_le`, `write_f32`, ...): writes all the
/// number's bytes, `WriteZero` if the writer stops taking them.
///
/// # Cancel safety
/// Not cancel safe for numbers of more than one byte: a prefix of the
/// number may have been written.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct WriteInt<'a, W: ?Sized> {
    writer: &'a mut W,
    buf: [u8; 16],
    len: usize,
    written: usize,
}

impl<'a, W: ?Sized> WriteInt<'a, W> {
    /// Writes `bytes` (at most 16).
    pub(super) fn new(writer: &'a mut W, bytes: &[u8]) -> Self {
        let len = bytes.len().min(16);
        let mut buf = [0; 16];
        buf[..len].copy_from_slice(&bytes[..len]);
        WriteInt {
            writer,
            buf,
            len,
            written: 0,
        }
    }
}

impl<W: AsyncWrite + Unpin + ?Sized> Future for WriteInt<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        while this.written < this.len {
            let src = &this.buf[this.written..this.len];
            let n = ready!(Pin::new(&mut *this.writer).poll_write(cx, src))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            this.written += n;
        }
        Poll::Ready(Ok(()))
    }
}
