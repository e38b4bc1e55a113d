//! `AsyncBufReadExt`: `read_until`, `read_line`, `lines`,
//! `lines_with_max`, `fill_buf`, `consume`.
//!
//! Same shape as `ext_read.rs`: named futures borrowing an `Unpin` reader
//! (`lines` takes the reader by value and is a `Stream`). Each future loops
//! on `poll_fill_buf`, looks for the delimiter in what is buffered, takes
//! what it needs with `consume`, and returns `Pending` when the reader
//! does, or when the task's cooperative budget is spent (each round takes
//! a unit, see `runtime/coop.rs`; the state kept between polls makes that
//! yield lose nothing).
//!
//! `lines_with_max(n)` is the same `Lines` with a bound: its own loop
//! (`poll_next_bounded_line`) keeps at most `n + 1` bytes of a line, and
//! on an over-long one returns `InvalidData` and then skips to the next
//! `\n` without keeping anything (`skipping`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use super::AsyncBufRead;
use crate::runtime::coop;

/// Line and delimiter helpers for every [`AsyncBufRead`] (wrap a plain
/// reader in a [`BufReader`](crate::io::BufReader) to get one).
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Reads until `byte` (included) or end of stream, appending to `buf`;
    /// returns how many bytes were appended (0 at end of stream).
    ///
    /// # Cancel safety
    /// Cancel safe: every byte taken from the reader is already in `buf`,
    /// so calling it again with the same `buf` carries on where the dropped
    /// call stopped.
    fn read_until<'a>(&'a mut self, byte: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil {
            reader: self,
            byte,
            buf,
            read: 0,
        }
    }

    /// Reads one line, `\n` included (`\r\n` is kept as is), appending it
    /// to `buf`; returns its length in bytes, 0 at end of stream. The last
    /// line of a stream may lack its `\n`.
    ///
    /// # Errors
    /// `InvalidData` if the line is not UTF-8. On any error `buf` holds
    /// what it held before the call; the bytes of the line are consumed.
    ///
    /// # Cancel safety
    /// **Not cancel safe.** If it is dropped before it completes, `buf` is
    /// left as it was before the call, and the part of the line read so far
    /// is lost: it was taken from the reader and is in neither. In a
    /// `select!` loop use [`lines`](Self::lines) and
    /// [`Lines::next_line`], which keep a partial line across calls, or
    /// `read_until(b'\n', ..)` into a `Vec<u8>`.
    ///
    /// ```
    /// use ember::io::{AsyncBufReadExt, BufReader};
    /// # ember::block_on(async {
    /// let mut reader = BufReader::new(&b"GET / HTTP/1.1\r\nHost: x\r\n"[..]);
    /// let mut line = String::new();
    /// reader.read_line(&mut line).await?;
    /// assert_eq!(line, "GET / HTTP/1.1\r\n");
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        let bytes = std::mem::take(buf).into_bytes();
        ReadLine {
            reader: self,
            start: bytes.len(),
            bytes,
            out: buf,
            done: false,
        }
    }

    /// The lines of the stream, without their `\n` or `\r\n`, as a
    /// [`Stream`] of `io::Result<String>` (or with
    /// [`next_line`](Lines::next_line)).
    ///
    /// A line may be of any length: a peer that never sends `\n` makes
    /// the `Lines` buffer everything it sends. Where the peer is not
    /// trusted, use [`lines_with_max`](Self::lines_with_max), or read each
    /// line through [`take`](crate::io::AsyncReadExt::take).
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines::new(self, usize::MAX)
    }

    /// The lines of the stream, as [`lines`](Self::lines), each at most
    /// `max` bytes long (not counting its `\n` or `\r\n`).
    ///
    /// A longer line is an error of kind `InvalidData`, returned as soon
    /// as the line passes `max` bytes, without waiting for its end. The
    /// `Lines` then skips the rest of that line, keeping none of it, and
    /// goes on with the next one: whatever the peer sends, the `Lines`
    /// holds at most `max + 1` bytes (plus the reader's own buffer).
    ///
    /// ```
    /// use ember::io::{AsyncBufReadExt, BufReader};
    /// # ember::block_on(async {
    /// let input = &b"short\nfar too long for the limit\nok\n"[..];
    /// let mut lines = BufReader::new(input).lines_with_max(8);
    /// assert_eq!(lines.next_line().await?.as_deref(), Some("short"));
    /// let err = lines.next_line().await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    /// assert_eq!(lines.next_line().await?.as_deref(), Some("ok"));
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    fn lines_with_max(self, max: usize) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines::new(self, max)
    }

    /// Returns the buffered bytes, reading if the buffer is empty; empty at
    /// end of stream. Pair it with [`consume`](Self::consume).
    ///
    /// # Cancel safety
    /// Cancel safe: it consumes nothing.
    fn fill_buf(&mut self) -> FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        FillBuf { reader: Some(self) }
    }

    /// Marks `amt` bytes returned by [`fill_buf`](Self::fill_buf) as read.
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        Pin::new(self).consume(amt)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// Moves bytes up to and including `byte` from `reader` into `buf`, adding
/// their count to `read`. `Ready` once `byte` is found or the stream ends;
/// `read` stays exact across `Pending`, so a caller can resume.
fn poll_read_until<R: AsyncBufRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    byte: u8,
    buf: &mut Vec<u8>,
    read: &mut usize,
) -> Poll<io::Result<usize>> {
    loop {
        // Each round costs a unit of the task's cooperative budget (given
        // back if the reader waits), so `lines()` over a source that is
        // always ready, whatever its `AsyncBufRead`, still yields.
        ready!(coop::poll_proceed(cx));
        let (found, used) = {
            let available = match reader.as_mut().poll_fill_buf(cx) {
                Poll::Ready(result) => result?,
                Poll::Pending => {
                    coop::refund();
                    return Poll::Pending;
                }
            };
            match available.iter().position(|&b| b == byte) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (false, available.len())
                }
            }
        };
        reader.as_mut().consume(used);
        *read += used;
        if found || used == 0 {
            return Poll::Ready(Ok(std::mem::take(read)));
        }
    }
}

