//! Any file descriptor: file status flags (`fcntl(2)` with `F_GETFL` and
//! `F_SETFL`), and anonymous pipes (`pipe2(2)`).
//!
//! Called by `sys::socket` (sockets taken from std or other crates), by
//! `io::Async` (pipes, eventfds, ttys, anything with an fd), by the pipe
//! ends of `net::unix::pipe` and `process` (`io/pipe_end.rs`), and by the
//! signal registry for its self-pipe. A
//! borrowed fd stays its owner's; the pipe's two fds are owned from the
//! line that creates them.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use super::cvt;

/// Sets `O_NONBLOCK` on any fd (`fcntl(2)`), leaving its other flags alone.
///
/// The flag belongs to the open file description, not to the fd: every
/// duplicate of it (`dup`, `fork`, a terminal shared with the parent shell)
/// becomes non-blocking too.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    set_nonblocking_raw(fd.as_raw_fd())
}

/// [`set_nonblocking`] for the fd of an `AsRawFd` value, which only
/// promises a number. The caller borrows the value across the call, so the
/// fd is open; were it not, `fcntl` would answer `EBADF`: no memory is at
/// stake, only which fd gets the flag.
pub(crate) fn set_nonblocking_raw(raw: RawFd) -> io::Result<()> {
    set_nonblocking_to(raw, true)
}

/// Sets (`true`) or clears (`false`) `O_NONBLOCK` on `raw`, leaving its
/// other flags alone; no `F_SETFL` when it already is as asked. See
/// [`set_nonblocking_raw`] for why a number is enough.
pub(crate) fn set_nonblocking_to(raw: RawFd, nonblocking: bool) -> io::Result<()> {
    // SAFETY: F_GETFL takes no pointer.
    let flags = cvt(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
    let wanted = if nonblocking {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if wanted != flags {
        // SAFETY: F_SETFL with an int argument.
        cvt(unsafe { libc::fcntl(raw, libc::F_SETFL, wanted) })?;
    }
    Ok(())
}

/// What an fd was opened for: its access mode (`O_ACCMODE` of `F_GETFL`).
#[cfg(feature = "net")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    pub(crate) read: bool,
    pub(crate) write: bool,
}

/// The access mode of `fd` (`fcntl(F_GETFL)`).
#[cfg(feature = "net")]
pub(crate) fn access(fd: BorrowedFd<'_>) -> io::Result<Access> {
    // SAFETY: F_GETFL takes no pointer; `fd` is borrowed, so open.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    Ok(match flags & libc::O_ACCMODE {
        libc::O_RDONLY => Access {
            read: true,
            write: false,
        },
        libc::O_WRONLY => Access {
            read: false,
            write: true,
        },
        _ => Access {
            read: true,
            write: true,
        },
    })
}

/// `O_NONBLOCK` and `O_RDWR`, for opening a FIFO with std's `OpenOptions`
/// (`custom_flags`), which names no `libc`.
#[cfg(feature = "net")]
pub(crate) const O_NONBLOCK: i32 = libc::O_NONBLOCK;

/// `read(2)` into the unfilled part of `buf`, which may be uninitialised:
/// no zeroing first. The bytes read become filled; `EINTR` is retried.
/// For the pipe ends of `net::unix::pipe` and `process`.
#[cfg(any(feature = "net", feature = "process"))]
pub(crate) fn read_buf(fd: BorrowedFd<'_>, buf: &mut crate::io::ReadBuf<'_>) -> io::Result<usize> {
    // SAFETY: nothing uninitialised is written through the slice: the
    // kernel only stores the bytes it reads into it.
    let unfilled = unsafe { buf.unfilled_mut() };
    // SAFETY: `unfilled` is valid for writes of its length; `read` writes
    // at most that many bytes; `fd` is borrowed, so open.
    let n = super::cvt_retry(|| unsafe {
        libc::read(fd.as_raw_fd(), unfilled.as_mut_ptr().cast(), unfilled.len())
    })? as usize;
    // SAFETY: `read` returned `n`: it initialised the first `n` bytes of
    // the unfilled region.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok(n)
}

/// A new anonymous pipe, `(read end, write end)`, both non-blocking and
/// close-on-exec from the call that creates them (`pipe2(2)`).
#[cfg(any(feature = "net", feature = "signal"))]
pub(crate) fn pipe() -> io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::{FromRawFd, OwnedFd};

    let mut fds = [-1 as RawFd; 2];
    // SAFETY: `fds` is a live array of two ints, as `pipe2` requires.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) })?;
    // SAFETY: `pipe2` succeeded, so both are fresh fds owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
