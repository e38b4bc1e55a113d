//! Unix pipes and FIFOs (`pipe(7)`, `fifo(7)`): [`pipe()`] makes an
//! anonymous pipe, [`OpenOptions`] opens a FIFO by path, and each end is a
//! [`Sender`] ([`AsyncWrite`]) or a [`Receiver`] ([`AsyncRead`]).
//!
//! Called by user code. Each end is a thin type over a `Registered<File>`
//! (`io/registered.rs`: registration, the one `WouldBlock` loop,
//! deregistration before close); the reads, writes and conversions they
//! share with `process`'s child pipes are in `io/pipe_end.rs`. Relies on
//! `sys::fd` for `pipe2`, `O_NONBLOCK` and the access mode.
//!
//! # End of stream and broken pipes
//! A [`Receiver`] reads end of stream (`Ok(0)`) once every write end is
//! closed (every `Sender` dropped, every other process's copy closed). A
//! write to a pipe with no reader left fails with
//! [`BrokenPipe`](std::io::ErrorKind::BrokenPipe): Rust programs ignore
//! `SIGPIPE` (std sets it to `SIG_IGN` before `main`); one that restores
//! the default disposition is killed by the signal instead, as with
//! blocking I/O.
//!
//! # FIFOs
//! Opening a FIFO for writing fails (`ENXIO`, "No such device or address")
//! while nobody has it open for reading; opening it for reading succeeds at
//! once, and reads end of stream until a writer comes. Opening it for both
//! ([`OpenOptions::read_write`], Linux only) does neither: the process is
//! then a writer itself, so a [`Receiver`] opened that way never reads end
//! of stream. A FIFO's open file description may be shared with other
//! processes; `O_NONBLOCK` is set on it, which they see too.
//!
//! # Production notes
//! tokio's `pipe` module has the same surface, plus `ready(Interest)` and
//! the `*_buf` methods over `bytes`; ember has no `Interest` type yet, so
//! [`Receiver::readable`] and [`Sender::writable`] are the ways to wait.

use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::task::{Context, Poll};

use crate::io::pipe_end;
use crate::io::registered::Registered;
#[cfg(doc)]
use crate::io::{AsyncRead, AsyncWrite};
use crate::reactor::Direction;
use crate::sys::fd::{self as sys};

/// Makes an anonymous pipe: what is written to the [`Sender`] is read from
/// the [`Receiver`]. Both ends are non-blocking, close-on-exec, and
/// registered with the current runtime.
///
/// ```
/// use ember::io::{AsyncReadExt, AsyncWriteExt};
///
/// ember::block_on(async {
///     let (mut tx, mut rx) = ember::net::unix::pipe::pipe()?;
///     tx.write_all(b"hello").await?;
///     drop(tx); // the receiver now reads end of stream after the bytes
///     let mut got = String::new();
///     rx.read_to_string(&mut got).await?;
///     assert_eq!(got, "hello");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
/// Outside an ember runtime, like every I/O constructor.
#[track_caller]
pub fn pipe() -> io::Result<(Sender, Receiver)> {
    let (read, write) = sys::pipe()?;
    // Registered in order; on error the other fd closes as it drops.
    let rx = Receiver::from_owned_fd_unchecked(read)?;
    let tx = Sender::from_owned_fd_unchecked(write)?;
    Ok((tx, rx))
}

/// Options for opening a FIFO as a [`Receiver`] or a [`Sender`], as
/// `std::fs::OpenOptions` opens files.
///
/// ```no_run
/// use ember::net::unix::pipe;
///
/// # async fn f() -> std::io::Result<()> {
/// // The FIFO exists (made by `mkfifo /tmp/ember.fifo`).
/// let rx = pipe::OpenOptions::new().open_receiver("/tmp/ember.fifo")?;
/// let tx = pipe::OpenOptions::new().open_sender("/tmp/ember.fifo")?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    read_write: bool,
    unchecked: bool,
}

impl OpenOptions {
    /// Options to open a FIFO at one end, checked to be a FIFO.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Opens the FIFO for reading and writing (`O_RDWR`, a Linux
    /// extension): opening a sender then succeeds with no reader, and a
    /// receiver never reads end of stream (the process itself holds a write
    /// end). See the module docs.
    pub fn read_write(&mut self, value: bool) -> &mut OpenOptions {
        self.read_write = value;
        self
    }

