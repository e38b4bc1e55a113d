//! `File`: an open file whose reads, writes and seeks run on the blocking
//! pool, one job at a time, through a small state machine.
//!
//! Used by applications (directly, or through `fs::read`-style helpers for
//! whole files). Relies on [`spawn_blocking`] (each job is a closure that
//! takes the file's `Arc<std::fs::File>` and the [`Buf`], and gives the
//! `Buf` back with its result) and on the `io` traits it implements.
//!
//! # The state machine
//!
//! A `File` is either idle, holding its buffer, or busy with exactly one
//! job, which holds the buffer. Every method first brings a busy file back
//! to idle by waiting for the job, then starts its own.
//!
//! | state | call | what happens | next state |
//! | --- | --- | --- | --- |
//! | `Idle(buf)`, bytes read ahead | `poll_read` | copy from `buf` (one unit of budget) | `Idle` |
//! | `Idle(buf)`, empty | `poll_read` | job: read at most `min(len, max_buf_size)` bytes into `buf` | `Busy` |
//! | `Idle(buf)` | `poll_write` | stale read-ahead is dropped (the job seeks back over it first); copy at most `max_buf_size` bytes of `src` into `buf`; job: write them all; return `Ready(n)` **at once** | `Busy` |
//! | `Idle(buf)` | `poll_seek(pos)` | read-ahead dropped (a `Current` offset is corrected for it); job: seek | `Busy { seek: Some(pos) }` |
//! | `Idle(buf)` | `set_len`, `sync_*`, `metadata`, ... (`&self`, under the op lock) | job: the call (`set_len` drops read-ahead first) | `Busy` |
//! | `Busy` | any of the above, `poll_flush` | wait for the job; keep its result if it is the caller's, else: a write error goes to `last_write_err`, a read's bytes become read-ahead, anything else is dropped | `Idle`, then as above |
//! | `Busy`, job lost (runtime shutting down) | any | `Err` | `Idle(empty)` |
//! | any | `poll_write`, `poll_flush` with `last_write_err` set | return that error, clear it | unchanged |
//!
//! So a write returns as soon as its bytes are handed to the pool, and the
//! *next* operation (or `flush`) waits for it and reports its failure: as
//! in tokio, call `flush().await` (or `sync_all`) to know that a write
//! reached the kernel. At most `max_buf_size` bytes (2 MiB by default) go
//! into one job, so a large `read` or `write_all` is a series of jobs, and
//! one call never keeps a pool thread for long.
//!
//! The `&self` methods (`set_len`, `sync_all`, ...) can run concurrently
//! with one another (two of them in a `join!`); a small op lock makes them
//! take turns, so each gets its own job's result. `&mut self` methods
//! cannot overlap with them at all.
//!
//! # Dropping a `File`
//! A job in flight is detached, not stopped: the last write completes on
//! the pool thread and the file is closed when that job drops its `Arc`.
//! Its error, if any, is lost, so flush first when it matters. Writes are
//! *mandatory* jobs (`spawn_mandatory_blocking`): even if the runtime is
//! dropped before one started, the pool's threads run it before they exit
//! (see `runtime/blocking.rs`, "Shutdown"). The runtime does not wait for
//! them, though: a process that exits right after dropping its runtime
//! may exit first. Flush (or `sync_all`) before the end of `main`.
//!
//! Production note: tokio's `File` is the same machine (its `Inner` behind
//! an async `Mutex`); it lets `metadata` and `set_permissions` run beside
//! an operation in flight, where ember queues them behind it, so that
//! every clone of the `Arc` lives in the one job the state knows about and
//! `into_std` can always unwrap it. tokio's `Runtime::drop` also waits for
//! its blocking threads; ember's does not.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io::{self, Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};

use super::buf::Buf;
use super::OpenOptions;
use crate::io::{AsyncRead, AsyncSeek, AsyncWrite};
use crate::runtime::{coop, spawn_blocking, spawn_mandatory_blocking, JoinHandle};

/// The most bytes one job reads or writes (tokio's figure): a larger
/// `read` or `write` is cut to this, so a job takes milliseconds, not
/// seconds. Change it per file with [`File::set_max_buf_size`].
pub(crate) const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