/// Future of [`AsyncBufReadExt::read_until`].
///
/// # Cancel safety
/// See [`AsyncBufReadExt::read_until`]: its section says what a drop
/// midway loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadUntil<'a, R: ?Sized> {
    reader: &'a mut R,
    byte: u8,
    buf: &'a mut Vec<u8>,
    read: usize,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        poll_read_until(
            Pin::new(&mut *this.reader),
            cx,
            this.byte,
            this.buf,
            &mut this.read,
        )
    }
}

/// Future of [`AsyncBufReadExt::read_line`].
///
/// # Cancel safety
/// See [`AsyncBufReadExt::read_line`]: its section says what a drop midway
/// loses.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct ReadLine<'a, R: ?Sized> {
    reader: &'a mut R,
    /// The string's original bytes, then the line read so far.
    bytes: Vec<u8>,
    /// Where the line starts in `bytes`.
    start: usize,
    out: &'a mut String,
    /// `out` holds the result: nothing to restore on drop.
    done: bool,
}

impl<R: AsyncBufRead + Unpin + ?Sized> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut read = this.bytes.len() - this.start;
        let result = ready!(poll_read_until(
            Pin::new(&mut *this.reader),
            cx,
            b'\n',
            &mut this.bytes,
            &mut read,
        ));
        // From here on, `drop` restores `out` unless `done` is set.
        let n = result?;
        if std::str::from_utf8(&this.bytes[this.start..]).is_err() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )));
        }
        let bytes = std::mem::take(&mut this.bytes);
        // The original string was UTF-8 and so is the line: no copy, and
        // the check cannot fail.
        *this.out = String::from_utf8(bytes).unwrap_or_default();
        this.done = true;
        Poll::Ready(Ok(n))
    }
}

impl<R: ?Sized> Drop for ReadLine<'_, R> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.bytes.truncate(self.start);
        // These are the string's original bytes, so they are UTF-8.
        *self.out = String::from_utf8(std::mem::take(&mut self.bytes)).unwrap_or_default();
    }
}

/// The lines of a reader: see [`AsyncBufReadExt::lines`] and
/// [`AsyncBufReadExt::lines_with_max`].
///
/// A [`Stream`] of `io::Result<String>`; [`next_line`](Self::next_line)
/// gives the same without a `StreamExt`. Each line comes without its `\n`
/// (or `\r\n`); after an error (a read error, or `InvalidData` for a line
/// that is not UTF-8 or, with a bound, too long, which is then dropped)
/// the stream goes on with the next line.
///
/// # Cancel safety
/// See [`Lines::next_line`]: a partial line stays buffered across a drop.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Lines<R> {
    reader: R,
    /// The line read so far (with a bound, without its `\n`).
    bytes: Vec<u8>,
    /// The longest line allowed; `usize::MAX` for no bound.
    max: usize,
    /// The line being read is over the bound, and its error was returned:
    /// skip to its end.
    skipping: bool,
}

impl<R> Lines<R> {
    fn new(reader: R, max: usize) -> Lines<R> {
        Lines {
            reader,
            bytes: Vec::new(),
            max,
            skipping: false,
        }
    }

    /// The longest line allowed, in bytes (`usize::MAX`: no bound).
    pub fn max_line_len(&self) -> usize {
        self.max
    }

