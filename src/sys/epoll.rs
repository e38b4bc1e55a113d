//! The epoll instance: `epoll_create1(2)`, `epoll_ctl(2)`, `epoll_wait(2)` and
//! `epoll_pwait2(2)`.
//!
//! Called by the reactor, which owns exactly one [`Epoll`] per runtime.
//! Readiness is always requested edge-triggered for both directions (see
//! [`INTEREST`]), so a source is registered once and never modified: there is
//! no `epoll_ctl` on the hot path.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::cvt;

/// What every source is registered for: both directions, peer half-close,
/// edge-triggered. Errors (`EPOLLERR`) and hang-ups (`EPOLLHUP`) are always
/// reported by the kernel, asked for or not.
pub(crate) const INTEREST: u32 =
    (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

/// Readiness bits as the kernel reports them, named for the reactor.
pub(crate) mod flags {
    pub(crate) const IN: u32 = libc::EPOLLIN as u32;
    pub(crate) const OUT: u32 = libc::EPOLLOUT as u32;
    pub(crate) const RDHUP: u32 = libc::EPOLLRDHUP as u32;
    pub(crate) const HUP: u32 = libc::EPOLLHUP as u32;
    pub(crate) const ERR: u32 = libc::EPOLLERR as u32;
    pub(crate) const PRI: u32 = libc::EPOLLPRI as u32;
}

/// An epoll instance.
///
/// # Invariant
/// `fd` is an epoll fd created with `EPOLL_CLOEXEC`, owned by this value.
pub(crate) struct Epoll {
    fd: OwnedFd,
}

/// The buffer `epoll_wait` fills: one entry per ready source.
pub(crate) struct Events {
    list: Vec<libc::epoll_event>,
}

/// Whether this kernel has `epoll_pwait2` (Linux 5.11). Starts optimistic;
/// the first `ENOSYS` turns it off for the life of the process.
static HAVE_PWAIT2: AtomicBool = AtomicBool::new(true);

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: `epoll_create1` takes no pointers; the flag is valid.
        let raw = cvt(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: `raw` was just returned by the kernel as a new fd, owned by
        // nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Epoll { fd })
    }

    /// Adds `fd` with [`INTEREST`]; `token` comes back with every event.
    pub(crate) fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, INTEREST)
    }

    /// Adds `fd` for readability only, edge-triggered: for the eventfd
    /// bell, which is always writable and would otherwise report that.
    pub(crate) fn add_readable(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let interest = (libc::EPOLLIN | libc::EPOLLET) as u32;
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, interest)
    }

    /// Removes `fd`. Closing an fd removes it too, but only once every
    /// duplicate of it is closed, so the reactor always removes explicitly.
    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        // SAFETY: for EPOLL_CTL_DEL the event pointer may be null (since 2.6.9).
        cvt(unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            )
        })?;
        Ok(())
    }

    fn ctl(&self, op: i32, fd: RawFd, token: u64, interest: u32) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: interest,
            u64: token,
        };
        // SAFETY: `event` is a valid, initialised epoll_event that lives for
        // the duration of the call; the kernel copies it.
        cvt(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut event) })?;
        Ok(())
    }

    /// Waits for events, at most `timeout` (`None`: forever), and fills
    /// `events`. `EINTR` counts as "no events": the caller's loop simply runs
    /// again, so a signal never ends a wait with an error.
    ///
    /// With `epoll_pwait2` the timeout is honoured to the nanosecond; on older
    /// kernels it is rounded *up* to whole milliseconds, so a timer is late
    /// by less than a millisecond but never early.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.list.clear();
        let cap = events.list.capacity() as i32;
        let ptr = events.list.as_mut_ptr();
        let n = match timeout {
            // Zero and infinite waits need no precision: use the plain call.
            Some(t) if !t.is_zero() && HAVE_PWAIT2.load(Ordering::Relaxed) => {
                match self.pwait2(ptr, cap, t) {
                    Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                        HAVE_PWAIT2.store(false, Ordering::Relaxed);
                        self.wait_ms(ptr, cap, Some(t))
                    }
                    other => other,
                }
            }
            t => self.wait_ms(ptr, cap, t),
        };
        let n = match n {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        // SAFETY: the kernel initialised the first `n` entries, and
        // `n <= cap == capacity`.
        unsafe { events.list.set_len(n as usize) };
        Ok(())
    }

    fn wait_ms(
        &self,
        ptr: *mut libc::epoll_event,
        cap: i32,
        timeout: Option<Duration>,
    ) -> io::Result<i32> {
        let ms = match timeout {
            None => -1,
            Some(t) => {
                // Round up: a timer must never fire early.
                let ms = t.as_nanos().div_ceil(1_000_000);
                ms.min(i32::MAX as u128) as i32
            }
        };
        // SAFETY: `ptr` points to a buffer of `cap` epoll_events owned by the
        // caller's `Events`, valid for writes for the duration of the call.
        cvt(unsafe { libc::epoll_wait(self.fd.as_raw_fd(), ptr, cap, ms) })
    }

    fn pwait2(&self, ptr: *mut libc::epoll_event, cap: i32, t: Duration) -> io::Result<i32> {
        // Clamp to what a timespec holds comfortably (about 31 years).
        let secs = t.as_secs().min(1 << 30);
        let ts = libc::timespec {
            tv_sec: secs as libc::time_t,
            tv_nsec: t.subsec_nanos() as _,
        };
        // SAFETY: `ptr` is valid for `cap` entries (see `wait_ms`); `ts` is a
        // valid timespec living across the call; a null sigmask means "leave
        // the mask alone". The raw syscall is used because not every libc
        // exports a wrapper.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                self.fd.as_raw_fd(),
                ptr,
                cap,
                &ts as *const libc::timespec,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            )
        };
        cvt(ret).map(|n| n as i32)
    }
}

impl Events {
    pub(crate) fn with_capacity(cap: usize) -> Events {
        Events {
            list: Vec::with_capacity(cap.max(1)),
        }
    }

    /// The events of the last wait, as `(token, readiness flags)`.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.list.iter().map(|e| (e.u64, e.events))
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}
