//! Any file descriptor: file status flags (`fcntl(2)` with `F_GETFL` and
//! `F_SETFL`).
//!
//! Called by `sys::socket` (sockets taken from std or other crates) and by
//! `io::Async` (pipes, eventfds, ttys, anything with an fd). The fd is only
//! borrowed; its owner decides when it closes.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use super::cvt;

/// Sets `O_NONBLOCK` on any fd (`fcntl(2)`), leaving its other flags alone.
///
/// The flag belongs to the open file description, not to the fd: every
/// duplicate of it (`dup`, `fork`, a terminal shared with the parent shell)
/// becomes non-blocking too.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    set_nonblocking_raw(fd.as_raw_fd())
}

/// [`set_nonblocking`] for the fd of an `AsRawFd` value, which only
/// promises a number. The caller borrows the value across the call, so the
/// fd is open; were it not, `fcntl` would answer `EBADF`: no memory is at
/// stake, only which fd gets the flag.
pub(crate) fn set_nonblocking_raw(raw: RawFd) -> io::Result<()> {
    // SAFETY: F_GETFL takes no pointer.
    let flags = cvt(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: F_SETFL with an int argument.
        cvt(unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    }
    Ok(())
}
