//! A registration: one file descriptor's membership in the reactor, and the
//! one loop in ember that handles `WouldBlock`.
//!
//! Owned by every I/O type (`TcpStream`, `TcpListener`, ...), which must drop
//! its `Registration` *before* it closes the fd (declare the registration
//! field first). Relies on the reactor to set readiness and wake.
//!
//! # The pattern
//! Every socket operation goes through [`Registration::poll_io`]:
//!
//! 1. if the cached readiness says the direction may be ready, try the
//!    syscall;
//! 2. on `EAGAIN` clear that readiness (unless an event arrived since it was
//!    read: see the tick in `readiness.rs`) and go to 1, which now stores the
//!    task's waker and returns `Pending`;
//! 3. on anything else, return it.
//!
//! # Short reads and writes end the attempt
//! With edge triggering the kernel queues an event each time new data
//! arrives (or buffer space frees up), whatever the fd's state was. A read
//! that returns fewer bytes than asked for has emptied the receive queue at
//! that instant; anything arriving afterwards causes a new edge, which the
//! next `epoll_wait` reports. So after a short read the reactor can treat the
//! socket as drained without the extra `read` that would only say `EAGAIN`:
//! that saves one syscall per message on a request/response connection. The
//! same holds for a short write and the send buffer. This is only sound for
//! byte streams; a datagram read is short by nature and must not use it.

use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use super::readiness::{Direction, Ready};
use super::{Reactor, ScheduledIo};

/// One fd registered with the reactor.
pub(crate) struct Registration {
    io: Rc<ScheduledIo>,
    reactor: Rc<Reactor>,
    slot: usize,
    fd: RawFd,
}

/// Readiness observed by [`Registration::poll_ready`], to be cleared if the
/// syscall it licensed answers `EAGAIN`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    tick: u32,
    dir: Direction,
}

impl Registration {
    /// Registers `fd` with the current runtime's reactor.
    ///
    /// # Panics
    /// Outside an ember runtime, like every I/O constructor.
    pub(crate) fn new(fd: RawFd) -> io::Result<Registration> {
        let reactor = crate::runtime::current_reactor();
        let (slot, io) = reactor.register(fd)?;
        Ok(Registration {
            io,
            reactor,
            slot,
            fd,
        })
    }

    /// `Ready` if `dir` may be ready now, else stores the task's waker for
    /// `dir` and returns `Pending`. Also charges the task's budget: a task
    /// that has done [`BUDGET`](super::BUDGET) operations in this poll gets
    /// `Pending` (and is woken at once), so it yields to the others.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        let state = self.io.state.get();
        if state.ready().intersects(Ready::satisfies(dir)) {
            if !self.reactor.consume_budget() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            return Poll::Ready(ReadyEvent {
                tick: state.tick(),
                dir,
            });
        }
        let slot = match dir {
            Direction::Read => &self.io.reader,
            Direction::Write => &self.io.writer,
        };
        self.reactor.wait_on(slot, cx.waker());
        Poll::Pending
    }

    /// Forgets the readiness `event` licensed, unless a newer event arrived.
    #[inline]
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let state = self.io.state.get();
        self.io
            .state
            .set(state.cleared(Ready::cleared_by(event.dir), event.tick));
    }

    /// The loop: try `op` while `dir` is ready; on `WouldBlock` clear and
    /// wait. `drained` says, from a successful result, that the fd is known
    /// to be empty (reads) or full (writes), so readiness can be cleared
    /// without another syscall (see the module docs).
    // `#[inline]` on this and `poll_ready`/`clear_readiness`: measured with
    // callgrind on the echo bench at 64 connections, 731 -> 626 user-space
    // instructions per round trip (`docs/benchmarks.md`). Inlining the
    // callers too (`poll_read_priv`, `Core::push`) made it worse (667).
    #[inline]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = ready!(self.poll_ready(cx, dir));
            match op() {
                Ok(r) => {
                    if drained(&r) {
                        self.clear_readiness(event);
                    }
                    return Poll::Ready(Ok(r));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Tries `op` once, without waiting: for `try_read`, `try_write`,
    /// `read_with` and friends. On `WouldBlock` the readiness is cleared, so
    /// a following `readable().await` really waits for a new edge.
    #[cfg(feature = "net")]
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let tick = self.io.state.get().tick();
        let result = op();
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.clear_readiness(ReadyEvent { tick, dir });
        }
        result
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.reactor.deregister(self.slot, self.fd);
    }
}
