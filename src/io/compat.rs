//! `Compat<T>`: a `futures-io` type as one of ember's, and back.
//!
//! With the optional `futures-io` feature, ember's own types already
//! implement `futures_io`'s traits (`futures_io.rs`). This wrapper covers
//! the other way round, for types from the `futures` world (a TLS stream
//! from `futures-rustls`, a WebSocket from `async-tungstenite`, a
//! decompressor from `async-compression`): wrapped, they implement ember's
//! `AsyncRead`, `AsyncWrite` and `AsyncBufRead`, so they go through ember's
//! `BufReader`, `copy_bidirectional`, `lines()` and the rest. And a type
//! that implements ember's traits, wrapped, implements `futures_io`'s: a
//! bridge for any ember reader or writer (an in-memory one, a user's own)
//! that has no impl of its own.
//!
//! Both traits have the same shape (`poll_read` into `&mut [u8]`,
//! `poll_close`), so each method forwards unchanged: no buffer, no copy.
//!
//! ```
//! use ember::io::{AsyncBufReadExt, BufReader, Compat};
//!
//! // Any futures-io reader; here an in-memory cursor of the futures crate's
//! // shape, built from a byte slice (futures_io is implemented for it).
//! # struct Cursor(std::io::Cursor<Vec<u8>>);
//! # impl futures_io::AsyncRead for Cursor {
//! #     fn poll_read(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, buf: &mut [u8])
//! #         -> std::task::Poll<std::io::Result<usize>> {
//! #         std::task::Poll::Ready(std::io::Read::read(&mut self.get_mut().0, buf))
//! #     }
//! # }
//! let foreign = Cursor(std::io::Cursor::new(b"one\ntwo\n".to_vec()));
//! ember::block_on(async {
//!     let mut lines = BufReader::new(Compat::new(foreign)).lines();
//!     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("one"));
//!     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("two"));
//! });
//! ```

use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pin_project! {
    /// Wraps `T` so that it implements ember's I/O traits if it implements
    /// `futures_io`'s, and `futures_io`'s if it implements ember's.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Compat<T> {
        #[pin]
        inner: T,
    }
}

impl<T> Compat<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Compat<T> {
        Compat { inner }
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped value, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut T> {
        self.project().inner
    }

    /// Unwraps it.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

// futures-io -> ember

impl<T: futures_io::AsyncRead> super::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncRead::poll_read(self.project().inner, cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncRead::poll_read_vectored(self.project().inner, cx, bufs)
    }
}

impl<T: futures_io::AsyncWrite> super::AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(self.project().inner, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write_vectored(self.project().inner, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(self.project().inner, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(self.project().inner, cx)
    }
}

impl<T: futures_io::AsyncBufRead> super::AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        futures_io::AsyncBufRead::poll_fill_buf(self.project().inner, cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        futures_io::AsyncBufRead::consume(self.project().inner, amt)
    }
}

// ember -> futures-io

impl<T: super::AsyncRead> futures_io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        super::AsyncRead::poll_read(self.project().inner, cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        super::AsyncRead::poll_read_vectored(self.project().inner, cx, bufs)
    }
}

impl<T: super::AsyncWrite> futures_io::AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        super::AsyncWrite::poll_write(self.project().inner, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        super::AsyncWrite::poll_write_vectored(self.project().inner, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        super::AsyncWrite::poll_flush(self.project().inner, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        super::AsyncWrite::poll_close(self.project().inner, cx)
    }
}

impl<T: super::AsyncBufRead> futures_io::AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        super::AsyncBufRead::poll_fill_buf(self.project().inner, cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        super::AsyncBufRead::consume(self.project().inner, amt)
    }
}
