//! `sink()`: a writer that takes every byte and keeps none.
//!
//! Used by applications and tests (drain a stream: `copy(&mut r, &mut
//! sink())`). Always ready, so each write takes a unit of the cooperative
//! budget (`runtime/coop.rs`): an endless copy into it still yields.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::AsyncWrite;
use crate::runtime::coop;

/// A writer that discards everything. Made by [`sink`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Sink;

/// A [`Sink`]: every write succeeds with all of its bytes.
///
/// ```
/// # ember::block_on(async {
/// let n = ember::io::copy(&mut &b"drained"[..], &mut ember::io::sink()).await?;
/// assert_eq!(n, 7);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub fn sink() -> Sink {
    Sink
}

impl AsyncWrite for Sink {
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
