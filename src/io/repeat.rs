//! `repeat(byte)`: an endless reader of one byte.
//!
//! Used by applications and tests (a stream of any length without
//! allocating it: `repeat(b'x').take(n)`). Always ready, so each read
//! takes a unit of the cooperative budget (`runtime/coop.rs`): an endless
//! copy from it still yields to the other tasks.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use super::AsyncRead;
use crate::runtime::coop;

/// A reader that fills every buffer with one byte, forever. Made by
/// [`repeat`].
#[derive(Debug, Clone, Copy)]
pub struct Repeat {
    byte: u8,
}

/// A [`Repeat`] of `byte`; bound it with
/// [`take`](crate::io::AsyncReadExt::take).
///
/// ```
/// use ember::io::AsyncReadExt;
/// # ember::block_on(async {
/// let mut s = String::new();
/// ember::io::repeat(b'z').take(3).read_to_string(&mut s).await?;
/// assert_eq!(s, "zzz");
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        ready!(coop::poll_proceed(cx));
        buf.fill(self.byte);
        Poll::Ready(Ok(buf.len()))
    }
}