/// An open file, read and written on the blocking pool.
///
/// Made by [`File::open`], [`File::create`], [`OpenOptions::open`] or
/// [`File::from_std`]. It implements [`AsyncRead`], [`AsyncWrite`] and
/// [`AsyncSeek`] (use them through `AsyncReadExt`, `AsyncWriteExt` and
/// `AsyncSeekExt`, feature `io-util`).
///
/// **Writes are buffered and run in the background.** `write` returns once
/// the bytes are handed to a pool thread; the next operation waits for
/// that job, and [`flush`](crate::io::AsyncWriteExt::flush) (or
/// [`sync_all`](File::sync_all)) reports whether it succeeded. Flush
/// before dropping the file if a failed write must not go unnoticed.
/// The module's source (`fs/file.rs`) draws the state machine.
///
/// `File` stays on the loop's thread (`!Send`), like the tasks that use it.
///
/// ```
/// use ember::fs::File;
/// use ember::io::{AsyncReadExt, AsyncWriteExt};
/// # let dir = std::env::temp_dir().join(format!("ember-doc-file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("hello.txt");
/// # ember::block_on(async {
/// let mut file = File::create(&path).await?;
/// file.write_all(b"hello, file").await?;
/// file.flush().await?; // the write is done, or its error is here
///
/// let mut contents = String::new();
/// File::open(&path).await?.read_to_string(&mut contents).await?;
/// assert_eq!(contents, "hello, file");
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    inner: RefCell<Inner>,
    /// Makes the `&self` operations take turns (see the module docs).
    lock: OpLock,
    max_buf_size: usize,
}

struct Inner {
    state: State,
    /// The error of a background write, kept for the next `poll_write` or
    /// `poll_flush` (a write already returned `Ok` to its caller).
    last_write_err: Option<io::Error>,
}

enum State {
    /// No job; the buffer holds read-ahead or nothing.
    Idle(Buf),
    /// One job owns the buffer and gives it back with its result. `seek`
    /// is the position of a seek job, so that `poll_seek` called again
    /// with the same position picks up its result.
    Busy {
        job: JoinHandle<(Operation, Buf)>,
        seek: Option<SeekFrom>,
    },
}

/// What a job did, and its result.
enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
    /// One of the `&self` operations: an `io::Result<T>` for its `T`.
    Call(Box<dyn Any + Send>),
}

