//! `Chain`: one reader, then another (`AsyncReadExt::chain`).
//!
//! Used by applications (a header already read, then the rest of the
//! stream). Relies only on the two readers' traits.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

use super::{AsyncBufRead, AsyncRead};

pin_project! {
    /// Reads `first` to its end, then `second`. Made by
    /// [`AsyncReadExt::chain`](crate::io::AsyncReadExt::chain); an
    /// [`AsyncBufRead`] when both readers are.
    ///
    /// ```
    /// use ember::io::AsyncReadExt;
    /// # ember::block_on(async {
    /// let mut both = (&b"head, "[..]).chain(&b"tail"[..]);
    /// let mut s = String::new();
    /// both.read_to_string(&mut s).await?;
    /// assert_eq!(s, "head, tail");
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    #[derive(Debug)]
    #[must_use = "readers do nothing unless read"]
    pub struct Chain<T, U> {
        #[pin]
        first: T,
        #[pin]
        second: U,
        done_first: bool,
    }
}

impl<T, U> Chain<T, U> {
    pub(super) fn new(first: T, second: U) -> Chain<T, U> {
        Chain {
            first,
            second,
            done_first: false,
        }
    }

    /// The two readers.
    pub fn get_ref(&self) -> (&T, &U) {
        (&self.first, &self.second)
    }

    /// The two readers, mutably (reading from them directly is allowed;
    /// the chain moves to `second` when `first` reports its end to it).
    pub fn get_mut(&mut self) -> (&mut T, &mut U) {
        (&mut self.first, &mut self.second)
    }

    /// The two pinned readers, mutably.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> (Pin<&mut T>, Pin<&mut U>) {
        let this = self.project();
        (this.first, this.second)
    }

    /// The two readers, back.
    pub fn into_inner(self) -> (T, U) {
        (self.first, self.second)
    }
}

impl<T: AsyncRead, U: AsyncRead> AsyncRead for Chain<T, U> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        if !*this.done_first {
            match ready!(this.first.poll_read(cx, buf))? {
                0 if !buf.is_empty() => *this.done_first = true,
                n => return Poll::Ready(Ok(n)),
            }
        }
        this.second.poll_read(cx, buf)
    }
}

impl<T: AsyncBufRead, U: AsyncBufRead> AsyncBufRead for Chain<T, U> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if !*this.done_first {
            match ready!(this.first.poll_fill_buf(cx))? {
                [] => *this.done_first = true,
                buf => return Poll::Ready(Ok(buf)),
            }
        }
        this.second.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        if *this.done_first {
            this.second.consume(amt)
        } else {
            this.first.consume(amt)
        }
    }
}