    /// Skips the check that the path names a FIFO (for a character device
    /// that behaves like one, say). Without it, anything else is an error
    /// of kind `InvalidInput`.
    pub fn unchecked(&mut self, value: bool) -> &mut OpenOptions {
        self.unchecked = value;
        self
    }

    /// Opens the FIFO at `path` for reading.
    ///
    /// # Errors
    /// What `open(2)` reports (no such file, no permission); `InvalidInput`
    /// if `path` is not a FIFO (unless [`unchecked`](Self::unchecked)).
    ///
    /// # Panics
    /// Outside an ember runtime, like every I/O constructor.
    #[track_caller]
    pub fn open_receiver<P: AsRef<Path>>(&self, path: P) -> io::Result<Receiver> {
        let file = self.open(path.as_ref(), true)?;
        Receiver::from_file_unchecked(file)
    }

    /// Opens the FIFO at `path` for writing.
    ///
    /// # Errors
    /// `ENXIO` ("No such device or address") when nobody has the FIFO open
    /// for reading, unless [`read_write`](Self::read_write); otherwise as
    /// [`open_receiver`](Self::open_receiver).
    ///
    /// # Panics
    /// Outside an ember runtime, like every I/O constructor.
    #[track_caller]
    pub fn open_sender<P: AsRef<Path>>(&self, path: P) -> io::Result<Sender> {
        let file = self.open(path.as_ref(), false)?;
        Sender::from_file_unchecked(file)
    }

    /// Opens `path` non-blocking (so opening a FIFO's read end does not
    /// wait for a writer) and close-on-exec (std always sets it), and
    /// checks its type.
    fn open(&self, path: &Path, read: bool) -> io::Result<File> {
        let file = std::fs::OpenOptions::new()
            .read(read || self.read_write)
            .write(!read || self.read_write)
            .custom_flags(sys::O_NONBLOCK)
            .open(path)?;
        if !self.unchecked && !file.metadata()?.file_type().is_fifo() {
            return Err(not_a_pipe());
        }
        Ok(file)
    }
}

fn not_a_pipe() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "not a pipe")
}

/// Checks that `fd` is a pipe or FIFO open for `read` (else for writing),
/// and gives it back; on error it is closed.
fn check(fd: OwnedFd, read: bool) -> io::Result<OwnedFd> {
    let file = File::from(fd);
    if !file.metadata()?.file_type().is_fifo() {
        return Err(not_a_pipe());
    }
    let access = sys::access(file.as_fd())?;
    let ok = if read { access.read } else { access.write };
    if !ok {
        let what = if read { "reading" } else { "writing" };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the pipe is not open for {what}"),
        ));
    }
    Ok(file.into())
}

/// The writing end of a pipe or FIFO: an [`AsyncWrite`].
///
/// Dropping it closes the fd; once every write end is closed, the
/// [`Receiver`] reads end of stream. [`poll_close`](AsyncWrite::poll_close)
/// does nothing (an owned value cannot close its fd early): drop the
/// sender to close.
pub struct Sender {
    io: Registered<File>,
}

impl Sender {
    /// A sender over `file`, which must be a pipe or FIFO open for writing;
    /// sets `O_NONBLOCK` on it (on its open file description, shared by
    /// every duplicate) and registers it.
    ///
    /// # Errors
    /// `InvalidInput` if `file` is not a pipe or not open for writing.
    ///
    /// # Panics
    /// Outside an ember runtime, like every I/O constructor.
    #[track_caller]
    pub fn from_file(file: File) -> io::Result<Sender> {
        Sender::from_owned_fd(file.into())
    }

    /// [`from_file`](Self::from_file) with an `OwnedFd`.
    #[track_caller]
    pub fn from_owned_fd(fd: OwnedFd) -> io::Result<Sender> {
        Sender::from_owned_fd_unchecked(check(fd, false)?)
    }

    /// [`from_file`](Self::from_file) without the checks: for an fd the
    /// caller knows to be a writable pipe (or something epoll can watch
    /// that behaves like one).
    #[track_caller]
    pub fn from_file_unchecked(file: File) -> io::Result<Sender> {
        Sender::from_owned_fd_unchecked(file.into())
    }

