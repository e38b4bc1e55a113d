//! `SimplexStream`: an in-memory pipe of bounded size, one direction; the
//! building block of `duplex` (two of them) and `simplex`.
//!
//! Used by `duplex.rs` (behind a `Mutex`, so a `DuplexStream` may be used
//! from another thread) and directly by applications. Bytes written wait
//! in a `VecDeque` of at most `max_buf_size` bytes: a writer that finds it
//! full waits for the reader, and a reader that finds it empty waits for
//! the writer. One waker slot per side, as one reader and one writer use a
//! pipe.
//!
//! The `*_inner` methods hand back the waker to wake rather than waking
//! it, so that `DuplexStream` wakes only after releasing its lock.
//!
//! | state | read | write |
//! | --- | --- | --- |
//! | bytes waiting | takes them, wakes the writer | adds what fits (`Pending` if full), wakes the reader |
//! | empty, open | `Pending` (reader's waker kept) | adds, wakes the reader |
//! | closed | the rest, then `Ok(0)` | `BrokenPipe` |

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use super::{split, AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use crate::runtime::coop;

/// A one-way in-memory pipe holding at most `max_buf_size` bytes: what
/// is written to it is read from it.
///
/// Made by [`SimplexStream::new_unsplit`], or by [`simplex`] as two
/// halves. Closing it ([`close`](crate::io::AsyncWriteExt::close)) lets
/// the reader drain what is left and then read end of stream; a write
/// after that is `BrokenPipe`. Each read and write takes a unit of the
/// cooperative budget, so an endless copy through it yields.
#[derive(Debug)]
pub struct SimplexStream {
    buffer: VecDeque<u8>,
    max_buf_size: usize,
    /// No more writes; set by `close` (or by a `DuplexStream` end's drop).
    is_closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

/// A [`SimplexStream`] of at most `max_buf_size` bytes, split into its
/// reading and writing halves ([`io::split`](crate::io::split)). The
/// reader sees end of stream once the writer calls `close`; merely
/// dropping the write half does not close the pipe.
///
/// ```
/// use ember::io::{AsyncReadExt, AsyncWriteExt};
/// # ember::block_on(async {
/// let (mut rx, mut tx) = ember::io::simplex(64);
/// tx.write_all(b"one way").await?;
/// tx.close().await?;
/// let mut s = String::new();
/// rx.read_to_string(&mut s).await?;
/// assert_eq!(s, "one way");
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub fn simplex(max_buf_size: usize) -> (ReadHalf<SimplexStream>, WriteHalf<SimplexStream>) {
    split(SimplexStream::new_unsplit(max_buf_size))
}

impl SimplexStream {
    /// A pipe of at most `max_buf_size` bytes (at least 1), as one value
    /// that is both the reader and the writer.
    pub fn new_unsplit(max_buf_size: usize) -> SimplexStream {
        SimplexStream {
            buffer: VecDeque::new(),
            max_buf_size: max_buf_size.max(1),
            is_closed: false,
            read_waker: None,
            write_waker: None,
        }
    }

    /// Reads what is waiting. Returns the poll, and the writer's waker to
    /// wake once the caller's lock is released.
    pub(super) fn read_inner(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> (Poll<io::Result<usize>>, Option<Waker>) {
        if self.buffer.is_empty() {
            if self.is_closed || buf.is_empty() {
                return (Poll::Ready(Ok(0)), None);
            }
            store(&mut self.read_waker, cx);
            return (Poll::Pending, None);
        }
        let n = buf.len().min(self.buffer.len());
        for (dst, src) in buf.iter_mut().zip(self.buffer.drain(..n)) {
            *dst = src;
        }
        (Poll::Ready(Ok(n)), self.write_waker.take())
    }

    /// Writes what fits. Returns the poll, and the reader's waker to wake
    /// once the caller's lock is released.
    pub(super) fn write_inner(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> (Poll<io::Result<usize>>, Option<Waker>) {
        if self.is_closed {
            return (Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())), None);
        }
        let room = self.max_buf_size - self.buffer.len();
        if room == 0 && !buf.is_empty() {
            store(&mut self.write_waker, cx);
            return (Poll::Pending, None);
        }
        let n = buf.len().min(room);
        self.buffer.extend(&buf[..n]);
        (Poll::Ready(Ok(n)), self.read_waker.take())
    }

    /// No more writes: the reader drains what is left, then reads end of
    /// stream; a writer waiting for room gets `BrokenPipe`. Returns both
    /// waiting wakers.
    pub(super) fn close_inner(&mut self) -> [Option<Waker>; 2] {
        self.is_closed = true;
        [self.read_waker.take(), self.write_waker.take()]
    }
}

/// Keeps `cx`'s waker in `slot`, cloning only if it changed.
fn store(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// Charges a unit of budget for an operation, giving it back if the
/// operation waits; wakes what the operation handed back.
pub(super) fn charged(
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> (Poll<io::Result<usize>>, Option<Waker>),
) -> Poll<io::Result<usize>> {
    ready!(coop::poll_proceed(cx));
    let (poll, waker) = op(cx);
    if poll.is_pending() {
        coop::refund();
    }
    if let Some(waker) = waker {
        waker.wake();
    }
    poll
}

impl AsyncRead for SimplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        charged(cx, |cx| this.read_inner(cx, buf))
    }
}

impl AsyncWrite for SimplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        charged(cx, |cx| this.write_inner(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        for waker in self.get_mut().close_inner().into_iter().flatten() {
            waker.wake();
        }
        Poll::Ready(Ok(()))
    }
}
