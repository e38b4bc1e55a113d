//! The operating system, and nothing else: thin, safe wrappers around the
//! Linux calls ember makes.
//!
//! This is the only module that names `libc`. Everything above it sees owned
//! file descriptors ([`OwnedFd`](std::os::fd::OwnedFd)) and `io::Result`s.
//! Three rules hold throughout:
//!
//! - every fd is an `OwnedFd` from the line that creates it, and is created
//!   with close-on-exec (and non-blocking, where that applies);
//! - a `-1` return becomes an `io::Error` in exactly one place, [`cvt`];
//! - `EINTR` is retried in exactly one place, [`cvt_retry`], for the calls
//!   that may be interrupted; nothing above this module ever sees it.
//!
//! `WouldBlock` is passed up unchanged: the registration's "try the syscall,
//! else wait for readiness" loop (`reactor::registration`) is the one place
//! that handles it.

mod addr;
pub(crate) mod epoll;
pub(crate) mod eventfd;
pub(crate) mod fd;
pub(crate) mod signal;
pub(crate) mod socket;
pub(crate) mod thread;
mod unix_addr;

use std::io;

/// Turns a C return value into an `io::Result`: `-1` means "look at `errno`".
pub(crate) fn cvt<T: IsMinusOne>(ret: T) -> io::Result<T> {
    if ret.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Runs `f` until it returns something other than `EINTR`.
///
/// Used for the calls a signal may interrupt (`epoll_wait`, `accept4`,
/// `connect`, reads and writes). A signal handler that runs in the middle of
/// one of them must not surface as an error to the user.
pub(crate) fn cvt_retry<T: IsMinusOne>(mut f: impl FnMut() -> T) -> io::Result<T> {
    loop {
        match cvt(f()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// The integer types C calls return.
pub(crate) trait IsMinusOne: Copy {
    fn is_minus_one(self) -> bool;
}

macro_rules! impl_is_minus_one {
    ($($t:ty)*) => { $(impl IsMinusOne for $t {
        fn is_minus_one(self) -> bool { self == -1 }
    })* };
}
impl_is_minus_one! { i32 isize i64 }