    /// [`from_owned_fd`](Self::from_owned_fd) without the checks.
    #[track_caller]
    pub fn from_owned_fd_unchecked(fd: OwnedFd) -> io::Result<Sender> {
        Ok(Sender {
            io: pipe_end::register(fd)?,
        })
    }

    /// Waits until the pipe may be writable. Readiness can be spurious:
    /// follow it with [`try_write`](Self::try_write) and loop on
    /// `WouldBlock`. Any number of tasks may wait at once; all are woken.
    ///
    /// # Cancel safety
    /// Cancel safe: it consumes nothing.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// `Ready` once the pipe may be writable; stores the waker otherwise
    /// (only the last task to poll is woken, as with `AsyncWrite`).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Write)
    }

    /// Writes what fits without waiting; `WouldBlock` if nothing does.
    /// A write of at most `PIPE_BUF` (4096) bytes is atomic: all or
    /// `WouldBlock`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |mut f| std::io::Write::write(&mut f, buf))
    }

    /// Writes what fits of several buffers without waiting.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |mut f| {
            std::io::Write::write_vectored(&mut f, bufs)
        })
    }

    /// Deregisters and returns the fd, made blocking again (to hand to a
    /// child process or to blocking code).
    pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
        pipe_end::into_fd(self.io, false)
    }

    /// Deregisters and returns the fd, still non-blocking.
    pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
        pipe_end::into_fd(self.io, true)
    }
}

/// The reading end of a pipe or FIFO: an [`AsyncRead`].
///
/// Reads end of stream (`Ok(0)`) once every write end is closed.
pub struct Receiver {
    io: Registered<File>,
}

impl Receiver {
    /// A receiver over `file`, which must be a pipe or FIFO open for
    /// reading; sets `O_NONBLOCK` on it (on its open file description,
    /// shared by every duplicate) and registers it.
    ///
    /// # Errors
    /// `InvalidInput` if `file` is not a pipe or not open for reading.
    ///
    /// # Panics
    /// Outside an ember runtime, like every I/O constructor.
    #[track_caller]
    pub fn from_file(file: File) -> io::Result<Receiver> {
        Receiver::from_owned_fd(file.into())
    }

    /// [`from_file`](Self::from_file) with an `OwnedFd`.
    #[track_caller]
    pub fn from_owned_fd(fd: OwnedFd) -> io::Result<Receiver> {
        Receiver::from_owned_fd_unchecked(check(fd, true)?)
    }

    /// [`from_file`](Self::from_file) without the checks.
    #[track_caller]
    pub fn from_file_unchecked(file: File) -> io::Result<Receiver> {
        Receiver::from_owned_fd_unchecked(file.into())
    }

    /// [`from_owned_fd`](Self::from_owned_fd) without the checks.
    #[track_caller]
    pub fn from_owned_fd_unchecked(fd: OwnedFd) -> io::Result<Receiver> {
        Ok(Receiver {
            io: pipe_end::register(fd)?,
        })
    }

    /// Waits until the pipe may be readable (data, or end of stream).
    /// Readiness can be spurious: follow it with
    /// [`try_read`](Self::try_read) and loop on `WouldBlock`. Any number of
    /// tasks may wait at once; all are woken.
    ///
    /// # Cancel safety
    /// Cancel safe: it consumes nothing.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// `Ready` once the pipe may be readable; stores the waker otherwise
    /// (only the last task to poll is woken, as with `AsyncRead`).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(cx, Direction::Read)
    }

    /// Reads what is there without waiting: `Ok(0)` at end of stream,
    /// `WouldBlock` if nothing is there yet.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Read, |mut f| std::io::Read::read(&mut f, buf))
    }

    /// Reads into several buffers without waiting.
    pub fn try_read_vectored(&self, bufs: &mut [io::IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |mut f| {
            std::io::Read::read_vectored(&mut f, bufs)
        })
    }

    /// Deregisters and returns the fd, made blocking again.
    pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
        pipe_end::into_fd(self.io, false)
    }

    /// Deregisters and returns the fd, still non-blocking.
    pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
        pipe_end::into_fd(self.io, true)
    }
}

pipe_end::pipe_fd!(Sender);
pipe_end::pipe_fd!(Receiver);
pipe_end::pipe_write!(Sender);
pipe_end::pipe_read!(Receiver);
