//! A registration: one file descriptor's membership in the reactor, its
//! cached readiness and its waiters.
//!
//! Owned by the registered-fd type (`io/registered.rs`), which runs the
//! "try the syscall, else wait" loop on top of it and deregisters in its
//! own `Drop`, before the fd closes. Relies on the reactor to set readiness
//! and to wake the waiters stored here.
//!
//! What a registration offers:
//!
//! - [`poll_ready`](Registration::poll_ready): is `dir` ready? If not,
//!   remember who waits (in the `poll_*` slot, or in the keyed slot of a
//!   future's [`WaitKey`]) and return `Pending`;
//! - [`clear_readiness`](Registration::clear_readiness): a syscall said
//!   `EAGAIN`, forget the readiness it was licensed by (unless an event came
//!   since: see the tick in `readiness.rs`);
//! - [`check`](Registration::check): is the owning runtime running?

use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::readiness::{Direction, Ready};
use super::waiters::WaitKey;
use super::{Life, Reactor, ScheduledIo};

/// One fd registered with the reactor.
///
/// # Invariant
/// While `live`, the reactor's slab holds this source under `slot` and
/// epoll watches `fd`, which the owner keeps open.
pub(crate) struct Registration {
    io: Rc<ScheduledIo>,
    reactor: Rc<Reactor>,
    slot: usize,
    fd: RawFd,
    live: bool,
}

/// Readiness observed by [`Registration::poll_ready`], to be cleared if the
/// syscall it licensed answers `EAGAIN`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    tick: u32,
    dir: Direction,
}

impl Registration {
    /// Registers `fd` with `reactor`.
    pub(crate) fn new(reactor: Rc<Reactor>, fd: RawFd) -> io::Result<Registration> {
        let (slot, io) = reactor.register(fd)?;
        Ok(Registration {
            io,
            reactor,
            slot,
            fd,
            live: true,
        })
    }

    /// `Ok` while the runtime that made this registration is running;
    /// otherwise an error that names the cause and the fix.
    #[inline]
    pub(crate) fn check(&self) -> io::Result<()> {
        match self.reactor.life.get() {
            Life::Running => Ok(()),
            life => Err(not_running(life)),
        }
    }

    /// `Ready` if `dir` may be ready now, else stores the polling task (or
    /// its waker) for `dir` and returns `Pending`: in the `poll_*` slot
    /// when `key` is `None`, else in the future's own keyed slot. A poll
    /// that would wait while the owning runtime is not running is an error
    /// instead (nobody would collect the event). The ready path needs no
    /// such check: outside a running runtime no source looks ready (see
    /// [`Reactor::set_life`](super::Reactor::set_life)).
    // Always inlined, with the rare branches (a keyed or foreign waiter)
    // out of line: this is on every socket operation (see
    // `bench/optimisations.md`).
    #[inline(always)]
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        key: Option<&mut WaitKey>,
    ) -> Poll<io::Result<ReadyEvent>> {
        let state = self.io.state.get();
        if state.ready().intersects(Ready::satisfies(dir)) {
            return Poll::Ready(Ok(ReadyEvent {
                tick: state.tick(),
                dir,
            }));
        }
        self.check()?;
        let waker = cx.waker();
        match (key, self.reactor.own_task(waker)) {
            (None, Some(task)) => self.io.waiters.set_task(dir, task),
            (key, own) => self.wait_slow(key, dir, waker, own),
        }
        Poll::Pending
    }

    /// Stores a keyed waiter, or a waker that is not the polled task's.
    #[inline(never)]
    fn wait_slow(
        &self,
        key: Option<&mut WaitKey>,
        dir: Direction,
        waker: &std::task::Waker,
        own: Option<super::TaskRef>,
    ) {
        match key {
            None => self.io.waiters.set(dir, waker, own),
            Some(key) => self.io.waiters.set_keyed(key, dir, waker, own),
        }
    }

    /// Forgets the readiness `event` licensed, unless a newer event arrived.
    #[inline]
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let state = self.io.state.get();
        self.io
            .state
            .set(state.cleared(Ready::cleared_by(event.dir), event.tick));
    }

    /// The readiness as it stands, for a syscall tried without waiting: if
    /// it answers `EAGAIN`, [`clear_readiness`](Self::clear_readiness)
    /// with this.
    #[inline]
    pub(crate) fn current(&self, dir: Direction) -> ReadyEvent {
        ReadyEvent {
            tick: self.io.state.get().tick(),
            dir,
        }
    }

    /// The readiness bits as they stand (for `ready(Interest)`'s answer).
    #[cfg(feature = "net")]
    pub(crate) fn readiness(&self) -> Ready {
        self.io.state.get().ready()
    }

    /// Removes a future's keyed waiter: called when the future is dropped.
    pub(crate) fn forget(&self, key: &mut WaitKey) {
        self.io.waiters.forget(key);
    }

    /// Leaves epoll and the reactor's slab, and drops every waiter. Must
    /// run while the fd is still open (a closed fd number may already name
    /// another source). Idempotent.
    pub(crate) fn deregister(&mut self) {
        if !self.live {
            return;
        }
        self.live = false;
        self.reactor.deregister(self.slot, self.fd);
        // Dropped after every borrow: they may hold foreign wakers.
        drop(self.io.waiters.clear());
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // The owner deregisters first (see the invariant); this is only a
        // backstop, for an owner that failed between the two steps.
        self.deregister();
    }
}

#[cold]
#[inline(never)]
fn not_running(life: Life) -> io::Error {
    let msg = match life {
        Life::Closed => {
            "this I/O object belongs to an ember runtime that has been dropped: an I/O \
             object works only inside the runtime that created it, so create it inside \
             the `block_on` that uses it (or keep one `Runtime` and call its `block_on`)"
        }
        _ => {
            "this I/O object belongs to an ember runtime that is not running: an I/O \
             object works only inside the `block_on` of the runtime that created it, \
             so use it there (or create it on the runtime that polls it)"
        }
    };
    io::Error::other(msg)
}
