//! `Async<T>`: any file descriptor (a pipe, an eventfd, a tty, another
//! crate's socket) driven by ember's reactor.
//!
//! Users wrap a value that owns an fd; `Async::new` registers the fd with
//! the current runtime's reactor and makes it non-blocking. It is a thin
//! type over `Registered<T>` (`io/registered.rs`), which holds the
//! registration, runs the one `WouldBlock` loop, checks that the runtime is
//! running, and deregisters before the value (and its fd) is dropped.
//!
//! # No "short read means drained"
//! TCP streams treat a short read as proof that the socket is empty (see
//! `registration.rs`). That is sound for byte streams only, and an `Async`
//! may hold anything: an eventfd always reads exactly 8 bytes, a tty hands
//! out one line at a time. So every operation here passes `|_| false`:
//! readiness is forgotten only when the syscall itself says `WouldBlock`.
//! The cost is one extra syscall per burst on pipes, which do qualify.
//!
//! # Production notes
//! async-io's `Async::readable()` waits for an event newer than the last
//! one it saw; tokio's `AsyncFd` hands out a guard whose `clear_ready` the
//! user calls after a `WouldBlock`. ember keeps the cached readiness that
//! its sockets use and asks users to make their syscall inside `read_with`,
//! so the one `WouldBlock` loop stays the only place readiness is cleared.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::io::registered::Registered;
use crate::io::{AsyncRead, AsyncWrite};
use crate::reactor::Direction;

/// An fd-owning value `T` (a pipe end, an eventfd, a tty...) whose I/O
/// waits on ember's reactor instead of blocking the thread. Needs the `net`
/// feature.
///
/// `Async::new` sets `O_NONBLOCK` on the fd and registers it. Then:
///
/// - where `T: Read`/`Write`, `Async<T>` is an [`AsyncRead`]/[`AsyncWrite`]
///   (and `&Async<T>` too, where `&T` is `Read`/`Write`, like `File`);
/// - for anything else, [`read_with`](Self::read_with) and
///   [`write_with`](Self::write_with) run a closure that makes one
///   non-blocking call on `&T`, and retry it whenever it says `WouldBlock`,
///   after waiting for readiness.
///
/// Closing: dropping the `Async` deregisters the fd, then drops `T`, which
/// closes it. [`poll_close`](AsyncWrite::poll_close) only flushes (an
/// `Async` cannot close a `T` it still owns): to give a pipe's reader end
/// of stream, drop the writing `Async`.
///
/// # What epoll refuses
/// Regular files, directories and some character devices (`/dev/null`,
/// `/dev/zero`) cannot be watched by epoll: they are always "ready", and a
/// read of a file on a slow disk blocks anyway. `Async::new` returns an
/// error of kind [`Unsupported`](io::ErrorKind::Unsupported) for them,
/// never a panic. Read files with `std::fs`, off the loop if they are slow.
///
/// # Signals
/// Writes are `T`'s own `write(2)`: on a pipe whose reader is gone the
/// kernel raises `SIGPIPE`. Rust programs ignore `SIGPIPE` (std sets it to
/// `SIG_IGN` before `main`), so the write fails with `BrokenPipe`; a program
/// that restores the default disposition is killed, as with blocking I/O.
/// (ember's sockets pass `MSG_NOSIGNAL` and never raise it.)
///
/// ```no_run
/// use ember::io::{Async, AsyncBufReadExt, BufReader};
/// use std::process::{Command, Stdio};
///
/// ember::block_on(async {
///     let mut child = Command::new("ls").stdout(Stdio::piped()).spawn()?;
///     let stdout = child.stdout.take().expect("piped");
///     let mut lines = BufReader::new(Async::new(stdout)?).lines();
///     while let Some(line) = lines.next_line().await? {
///         println!("{line}");
///     }
///     child.wait()?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Async<T> {
    inner: Registered<T>,
}

// `T` is never pinned: `poll_read` and friends only take `&mut T`.
impl<T> Unpin for Async<T> {}

