//! An eventfd (`eventfd(2)`): the doorbell other threads ring to wake the loop
//! out of `epoll_wait`.
//!
//! Owned by the runtime's `Shared` (`runtime/waker.rs`) and registered with
//! the reactor under `WAKE_TOKEN`. Written by remote wakers (from any
//! thread), read by the loop after epoll reports it readable. Non-blocking,
//! so a read of an empty counter is `WouldBlock` rather than a hang.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::cvt;

/// # Invariant
/// `fd` is an eventfd created with `EFD_CLOEXEC | EFD_NONBLOCK`.
pub(crate) struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    pub(crate) fn new() -> io::Result<EventFd> {
        // SAFETY: no pointers; valid flags.
        let raw = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        // SAFETY: `raw` is a fresh fd that nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(EventFd { fd })
    }

    /// Adds one to the counter, which makes the fd readable. A full counter
    /// (`EAGAIN`, after 2^64 - 2 unread rings) is already readable, so that
    /// error is as good as success and is ignored.
    pub(crate) fn ring(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64, as eventfd requires.
        let _ = unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Resets the counter to zero so the next ring is a new edge.
    pub(crate) fn drain(&self) {
        let mut buf: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64, as eventfd requires.
        let _ = unsafe { libc::read(self.fd.as_raw_fd(), (&mut buf as *mut u64).cast(), 8) };
    }
}

impl AsRawFd for EventFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
