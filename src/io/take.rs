//! `Take`: a reader that ends after a given number of bytes
//! (`AsyncReadExt::take`).
//!
//! Used by applications, among other things to bound what one read may
//! buffer: a line read through `take(n)` is at most `n` bytes. Relies only
//! on the inner reader's traits; it adds no buffer and no budget of its
//! own (the inner reader charges the budget).

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::{AsyncBufRead, AsyncRead};

pin_project! {
    /// Reads at most `limit` bytes from the inner reader, then reports end
    /// of stream. Made by [`AsyncReadExt::take`](crate::io::AsyncReadExt::take).
    ///
    /// It is an [`AsyncBufRead`] when the inner reader is, so
    /// `(&mut reader).take(n)` bounds a `read_line` or a `read_until` to
    /// `n` bytes without moving the reader:
    ///
    /// ```
    /// use ember::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    /// # ember::block_on(async {
    /// let mut reader = BufReader::new(&b"a line far too long\nnext\n"[..]);
    /// let mut line = String::new();
    /// (&mut reader).take(6).read_line(&mut line).await?;
    /// assert_eq!(line, "a line"); // no '\n': the line was cut at 6 bytes
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "readers do nothing unless read"]
    pub struct Take<R> {
        #[pin]
        inner: R,
        limit: u64,
    }
}

impl<R> Take<R> {
    pub(super) fn new(inner: R, limit: u64) -> Take<R> {
        Take { inner, limit }
    }

    /// Bytes left before it reports end of stream.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets the bytes left (reading more after an end of stream).
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably; what is read from it directly does not
    /// count against the limit.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The pinned inner reader, mutably.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// The inner reader, back.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

/// `len` capped by `limit` (which may not fit a `usize`).
fn capped(len: usize, limit: u64) -> usize {
    usize::try_from(limit).map_or(len, |limit| len.min(limit))
}

impl<R: AsyncRead> AsyncRead for Take<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        if *this.limit == 0 {
            return Poll::Ready(Ok(0));
        }
        let max = capped(buf.len(), *this.limit);
        let n = ready!(this.inner.poll_read(cx, &mut buf[..max]))?;
        // A reader claiming more than it was given must not wrap the count.
        *this.limit -= (n.min(max)) as u64;
        Poll::Ready(Ok(n))
    }
}

impl<R: AsyncBufRead> AsyncBufRead for Take<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if *this.limit == 0 {
            return Poll::Ready(Ok(&[]));
        }
        let buf = ready!(this.inner.poll_fill_buf(cx))?;
        let n = capped(buf.len(), *this.limit);
        Poll::Ready(Ok(&buf[..n]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        let amt = capped(amt, *this.limit);
        *this.limit -= amt as u64;
        this.inner.consume(amt);
    }
}
