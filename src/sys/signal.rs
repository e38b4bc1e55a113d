//! Signal dispositions (`sigaction(2)`), the process-wide handler, and the
//! self-pipe that carries deliveries to the loop (`pipe2(2)`, `read(2)`,
//! `write(2)`; see `signal-safety(7)` for what a handler may call).
//!
//! Called by `crate::signal`, which decides when to catch a signal and when
//! to give the disposition back. This file owns the only code that runs
//! inside a signal handler, [`on_signal`], and keeps it to what is
//! async-signal-safe: it bumps a per-signal atomic counter and writes one
//! byte to the pipe, saving and restoring `errno` around the `write`.
//!
//! # Invariant
//! [`BELL`] is `-1` or the write end of a non-blocking, close-on-exec pipe
//! that is never closed (its `OwnedFd` was leaked on purpose by
//! [`set_bell`]). So the handler, which may run at any instant on any
//! thread, can never write to a closed or reused fd.

use std::io;
use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use super::{cvt, cvt_retry};

/// The highest signal number on Linux (`SIGRTMAX`, `_NSIG - 1`).
pub(crate) const MAX_SIGNAL: i32 = 64;

/// `SIGINT`, for `ctrl_c` (the rest of ember does not name `libc`).
pub(crate) const SIGINT: i32 = libc::SIGINT;

/// The numbers behind `signal::unix::SignalKind`'s constructors.
pub(crate) mod numbers {
    pub(crate) const SIGALRM: i32 = libc::SIGALRM;
    pub(crate) const SIGCHLD: i32 = libc::SIGCHLD;
    pub(crate) const SIGHUP: i32 = libc::SIGHUP;
    pub(crate) const SIGINT: i32 = libc::SIGINT;
    pub(crate) const SIGIO: i32 = libc::SIGIO;
    pub(crate) const SIGPIPE: i32 = libc::SIGPIPE;
    pub(crate) const SIGQUIT: i32 = libc::SIGQUIT;
    pub(crate) const SIGTERM: i32 = libc::SIGTERM;
    pub(crate) const SIGUSR1: i32 = libc::SIGUSR1;
    pub(crate) const SIGUSR2: i32 = libc::SIGUSR2;
    pub(crate) const SIGWINCH: i32 = libc::SIGWINCH;
}

/// How many times each signal has been delivered to the handler, by number.
/// Only ever incremented (wrapping), so a listener that remembers the value
/// it last saw knows whether a delivery happened since.
static DELIVERIES: [AtomicUsize; MAX_SIGNAL as usize + 1] =
    [const { AtomicUsize::new(0) }; MAX_SIGNAL as usize + 1];

/// The pipe's write end, or `-1` before the first listener (see the module's
/// invariant).
static BELL: AtomicI32 = AtomicI32::new(-1);

/// The handler installed for every signal ember listens to.
///
/// Async-signal-safe: an atomic add (lock-free on every Linux target, being
/// `usize`), an atomic load, and `write(2)`, which `signal-safety(7)` lists.
/// It allocates nothing, takes no lock and cannot panic. A full pipe
/// (`EAGAIN`) is fine: a full pipe is readable, so the loop will look.
extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: `__errno_location` returns a pointer to this thread's `errno`,
    // valid for the thread's life. Saved because `write` may overwrite it
    // and the interrupted code may be about to read it.
    let saved_errno = unsafe { *libc::__errno_location() };
    if let Some(count) = usize::try_from(sig).ok().and_then(|i| DELIVERIES.get(i)) {
        count.fetch_add(1, Ordering::SeqCst);
    }
    let fd = BELL.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: writes one byte from a live local to `fd`, which by the
        // module's invariant is an open pipe that is never closed.
        let _ = unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    // SAFETY: as above; restores what the interrupted code had.
    unsafe { *libc::__errno_location() = saved_errno };
}

/// How many times `sig` has been delivered since the process started (as
/// seen by ember's handler; wraps around).
pub(crate) fn deliveries(sig: i32) -> usize {
    usize::try_from(sig)
        .ok()
        .and_then(|i| DELIVERIES.get(i))
        .map_or(0, |c| c.load(Ordering::SeqCst))
}

/// Whether ember may install a handler for `sig`.
///
/// `SIGKILL` and `SIGSTOP` cannot be caught. `SIGSEGV`, `SIGBUS`, `SIGFPE`
/// and `SIGILL` report a fault in the running code: a handler that returns
/// makes the faulting instruction run again, forever. (signal-hook forbids
/// the same set.)
pub(crate) fn is_catchable(sig: i32) -> bool {
    (1..=MAX_SIGNAL).contains(&sig)
        && ![
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGFPE,
            libc::SIGILL,
        ]
        .contains(&sig)
}

/// Makes `write_end` the pipe the handler rings, for the rest of the
/// process's life: the fd is leaked, never closed (see the module's
/// invariant). Called once, before the first handler is installed; a second
/// call is refused and its fd closed.
pub(crate) fn set_bell(write_end: OwnedFd) -> bool {
    let raw = write_end.as_raw_fd();
    if BELL
        .compare_exchange(-1, raw, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return false;
    }
    let _ = write_end.into_raw_fd();
    true
}

/// Reads from the pipe's read end into `buf`. `WouldBlock` once it is
/// empty; `EINTR` is retried.
pub(crate) fn read(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    let n = cvt_retry(|| {
        // SAFETY: `buf` is exclusively borrowed and valid for `buf.len()`
        // bytes; `fd` is open for the whole call.
        unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }
    })?;
    Ok(n as usize)
}

/// A signal's disposition as `sigaction` reports it, saved to be given back.
pub(crate) struct Disposition(libc::sigaction);

/// Installs [`on_signal`] for `sig` and returns the disposition it
/// replaces. Flags: `SA_RESTART` (other threads' blocking calls resume
/// rather than fail with `EINTR`); no signal is blocked while it runs (it is
/// reentrant). The signal mask of every thread is left as it is.
pub(crate) fn catch(sig: i32) -> io::Result<Disposition> {
    // SAFETY: an all-zero `sigaction` is plain data and a valid value.
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    new.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a live, exclusively borrowed `sigset_t`.
    cvt(unsafe { libc::sigemptyset(&mut new.sa_mask) })?;
    // SAFETY: as above.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `new` is a live, initialised `sigaction`, read by the kernel;
    // `old` is a live out-buffer of the right type.
    cvt(unsafe { libc::sigaction(sig, &new, &mut old) })?;
    Ok(Disposition(old))
}

/// Gives `sig` back its saved disposition.
pub(crate) fn restore(sig: i32, saved: &Disposition) -> io::Result<()> {
    // SAFETY: `saved.0` is a `sigaction` the kernel filled in, alive across
    // the call; a null `oldact` asks for nothing back.
    cvt(unsafe { libc::sigaction(sig, &saved.0, std::ptr::null_mut()) })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_and_uncatchable_signals_are_refused() {
        for sig in [0, -1, 65, libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
            assert!(!is_catchable(sig), "{sig}");
        }
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1, libc::SIGRTMIN()] {
            assert!(is_catchable(sig), "{sig}");
        }
    }

    #[test]
    fn a_signal_never_delivered_counts_zero() {
        assert_eq!(deliveries(0), 0);
        assert_eq!(deliveries(1000), 0);
    }
}