impl File {
    /// Opens `path` for reading.
    ///
    /// # Errors
    /// Those of `std::fs::File::open`: `NotFound`, `PermissionDenied`, ...
    ///
    /// # Cancel safety
    /// Not cancel safe: the open runs on the pool; if the future is dropped
    /// first, the file is opened and closed there.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens `path` for writing, creating it or truncating it.
    ///
    /// # Cancel safety
    /// As [`open`](Self::open): the file may have been created or
    /// truncated.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates `path`, for reading and writing; `AlreadyExists` if it
    /// exists (atomically, `O_EXCL`).
    ///
    /// # Cancel safety
    /// As [`open`](Self::open): the file may have been created.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// A blank [`OpenOptions`], for anything `open` and `create` do not
    /// cover.
    #[must_use]
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file. Its cursor is where `std` left it.
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            inner: RefCell::new(Inner {
                state: State::Idle(Buf::default()),
                last_write_err: None,
            }),
            lock: OpLock::default(),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
        }
    }

    /// Waits for the operation in flight, then gives the std file back,
    /// its cursor where this `File`'s reader stands (read-ahead is given
    /// back with a seek). A background write's error is dropped: flush
    /// first to see it.
    ///
    /// # Cancel safety
    /// Not cancel safe: dropping it drops the file (the job in flight
    /// completes on the pool).
    pub async fn into_std(self) -> std::fs::File {
        // The seek over read-ahead, if any, fails only for a file that
        // cannot seek, and then there is no cursor to put back.
        let _ = self.call(DROP_READ_AHEAD, |_| Ok(())).await;
        match Arc::try_unwrap(self.std) {
            Ok(std) => std,
            // Every clone of the `Arc` lives in the one job the state
            // machine tracks, and `call` waited for it: this is
            // unreachable. Should it happen, a duplicate of the fd is the
            // same open file.
            Err(shared) => match shared.try_clone() {
                Ok(dup) => dup,
                Err(e) => {
                    panic!("ember::fs::File::into_std: the file is shared and dup failed: {e}")
                }
            },
        }
    }

    /// The std file, if no operation is in flight; else the `File` back.
    /// Read-ahead is given back at once with an `lseek` on this thread (a
    /// quick call on a local file system).
    #[allow(clippy::result_large_err)]
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        let back = match &mut self.inner.get_mut().state {
            State::Busy { .. } => return Err(self),
            State::Idle(buf) => buf.discard_read(),
        };
        match Arc::try_unwrap(self.std) {
            Ok(std) => {
                if back != 0 {
                    let _ = (&std).seek(SeekFrom::Current(back));
                }
                Ok(std)
            }
            Err(shared) => {
                self.std = shared;
                Err(self)
            }
        }
    }

    /// The file's metadata (`fstat`), once the operation in flight is done
    /// (so the size counts the writes before it). A background write's
    /// error is left for the next write or flush.
    ///
    /// # Cancel safety
    /// Cancel safe: it changes nothing (the `fstat` may still run).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        self.call(Call::default(), |std| std.metadata()).await
    }

    /// Duplicates the file descriptor (`dup`): a new `File` on the same
    /// open file, sharing its cursor, after the operation in flight.
    ///
    /// # Cancel safety
    /// Cancel safe: a descriptor duplicated for a dropped call is closed.
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = self.call(Call::default(), |std| std.try_clone()).await?;
        let mut file = File::from_std(std);
        file.max_buf_size = self.max_buf_size;
        Ok(file)
    }

    /// Waits for the write in flight, then `fsync`: data and metadata
    /// reach the disk. A background write's error is returned first.
    ///
    /// # Cancel safety
    /// Cancel safe in effect: the sync may still run; call it again.
    pub async fn sync_all(&self) -> io::Result<()> {
        self.call(REPORTS_WRITE_ERROR, |std| std.sync_all()).await
    }

    /// As [`sync_all`](Self::sync_all), with `fdatasync`: the data, and
    /// only the metadata needed to read it back.
    ///
    /// # Cancel safety
    /// As [`sync_all`](Self::sync_all).
    pub async fn sync_data(&self) -> io::Result<()> {
        self.call(REPORTS_WRITE_ERROR, |std| std.sync_data()).await
    }

    /// Truncates or extends the file to `size` bytes (`ftruncate`); the
    /// cursor does not move (read-ahead is dropped, and the cursor put
    /// back to where the reader stands).
    /// A background write's error is returned first (and the size left
    /// alone).
    ///
    /// # Cancel safety
    /// Not cancel safe: the size may or may not have changed.
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        let how = Call {
            drop_read_ahead: true,
            reports_write_error: true,
        };
        self.call(how, move |std| std.set_len(size)).await
    }

    /// Changes the file's permissions (`fchmod`).
    ///
    /// # Cancel safety
    /// Not cancel safe: the permissions may or may not have changed.
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        self.call(Call::default(), move |std| std.set_permissions(perm))
            .await
    }

    /// Sets the most bytes one job reads or writes (2 MiB by default).
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        self.max_buf_size = max_buf_size.max(1);
    }

    /// The most bytes one job reads or writes.
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }

    /// Runs `f` on the pool as this file's one job, after the job in
    /// flight, under the op lock; `how` says what else it does.
    async fn call<T, F>(&self, how: Call, f: F) -> io::Result<T>
    where
        F: FnOnce(&std::fs::File) -> io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let _turn = self.lock.lock().await;
        poll_fn(|cx| self.inner.borrow_mut().poll_idle(cx)).await?;
        {
            let mut inner = self.inner.borrow_mut();
            if how.reports_write_error {
                if let Some(e) = inner.last_write_err.take() {
                    return Err(e);
                }
            }
            let mut buf = inner.take_idle_buf();
            let back = if how.drop_read_ahead {
                buf.discard_read()
            } else {
                0
            };
            let std = self.std.clone();
            let job = spawn_blocking(move || {
                let result = if back != 0 {
                    (&*std).seek(SeekFrom::Current(back)).and_then(|_| f(&std))
                } else {
                    f(&std)
                };
                (Operation::Call(Box::new(result)), buf)
            });
            inner.state = State::Busy { job, seek: None };
        }
        let op = poll_fn(|cx| self.inner.borrow_mut().poll_job(cx)).await?;
        match op {
            Some(Operation::Call(result)) => match result.downcast::<io::Result<T>>() {
                Ok(result) => *result,
                Err(_) => Err(io::Error::other(
                    "ember::fs::File: a job's result had the wrong type",
                )),
            },
            // The op lock and `&self` keep every other operation out.
            _ => Err(io::Error::other(
                "ember::fs::File: another operation took this job's turn",
            )),
        }
    }
}

