//! What every pipe end does the same way, written once for
//! `net::unix::pipe`'s `Sender` and `Receiver` and for `process`'s
//! `ChildStdin`, `ChildStdout` and `ChildStderr`.
//!
//! Each of those is a thin type over a `Registered<File>` (a `File` is only
//! an owned fd with `Read` and `Write` on `&File`, no buffering), and calls
//! these functions for its reads, writes and conversions. Relies on
//! `io/registered.rs` for the one `WouldBlock` loop and on `sys::fd` for
//! `O_NONBLOCK`.
//!
//! # Invariant
//! The fd registered is non-blocking (set by [`register`] before any I/O
//! is tried on it), and its open file description is not shared with
//! another process: a pipe made by `sys::fd::pipe` or by std for a child
//! is close-on-exec, so no child inherits it (the child gets its own end,
//! a different description). A FIFO opened by path or a user's file may be
//! shared: then `O_NONBLOCK` reaches its other holders too (documented on
//! the constructors that take one).
//!
//! Pipes are byte streams, so the short-read rule of `io/registered.rs`
//! holds: a read that returns fewer bytes than asked emptied the pipe, a
//! write that took fewer filled it.

use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::task::{Context, Poll};

use crate::io::registered::Registered;
use crate::reactor::Direction;
use crate::sys::fd::set_nonblocking_to;

/// Registers `fd` with the current runtime and sets `O_NONBLOCK` on it.
/// Registered first (as `Async::new` does): if epoll refuses the fd (a
/// regular file), its flags stay untouched. On error the fd is closed.
///
/// # Panics
/// Outside an ember runtime, like every I/O constructor.
#[track_caller]
pub(crate) fn register(fd: OwnedFd) -> io::Result<Registered<File>> {
    let io = Registered::new(File::from(fd))?;
    set_nonblocking_to(io.get_ref().as_raw_fd(), true)?;
    Ok(io)
}

/// Reads into `buf`; a short read drained the pipe.
pub(crate) fn poll_read(
    io: &Registered<File>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let len = buf.len();
    io.poll_io(
        cx,
        Direction::Read,
        |mut f| f.read(buf),
        |&n| n > 0 && n < len,
    )
}

/// Reads into the unfilled part of `buf` with no zeroing; a short read
/// drained the pipe.
pub(crate) fn poll_read_buf(
    io: &Registered<File>,
    cx: &mut Context<'_>,
    buf: &mut crate::io::ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let len = buf.remaining();
    io.poll_io(
        cx,
        Direction::Read,
        |f| crate::sys::fd::read_buf(f.as_fd(), buf),
        |&n| n > 0 && n < len,
    )
    .map_ok(drop)
}

/// Writes from `buf`; a short write filled the pipe.
pub(crate) fn poll_write(
    io: &Registered<File>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    let len = buf.len();
    io.poll_io(cx, Direction::Write, |mut f| f.write(buf), |&n| n < len)
}

/// Writes from `bufs` (`writev`). No short-write rule: `writev` may take
/// fewer buffers than offered for reasons other than a full pipe.
pub(crate) fn poll_write_vectored(
    io: &Registered<File>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    io.poll_io(
        cx,
        Direction::Write,
        |mut f| f.write_vectored(bufs),
        |_| false,
    )
}

/// Deregisters and gives the fd back, blocking (`nonblocking == false`)
/// or not. On error the fd is closed.
pub(crate) fn into_fd(io: Registered<File>, nonblocking: bool) -> io::Result<OwnedFd> {
    let fd = OwnedFd::from(io.into_inner());
    set_nonblocking_to(fd.as_raw_fd(), nonblocking)?;
    Ok(fd)
}

/// `AsyncRead` for `$t`, a type with a field `io: Registered<File>`;
/// `poll_read_buf` reads into uninitialised memory, as the sockets do.
macro_rules! pipe_read {
    ($t:ty) => {
        impl $crate::io::AsyncRead for $t {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::io::pipe_end::poll_read(&self.io, cx, buf)
            }

            fn poll_read_buf(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut $crate::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::io::pipe_end::poll_read_buf(&self.io, cx, buf)
            }
        }
    };
}

/// `AsyncWrite` for `$t`, a type with a field `io: Registered<File>`.
/// Flushing has nothing to do (a pipe has no user-space buffer), nor has
/// closing: the fd closes when the value is dropped (as in tokio).
macro_rules! pipe_write {
    ($t:ty) => {
        impl $crate::io::AsyncWrite for $t {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::io::pipe_end::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::io::pipe_end::poll_write_vectored(&self.io, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }
        }
    };
}

/// `AsRawFd`, `AsFd` and `Debug` for `$t`, a type with a field
/// `io: Registered<File>`.
macro_rules! pipe_fd {
    ($t:ident) => {
        impl std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
            }
        }

        impl std::os::fd::AsFd for $t {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.io.get_ref())
            }
        }

        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("fd", &std::os::fd::AsRawFd::as_raw_fd(self))
                    .finish()
            }
        }
    };
}

pub(crate) use {pipe_fd, pipe_read, pipe_write};
