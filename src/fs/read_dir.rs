//! `read_dir`, `ReadDir` and `DirEntry`: a directory's entries, read on
//! the blocking pool a batch at a time.
//!
//! Used by applications. Relies on `std::fs::ReadDir`, which moves into
//! each job and comes back with the next [`BATCH`] entries, so the loop
//! and the pool never share it.
//!
//! | state | `poll_next_entry` | next state |
//! | --- | --- | --- |
//! | `Idle`, entries batched | returns the first | `Idle` |
//! | `Idle`, none batched, more to come | job: read the next batch | `Busy` |
//! | `Idle`, none batched, std's iterator ended | `Ok(None)` | `Idle` |
//! | `Busy` | waits for the job | `Idle` |
//!
//! Production note: the same shape as tokio's (`CHUNK_SIZE` 32 there
//! too). An entry's type comes with the batch (std reads it from
//! `getdents`' `d_type`, no extra call on most file systems), so
//! `file_type().await` costs no job when it is known.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use super::asyncify;
use crate::runtime::{coop, spawn_blocking, JoinHandle};

/// Entries read by one job.
const BATCH: usize = 32;

/// Opens the directory `path` for listing (on the blocking pool).
///
/// The entries come from [`ReadDir::next_entry`] or the [`Stream`], in the
/// order the file system gives them, without `.` and `..`.
///
/// # Errors
/// `NotFound`, `NotADirectory`, `PermissionDenied`, ... as in
/// `std::fs::read_dir`.
///
/// # Cancel safety
/// Cancel safe: a directory opened for a dropped call is closed on the
/// pool.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("ember-doc-rd-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # std::fs::write(dir.join("a.txt"), "a").unwrap();
/// # ember::block_on(async {
/// let mut entries = ember::fs::read_dir(&dir).await?;
/// while let Some(entry) = entries.next_entry().await? {
///     println!("{}", entry.file_name().to_string_lossy());
/// }
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let batch = asyncify(move || {
        let mut std = std::fs::read_dir(path)?;
        let mut entries = VecDeque::with_capacity(BATCH);
        let more = next_batch(&mut std, &mut entries);
        Ok(Batch { entries, std, more })
    })
    .await?;
    Ok(ReadDir {
        state: State::Idle(Some(batch)),
    })
}

/// The entries of a directory: see [`read_dir`].
///
/// A `Stream` of `io::Result<DirEntry>`; [`next_entry`](Self::next_entry)
/// gives the same without a `StreamExt`. An error for one entry is
/// returned in its place, and the listing goes on after it.
///
/// It stays on the loop's thread (`!Send`: it holds the `JoinHandle` of
/// its batch job); the `DirEntry`s it returns may go anywhere.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct ReadDir {
    state: State,
}

#[derive(Debug)]
enum State {
    /// The batch, with std's iterator; `None` only if a job was lost.
    Idle(Option<Batch>),
    Busy(JoinHandle<Batch>),
}

/// What one job hands back.
#[derive(Debug)]
struct Batch {
    entries: VecDeque<io::Result<DirEntry>>,
    std: std::fs::ReadDir,
    /// std's iterator has not ended yet.
    more: bool,
}

/// Moves up to [`BATCH`] entries from `std` into `entries`; false once
/// `std` has ended.
fn next_batch(std: &mut std::fs::ReadDir, entries: &mut VecDeque<io::Result<DirEntry>>) -> bool {
    for _ in 0..BATCH {
        match std.next() {
            None => return false,
            Some(entry) => entries.push_back(entry.map(|std| DirEntry {
                file_type: std.file_type().ok(),
                std: Arc::new(std),
            })),
        }
    }
    true
}

impl ReadDir {
    /// The next entry, or `None` once the listing is done.
    ///
    /// # Cancel safety
    /// Cancel safe: a batch being read stays in the `ReadDir`, and the next
    /// call returns its first entry.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// `Ready(Ok(Some(entry)))`, or `Ready(Ok(None))` at the end; reads the
    /// next batch on the pool when none is left.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(None) => {
                    return Poll::Ready(Err(io::Error::other(
                        "ember::fs::ReadDir: a batch was lost (the runtime is shutting down)",
                    )))
                }
                State::Idle(Some(batch)) => {
                    if !batch.entries.is_empty() {
                        // Ready at once: charge the budget (see `coop.rs`).
                        ready!(coop::poll_proceed(cx));
                    }
                    if let Some(entry) = batch.entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if !batch.more {
                        return Poll::Ready(Ok(None));
                    }
                    let Some(mut batch) = self.state_batch() else {
                        continue;
                    };
                    self.state = State::Busy(spawn_blocking(move || {
                        batch.more = next_batch(&mut batch.std, &mut batch.entries);
                        batch
                    }));
                }
                State::Busy(job) => {
                    let result = ready!(Pin::new(job).poll(cx));
                    match result {
                        Ok(batch) => self.state = State::Idle(Some(batch)),
                        Err(e) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Err(e.into()));
                        }
                    }
                }
            }
        }
    }

    fn state_batch(&mut self) -> Option<Batch> {
        match &mut self.state {
            State::Idle(batch) => batch.take(),
            State::Busy(_) => None,
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

/// One entry of a [`ReadDir`].
#[derive(Debug)]
pub struct DirEntry {
    /// Read with the batch; `None` if std could not tell.
    file_type: Option<FileType>,
    std: Arc<std::fs::DirEntry>,
}

impl DirEntry {
    /// The directory's path joined with [`file_name`](Self::file_name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name, without its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number (`d_ino`).
    pub fn ino(&self) -> u64 {
        self.std.ino()
    }

    /// The entry's metadata, without following a symbolic link (on the
    /// pool).
    ///
    /// # Cancel safety
    /// Cancel safe: it changes nothing.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// The entry's type (file, directory, symbolic link, ...), not
    /// following a link. Usually known from the listing itself; else it
    /// costs an `lstat` on the pool.
    ///
    /// # Cancel safety
    /// Cancel safe: it changes nothing.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        asyncify(move || std.file_type()).await
    }
}
