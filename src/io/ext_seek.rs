//! `AsyncSeekExt`: `seek`, `rewind`, `stream_position`.
//!
//! Same shape as `ext_read.rs`: one small named future borrowing an
//! `Unpin` seeker, which calls [`AsyncSeek::poll_seek`] with the same
//! position until it is ready (the trait's contract).

use std::future::Future;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::AsyncSeek;

/// Seek helpers for every [`AsyncSeek`] (such as `ember::fs::File`).
pub trait AsyncSeekExt: AsyncSeek {
    /// Moves the cursor to `pos`; returns the new position from the start.
    ///
    /// A seek past the end is allowed (a later write leaves a hole), as in
    /// `std::io::Seek`; a seek before the start is `InvalidInput`.
    ///
    /// # Cancel safety
    /// Not cancel safe in the sense that the seek may have happened: on a
    /// `File` it was handed to the blocking pool at the first poll and
    /// completes there, so the cursor may or may not have moved when the
    /// future is dropped. Seek again to a `SeekFrom::Start` to be sure.
    fn seek(&mut self, pos: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek { seeker: self, pos }
    }

    /// Moves the cursor back to the start: `seek(SeekFrom::Start(0))`.
    ///
    /// # Cancel safety
    /// As [`seek`](Self::seek): safe to call again, it is idempotent.
    fn rewind(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Start(0))
    }

    /// The cursor's position from the start: `seek(SeekFrom::Current(0))`.
    ///
    /// # Cancel safety
    /// Cancel safe: it does not move the cursor.
    fn stream_position(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Current(0))
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

/// Future of [`AsyncSeekExt::seek`], `rewind` and `stream_position`.
///
/// # Cancel safety
/// See [`AsyncSeekExt::seek`]: its section says what a drop midway leaves.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Seek<'a, S: ?Sized> {
    seeker: &'a mut S,
    pos: SeekFrom,
}

impl<S: AsyncSeek + Unpin + ?Sized> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        Pin::new(&mut *this.seeker).poll_seek(cx, this.pos)
    }
}
