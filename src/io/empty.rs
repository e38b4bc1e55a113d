//! `empty()`: a reader at its end from the start, and a writer that takes
//! every byte and keeps none.
//!
//! Used by applications and tests as a stand-in stream. Always ready, so
//! each operation takes a unit of the cooperative budget
//! (`runtime/coop.rs`): a loop over it still yields to the other tasks.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::{AsyncBufRead, AsyncRead, AsyncWrite};
use crate::runtime::coop;

/// A reader that is always at end of stream, and a writer that discards
/// (as tokio's `Empty`, both). Made by [`empty`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Empty;

/// An [`Empty`]: reads return `Ok(0)`, writes take everything.
///
/// ```
/// use ember::io::AsyncReadExt;
/// # ember::block_on(async {
/// let mut buf = Vec::new();
/// assert_eq!(ember::io::empty().read_to_end(&mut buf).await?, 0);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub fn empty() -> Empty {
    Empty
}

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        ready!(coop::poll_proceed(cx));
        Poll::Ready(Ok(0))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(coop::poll_proceed(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _amt: usize) {}
}

impl AsyncWrite for Empty {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(coop::poll_proceed(cx));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