    /// The reader, back. A partial line read so far is lost.
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// The next line, or `None` at end of stream.
    ///
    /// # Cancel safety
    /// Cancel safe: a partial line stays inside the `Lines`, and the next
    /// call completes it.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        std::future::poll_fn(|cx| self.poll_next_line(cx)).await
    }

    /// `Ready(Ok(Some(line)))` once a whole line is in, `Ready(Ok(None))` at
    /// end of stream.
    pub fn poll_next_line(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<String>>> {
        if self.max != usize::MAX {
            return self.poll_next_bounded_line(cx);
        }
        // `read` is not needed across polls: `bytes` itself holds the part
        // of the line read so far.
        let mut read = 0;
        let n = ready!(poll_read_until(
            Pin::new(&mut self.reader),
            cx,
            b'\n',
            &mut self.bytes,
            &mut read,
        ))?;
        if n == 0 && self.bytes.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut bytes = std::mem::take(&mut self.bytes);
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        Poll::Ready(
            String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "line is not UTF-8")),
        )
    }
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// `poll_next_line` with a bound: the line's bytes go to `self.bytes`
    /// only while they fit in `max + 1` (room for the `\r` of a `\r\n`),
    /// and `\n` never does.
    fn poll_next_bounded_line(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<String>>> {
        loop {
            // A unit of budget per round, given back if the reader waits,
            // as in `poll_read_until`.
            ready!(coop::poll_proceed(cx));
            let mut reader = Pin::new(&mut self.reader);
            let available = match reader.as_mut().poll_fill_buf(cx) {
                Poll::Ready(result) => result?,
                Poll::Pending => {
                    coop::refund();
                    return Poll::Pending;
                }
            };
            if available.is_empty() {
                // End of stream: the last line may lack its `\n`.
                self.skipping = false;
                if self.bytes.is_empty() {
                    return Poll::Ready(Ok(None));
                }
                return Poll::Ready(self.finish_line());
            }
            let newline = available.iter().position(|&b| b == b'\n');
            let content = &available[..newline.unwrap_or(available.len())];
            let used = newline.map_or(available.len(), |i| i + 1);
            if self.skipping {
                reader.consume(used);
                self.skipping = newline.is_none();
                continue;
            }
            let room = self.max.saturating_add(1) - self.bytes.len();
            if content.len() > room {
                reader.consume(used);
                self.bytes.clear();
                self.skipping = newline.is_none();
                return Poll::Ready(Err(too_long(self.max)));
            }
            // Grow as a `Vec` does, but never past the bound.
            let needed = self.bytes.len() + content.len();
            if needed > self.bytes.capacity() {
                let target = needed
                    .max(self.bytes.capacity() * 2)
                    .min(self.max.saturating_add(1));
                self.bytes.reserve_exact(target - self.bytes.len());
            }
            self.bytes.extend_from_slice(content);
            reader.consume(used);
            if newline.is_some() {
                return Poll::Ready(self.finish_line());
            }
        }
    }

    /// The line in `self.bytes` without a final `\r`, as a string;
    /// `InvalidData` if it is longer than the bound or not UTF-8. Leaves
    /// `self.bytes` empty.
    fn finish_line(&mut self) -> io::Result<Option<String>> {
        let mut bytes = std::mem::take(&mut self.bytes);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        if bytes.len() > self.max {
            return Err(too_long(self.max));
        }
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "line is not UTF-8"))
    }
}

/// The error of a line over the bound of `lines_with_max`.
fn too_long(max: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("line longer than {max} bytes"),
    )
}

impl<R: AsyncBufRead + Unpin> Stream for Lines<R> {
    type Item = io::Result<String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_line(cx).map(Result::transpose)
    }
}

/// Future of [`AsyncBufReadExt::fill_buf`].
///
/// # Cancel safety
/// Cancel safe: filling the buffer consumes nothing.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct FillBuf<'a, R: ?Sized> {
    /// Taken when the future completes: the returned slice borrows it for
    /// `'a`.
    reader: Option<&'a mut R>,
}

impl<'a, R: AsyncBufRead + Unpin + ?Sized> Future for FillBuf<'a, R> {
    type Output = io::Result<&'a [u8]>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(reader) = this.reader.take() else {
            return Poll::Ready(Err(io::Error::other("FillBuf polled after completion")));
        };
        // Returning a borrow for `'a` from a reborrow that may also end in
        // `Pending` is beyond today's borrow checker (it needs Polonius).
        // So: poll through a short reborrow first, and once the buffer is
        // known to be filled, ask again through the `'a` borrow itself,
        // which by the `AsyncBufRead` contract returns the same bytes
        // without I/O. futures-util transmutes the lifetime instead; this
        // costs one extra call and no `unsafe`.
        match Pin::new(&mut *reader).poll_fill_buf(cx) {
            Poll::Pending => {
                this.reader = Some(reader);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok([])) => Poll::Ready(Ok(&[])),
            Poll::Ready(Ok(_)) => match Pin::new(reader).poll_fill_buf(cx) {
                Poll::Ready(result) => Poll::Ready(result),
                Poll::Pending => Poll::Ready(Err(io::Error::other(
                    "poll_fill_buf returned Pending while its buffer was full: \
                     the reader breaks the AsyncBufRead contract",
                ))),
            },
        }
    }
}
