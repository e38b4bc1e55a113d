//! Child processes: `pidfd_open(2)`, an fd that becomes readable when a
//! child exits, and the one signal number `process` names (`SIGCHLD`).
//!
//! Called by `process/wait.rs`, which registers the pidfd with the reactor
//! and reaps the child with std's `Child::try_wait` (`waitpid(2)` with
//! `WNOHANG`) once it is readable. Reaping stays with std so that the
//! status is cached where `std::process::Child` keeps it, and no pid is
//! ever waited for twice.
//!
//! # Invariant
//! A pidfd is opened only for a child that has not been reaped (its owner
//! holds the unreaped `std::process::Child`), so the pid cannot have been
//! reused by another process: a zombie keeps its pid.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use super::cvt;

/// `SIGCHLD`, for the fallback where `pidfd_open` is missing.
pub(crate) const SIGCHLD: i32 = libc::SIGCHLD;

/// A pidfd for the child `pid` (Linux 5.3+), close-on-exec (the kernel
/// always sets it on a pidfd). `Unsupported` (`ENOSYS`) on older kernels;
/// `PermissionDenied` where a seccomp filter forbids the call.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
    let flags: libc::c_uint = 0;
    // SAFETY: `pidfd_open(pid, flags)` takes two integers and no pointer.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags) })?;
    // SAFETY: the call succeeded, so `fd` is a fresh fd owned by nobody else
    // (an int returned as a `long`).
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}
