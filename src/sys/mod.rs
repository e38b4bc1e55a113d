//! The operating system, and nothing else: thin, safe wrappers around the
//! Linux calls ember makes.
//!
//! Called by the reactor (`epoll`), the runtime (`eventfd`, `thread`),
//! `net` (`socket`, `fd`), `io::Async` (`fd`), `signal` (`signal`) and
//! `process` (`process`, `fd`). This is
//! the only module that names `libc`, and, with `runtime/task.rs`, the
//! only one that holds `unsafe` (`docs/unsafe.md` lists every site).
//! Everything above it sees owned file descriptors
//! ([`OwnedFd`](std::os::fd::OwnedFd)) and `io::Result`s.
//!
//! | file | wraps |
//! | --- | --- |
//! | `epoll.rs` | `epoll_create1(2)`, `epoll_ctl(2)`, `epoll_wait(2)`, `epoll_pwait2(2)` |
//! | `eventfd.rs` | `eventfd(2)`: the remote-wake bell |
//! | `socket.rs` | `socket(2)` and the calls on a socket (`bind`, `accept4`, `connect`, `recv`, `send`, ...) |
//! | `sockopt.rs` | `setsockopt(2)`/`getsockopt(2)`: every socket option ember offers, and `SO_PEERCRED` |
//! | `addr.rs` | `ip(7)` addresses: `sockaddr_in`/`sockaddr_in6`, and `RawAddr` |
//! | `unix_addr.rs` | `unix(7)` addresses: `sockaddr_un` |
//! | `fd.rs` | `fcntl(2)`: `O_NONBLOCK` and the access mode of any fd; `pipe2(2)` |
//! | `process.rs` | `pidfd_open(2)`: an fd readable when a child exits |
//! | `signal.rs` | `sigaction(2)`, the signal handler, `pipe2(2)` for its self-pipe |
//! | `thread.rs` | `prctl(2)`: the loop thread's timer slack; `sched_setaffinity(2)`: pinning a thread to a CPU |
//! | `clock.rs` | `clock_gettime(2)`: the monotonic clock, in nanoseconds |
//!
//! `socket.rs`, `sockopt.rs`, `addr.rs` and `unix_addr.rs` are compiled
//! with the `net` feature, `fd.rs` with `net` or `process`, `signal.rs`
//! with `signal`, `process.rs` with `process`; the rest always.
//!
//! Three rules hold throughout:
//!
//! - every fd is an `OwnedFd` from the line that creates it, and is created
//!   with close-on-exec (and non-blocking, where that applies);
//! - a `-1` return becomes an `io::Error` in exactly one place, [`cvt`];
//! - `EINTR` never leaves this module. [`cvt_retry`] retries the calls a
//!   signal may interrupt; the two where a retry would be wrong turn it into
//!   what it means instead: an interrupted `epoll_wait` reports no events
//!   (the loop goes round and computes a fresh timeout), and an interrupted
//!   TCP `connect` goes on in the background, as `EINPROGRESS`.
//!
//! `WouldBlock` is passed up unchanged: the registered-fd type's "try the
//! syscall, else wait for readiness" loop (`io/registered.rs`) is the one
//! place that handles it.

#[cfg(feature = "net")]
mod addr;
pub(crate) mod clock;
pub(crate) mod epoll;
pub(crate) mod eventfd;
#[cfg(any(feature = "net", feature = "process", feature = "signal"))]
pub(crate) mod fd;
#[cfg(feature = "process")]
pub(crate) mod process;
#[cfg(feature = "signal")]
pub(crate) mod signal;
#[cfg(feature = "net")]
pub(crate) mod socket;
#[cfg(feature = "net")]
pub(crate) mod sockopt;
pub(crate) mod thread;
#[cfg(feature = "net")]
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
/// Used for the calls a signal may interrupt (`accept4`, the `connect` of a
/// Unix or UDP socket, reads and writes). A signal handler that runs in the
/// middle of one of them must not surface as an error to the user.
/// (`epoll_wait` and a TCP `connect` handle `EINTR` themselves; see the
/// module docs.)
#[cfg(any(feature = "net", feature = "signal"))]
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