/// What a `&self` call does besides its job.
#[derive(Clone, Copy, Default)]
struct Call {
    /// Seek back over the read-ahead (dropped) before the job: for a call
    /// after which the buffered bytes may be stale (`set_len`), or that
    /// hands the cursor out (`into_std`).
    drop_read_ahead: bool,
    /// Return a background write's error, if one is kept, instead of
    /// running: for the calls that promise the data is safe (`sync_*`,
    /// `set_len`). The others leave it for the next write or flush.
    reports_write_error: bool,
}

const DROP_READ_AHEAD: Call = Call {
    drop_read_ahead: true,
    reports_write_error: false,
};

const REPORTS_WRITE_ERROR: Call = Call {
    drop_read_ahead: false,
    reports_write_error: true,
};

impl Inner {
    /// Waits for the job in flight, if any; `Ready(Some(op))` with its
    /// operation, the buffer back in `Idle`. A lost job (the runtime is
    /// shutting down) leaves an empty buffer and is an error.
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Operation>>> {
        let State::Busy { job, .. } = &mut self.state else {
            return Poll::Ready(Ok(None));
        };
        let result = ready!(Pin::new(job).poll(cx));
        let (op, buf) = match result {
            Ok(done) => done,
            Err(e) => {
                self.state = State::Idle(Buf::default());
                return Poll::Ready(Err(e.into()));
            }
        };
        self.state = State::Idle(buf);
        Poll::Ready(Ok(Some(op)))
    }

