//! `stdin()`, `stdout()`, `stderr()`: the process's standard streams as
//! ember's `AsyncRead` and `AsyncWrite`.
//!
//! # Why the blocking pool, and never `O_NONBLOCK`
//! fds 0, 1 and 2 are usually shared: with the terminal and the shell that
//! started the program, with the other processes of a pipeline, and inside
//! this process with `println!` and `std::io::stdin()`. `O_NONBLOCK` is a
//! flag of the *file description*, which all of them share: setting it
//! (as `Async::new` must, to drive an fd on epoll) would make the
//! program's own `println!` fail with `EAGAIN` on a slow terminal, and
//! would leave the user's shell with a non-blocking terminal after an exit
//! or a Ctrl-C. So these types never touch the fd's flags. Each read or
//! write runs on the blocking pool (`blocking.rs`), through std's own
//! handles, so they also share std's buffers and locks with `println!`
//! and `std::io::stdin()`: bytes are never reordered between the two.
//!
//! Reads and writes never block the loop: a write returns as soon as its
//! bytes are handed to the pool (a slow reader on the other end delays
//! only the next write or flush, not a timer), and a read waits for its
//! job like any future.
//!
//! Production note: tokio does the same (a blocking thread per operation).
//! A socket or a pipe that the process alone holds could be driven on
//! epoll instead, but nothing tells a program whether its stdin is shared,
//! so ember does not guess.
//!
//! A read of stdin that waits for input keeps one pool thread until input
//! (or end of file) comes; the runtime's drop does not wait for it.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::blocking::Blocking;
use super::{AsyncRead, AsyncWrite};

/// The process's standard input, read on the blocking pool. See
/// [`stdin()`].
pub struct Stdin {
    inner: Blocking<io::Stdin>,
}

/// The process's standard output, written on the blocking pool. See
/// [`stdout()`].
pub struct Stdout {
    inner: Blocking<Locked<io::Stdout>>,
}

/// The process's standard error, written on the blocking pool. See
/// [`stderr()`].
pub struct Stderr {
    inner: Blocking<Locked<io::Stderr>>,
}

/// Standard input, as an [`AsyncRead`]. Each call makes a new handle;
/// they all read through std's one buffered `Stdin`, so bytes are never
/// lost or reordered between handles (or with `std::io::stdin()`).
///
/// # Cancel safety
/// Reads are cancel safe: bytes fetched for a read that was dropped wait
/// in the handle for its next read (a different handle does not see them).
///
/// ```no_run
/// use ember::io::{AsyncBufReadExt, BufReader};
///
/// ember::block_on(async {
///     let mut lines = BufReader::new(ember::io::stdin()).lines();
///     while let Some(line) = lines.next_line().await? {
///         println!("got {line}");
///     }
///     Ok::<(), std::io::Error>(())
/// })
/// # .unwrap();
/// ```
pub fn stdin() -> Stdin {
    Stdin {
        inner: Blocking::new(io::stdin()),
    }
}

/// Standard output, as an [`AsyncWrite`]. A write returns once its bytes
/// are handed to the blocking pool, which writes and flushes them through
/// std's `Stdout` (the same buffer and lock as `println!`); the next write,
/// or `flush`, waits for it and reports its error. Flush before the
/// program ends, or the last write may be cut short with the runtime.
///
/// ```
/// use ember::io::AsyncWriteExt;
///
/// ember::block_on(async {
///     let mut out = ember::io::stdout();
///     out.write_all(b"hello from ember\n").await?;
///     out.flush().await
/// })
/// .unwrap();
/// ```
pub fn stdout() -> Stdout {
    Stdout {
        inner: Blocking::new(Locked(io::stdout())),
    }
}

/// Standard error, as an [`AsyncWrite`]; as [`stdout()`].
pub fn stderr() -> Stderr {
    Stderr {
        inner: Blocking::new(Locked(io::stderr())),
    }
}

/// A std stream written under one lock per job: a write and its flush are
/// not split by a `println!` from another thread.
struct Locked<T>(T);

impl io::Write for Locked<io::Stdout> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut out = self.0.lock();
        out.write_all(buf)?;
        out.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().flush()
    }
}

impl io::Write for Locked<io::Stderr> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.lock().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().flush()
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().inner.poll_read(cx, buf)
    }

    fn poll_read_buf(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut super::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().inner.poll_read_buf(cx, buf)
    }
}

macro_rules! write_impl {
    ($t:ty) => {
        impl AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().inner.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().inner.poll_flush(cx)
            }

            /// Flushes; the standard stream itself stays open.
            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().inner.poll_flush(cx)
            }
        }
    };
}

write_impl!(Stdout);
write_impl!(Stderr);

macro_rules! fd_impl {
    ($t:ty, $fd:expr, $name:literal) => {
        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                $fd
            }
        }

        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad($name)
            }
        }
    };
}

fd_impl!(Stdin, 0, "Stdin");
fd_impl!(Stdout, 1, "Stdout");
fd_impl!(Stderr, 2, "Stderr");