impl<T: AsRawFd> Async<T> {
    /// Registers `io`'s fd with the current runtime's reactor and sets
    /// `O_NONBLOCK` on it.
    ///
    /// `O_NONBLOCK` belongs to the open file description, so duplicates of
    /// the fd (a terminal shared with the shell, a `dup`) become
    /// non-blocking too, and [`into_inner`](Self::into_inner) leaves it set.
    ///
    /// # Errors
    /// Kind [`Unsupported`](io::ErrorKind::Unsupported) for an fd epoll
    /// cannot watch (a regular file, a directory, `/dev/null`); the OS error
    /// if registration fails otherwise (an fd already registered with this
    /// runtime is `AlreadyExists`). On error `io` is dropped.
    ///
    /// # Panics
    /// Outside an ember runtime, like every I/O constructor.
    pub fn new(io: T) -> io::Result<Async<T>> {
        let fd = io.as_raw_fd();
        // Register first: if epoll refuses the fd, its flags stay untouched.
        let inner = Registered::new(io).map_err(|e| {
            // `epoll_ctl(2)`: EPERM, "the target file fd does not support
            // epoll", is the only error of EPOLL_CTL_ADD that maps to
            // PermissionDenied.
            if e.kind() == io::ErrorKind::PermissionDenied {
                io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!(
                        "epoll cannot watch fd {fd} ({e}): regular files, directories and \
                         devices such as /dev/null are always ready; use blocking std I/O \
                         for them instead of ember::io::Async"
                    ),
                )
            } else {
                e
            }
        })?;
        // `inner` owns the value, so `fd` is open.
        crate::sys::fd::set_nonblocking_raw(fd)?;
        Ok(Async { inner })
    }

    /// Waits until the fd may be readable.
    ///
    /// Readiness is a cache that only a `WouldBlock` clears, so after
    /// `readable()` do the read inside [`read_with`](Self::read_with) (or
    /// through [`AsyncRead`]): a syscall made on the side that answers
    /// `WouldBlock` leaves the cache set, and `readable()` would return at
    /// once again.
    ///
    /// # Cancel safety
    /// Cancel safe: it consumes nothing.
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.ready(Direction::Read).await
    }

    /// Waits until the fd may be writable; see [`readable`](Self::readable).
    ///
    /// # Cancel safety
    /// Cancel safe: it consumes nothing.
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.ready(Direction::Write).await
    }

    /// `Ready` once the fd may be readable; otherwise stores the task's
    /// waker and returns `Pending`.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_ready(cx, Direction::Read)
    }

    /// `Ready` once the fd may be writable; otherwise stores the task's
    /// waker and returns `Pending`.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_ready(cx, Direction::Write)
    }

    /// Runs `op`, a non-blocking read-like call on `&T`, until it answers
    /// something other than `WouldBlock`, waiting for readability between
    /// tries. Returns what `op` returned.
    ///
    /// `op` should make one syscall that reports `WouldBlock` when the fd
    /// has nothing for it; a closure that answers `WouldBlock` on its own
    /// would wait for an edge that may never come.
    ///
    /// # Cancel safety
    /// Cancel safe as long as `op` is: it is only called when it can
    /// complete, and a call that answered `WouldBlock` did nothing.
    ///
    /// ```no_run
    /// use std::io::Read;
    /// # async fn f(efd: ember::io::Async<std::fs::File>) -> std::io::Result<()> {
    /// // An eventfd: each read takes the 8-byte counter.
    /// let mut counter = [0u8; 8];
    /// efd.read_with(|mut f| f.read(&mut counter)).await?;
    /// println!("{}", u64::from_ne_bytes(counter));
    /// # Ok(()) }
    /// ```
    pub async fn read_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.inner.async_io(Direction::Read, op).await
    }

    /// Like [`read_with`](Self::read_with), with `&mut T`.
    ///
    /// # Cancel safety
    /// As for `read_with`.
    pub async fn read_with_mut<R>(
        &mut self,
        op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.inner.async_io_mut(Direction::Read, op).await
    }

    /// Runs `op`, a non-blocking write-like call on `&T`, until it answers
    /// something other than `WouldBlock`, waiting for writability between
    /// tries. See [`read_with`](Self::read_with).
    ///
    /// # Cancel safety
    /// Cancel safe as long as `op` is.
    pub async fn write_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.inner.async_io(Direction::Write, op).await
    }

    /// Like [`write_with`](Self::write_with), with `&mut T`.
    ///
    /// # Cancel safety
    /// As for `write_with`.
    pub async fn write_with_mut<R>(
        &mut self,
        op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.inner.async_io_mut(Direction::Write, op).await
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        self.inner.get_ref()
    }

    /// The wrapped value, mutably.
    ///
    /// Do not close or replace its fd: the registration still names the fd
    /// number, and would later remove whatever fd reuses it from epoll.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// Deregisters the fd and returns the value (its fd stays open and
    /// non-blocking).
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    fn poll_io_mut<R>(
        &mut self,
        cx: &mut Context<'_>,
        dir: Direction,
        op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.inner.poll_io_mut(cx, dir, op, |_| false)
    }

    fn poll_io_ref<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.inner.poll_io(cx, dir, op, |_| false)
    }
}

impl<T: AsRawFd + Read> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_io_mut(cx, Direction::Read, |io| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_io_mut(cx, Direction::Read, |io| io.read_vectored(bufs))
    }
}

impl<T: AsRawFd + Write> AsyncWrite for Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_io_mut(cx, Direction::Write, |io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_io_mut(cx, Direction::Write, |io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .poll_io_mut(cx, Direction::Write, |io| io.flush())
    }

    /// Flushes only: the fd closes when the `Async` is dropped.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsRawFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_io_ref(cx, Direction::Read, |mut io| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io_ref(cx, Direction::Read, |mut io| io.read_vectored(bufs))
    }
}

impl<T: AsRawFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_io_ref(cx, Direction::Write, |mut io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io_ref(cx, Direction::Write, |mut io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_io_ref(cx, Direction::Write, |mut io| io.flush())
    }

    /// Flushes only: the fd closes when the `Async` is dropped.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T: AsRawFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

impl<T: fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async")
            .field("io", self.inner.get_ref())
            .finish()
    }
}