    /// Brings the file back to idle, keeping what matters of a result
    /// nobody is waiting for: a write's error.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(op) = ready!(self.poll_job(cx))? {
            self.keep(op);
        }
        Poll::Ready(Ok(()))
    }

    /// Settles the result of a job whose caller is gone or is someone
    /// else: a write's error is kept for the next write or flush; a read's
    /// bytes are already the buffer's read-ahead; the rest is dropped.
    fn keep(&mut self, op: Operation) {
        if let Operation::Write(Err(e)) = op {
            self.last_write_err.get_or_insert(e);
        }
    }

    /// The idle state's buffer, leaving an empty one in its place; the
    /// caller installs a `Busy` state right after.
    fn take_idle_buf(&mut self) -> Buf {
        match &mut self.state {
            State::Idle(buf) => std::mem::take(buf),
            State::Busy { .. } => Buf::default(),
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let inner = this.inner.get_mut();
        loop {
            match &mut inner.state {
                State::Idle(buf) if !buf.is_empty() || dst.is_empty() => {
                    // Read-ahead is ready at once: charge the budget, so a
                    // reader taking one byte at a time still yields.
                    ready!(coop::poll_proceed(cx));
                    return Poll::Ready(Ok(buf.copy_to(dst)));
                }
                State::Idle(buf) => {
                    let mut buf = std::mem::take(buf);
                    let max = dst.len().min(this.max_buf_size);
                    let std = this.std.clone();
                    let job = spawn_blocking(move || {
                        let result = buf.read_from(&std, max);
                        (Operation::Read(result), buf)
                    });
                    inner.state = State::Busy { job, seek: None };
                }
                State::Busy { .. } => match ready!(inner.poll_job(cx))? {
                    Some(Operation::Read(Err(e))) => return Poll::Ready(Err(e)),
                    // A read's bytes are now the buffer's: the next round
                    // copies them out (0 at end of file).
                    Some(Operation::Read(Ok(0))) => return Poll::Ready(Ok(0)),
                    Some(op) => inner.keep(op),
                    None => {}
                },
            }
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let inner = this.inner.get_mut();
        if let Some(e) = inner.last_write_err.take() {
            return Poll::Ready(Err(e));
        }
        loop {
            match &mut inner.state {
                State::Idle(_) if src.is_empty() => return Poll::Ready(Ok(0)),
                State::Idle(buf) => {
                    let mut buf = std::mem::take(buf);
                    let back = buf.discard_read();
                    let n = buf.copy_from(src, this.max_buf_size);
                    let std = this.std.clone();
                    // Mandatory: the caller is told `Ok` now, so the job
                    // must run even if the runtime shuts down first.
                    let job = spawn_mandatory_blocking(move || {
                        let result = if back != 0 {
                            (&*std)
                                .seek(SeekFrom::Current(back))
                                .and_then(|_| buf.write_to(&std))
                        } else {
                            buf.write_to(&std)
                        };
                        (Operation::Write(result), buf)
                    });
                    inner.state = State::Busy { job, seek: None };
                    return Poll::Ready(Ok(n));
                }
                State::Busy { .. } => match ready!(inner.poll_job(cx))? {
                    Some(Operation::Write(Err(e))) => return Poll::Ready(Err(e)),
                    Some(op) => inner.keep(op),
                    None => {}
                },
            }
        }
    }

    /// Waits for the write in flight; its error, or a kept one, is
    /// returned (once).
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let inner = self.get_mut().inner.get_mut();
        ready!(inner.poll_idle(cx))?;
        match inner.last_write_err.take() {
            Some(e) => Poll::Ready(Err(e)),
            None => Poll::Ready(Ok(())),
        }
    }

    /// The same as `poll_flush`: a file has no write side to shut.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    /// Starts a seek job on the first call (after the job in flight), and
    /// returns its result when called again with the same `pos`. Read-ahead
    /// is dropped, and a `SeekFrom::Current` counted from where the reader
    /// stands, not from the OS cursor.
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        let inner = this.inner.get_mut();
        loop {
            match &mut inner.state {
                State::Busy { seek, .. } if *seek == Some(pos) => match ready!(inner.poll_job(cx))?
                {
                    Some(Operation::Seek(result)) => return Poll::Ready(result),
                    Some(op) => inner.keep(op),
                    None => {}
                },
                State::Busy { .. } => {
                    if let Some(op) = ready!(inner.poll_job(cx))? {
                        inner.keep(op);
                    }
                }
                State::Idle(buf) => {
                    let mut buf = std::mem::take(buf);
                    let back = buf.discard_read();
                    let target = match pos {
                        SeekFrom::Current(n) => match n.checked_add(back) {
                            Some(n) => SeekFrom::Current(n),
                            None => {
                                inner.state = State::Idle(buf);
                                return Poll::Ready(Err(io::Error::new(
                                    io::ErrorKind::InvalidInput,
                                    "seek offset overflows",
                                )));
                            }
                        },
                        other => other,
                    };
                    let std = this.std.clone();
                    let job = spawn_blocking(move || {
                        let result = (&*std).seek(target);
                        (Operation::Seek(result), buf)
                    });
                    inner.state = State::Busy {
                        job,
                        seek: Some(pos),
                    };
                }
            }
        }
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let busy = matches!(
            self.inner
                .try_borrow()
                .map(|i| matches!(i.state, State::Busy { .. })),
            Ok(true)
        );
        f.debug_struct("File")
            .field("std", &self.std)
            .field("busy", &busy)
            .finish()
    }
}

/// Makes the `&self` operations of one `File` take turns: a flag and the
/// wakers of those waiting for it. Local to the thread, like the `File`.
#[derive(Default)]
struct OpLock {
    held: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

impl OpLock {
    async fn lock(&self) -> OpTurn<'_> {
        poll_fn(|cx| {
            if !self.held.get() {
                self.held.set(true);
                return Poll::Ready(());
            }
            let mut waiting = self.waiting.borrow_mut();
            if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                waiting.push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await;
        OpTurn { lock: self }
    }
}

/// A turn under the [`OpLock`]; ending it (also by a drop midway) wakes
/// every waiter, and the first to be polled takes the next turn.
struct OpTurn<'a> {
    lock: &'a OpLock,
}

impl Drop for OpTurn<'_> {
    fn drop(&mut self) {
        self.lock.held.set(false);
        let waiting = std::mem::take(&mut *self.lock.waiting.borrow_mut());
        // Woken with the borrow released: ember's wakers only queue tasks.
        for waker in waiting {
            waker.wake();
        }
    }
}
