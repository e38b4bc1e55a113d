//! `Registered<T>`: a value that owns a file descriptor, registered with the
//! reactor. The one type under every socket, `Async<T>`, and whatever else
//! ember drives on epoll.
//!
//! Called by `net` (each socket type is a thin type over a
//! `Registered<Socket>`), by `io::Async<T>` and by `signal`. Relies on the
//! reactor's [`Registration`] for readiness and waiters, and on the runtime
//! for the reactor to register with.
//!
//! Written once here, for every fd type:
//!
//! - **registration** in [`new`](Registered::new), with the current
//!   runtime's reactor;
//! - **the one `WouldBlock` loop** ([`poll_io`](Registered::poll_io) and its
//!   keyed twin): if the cached readiness says the direction may be ready,
//!   try the syscall; on `EAGAIN` clear that readiness (unless an event
//!   arrived since it was read) and go round, which now stores the waiter
//!   and returns `Pending`; anything else is the answer;
//! - **the runtime check**: a registered value that would wait outside the
//!   runtime that made it fails at once with an error that says why (see
//!   `Registration::check`), and so does every `try_*` call;
//! - **the cooperative budget**: each operation that goes ahead costs the
//!   task one unit (`runtime::coop`), so a task whose fds are always ready
//!   still yields;
//! - **deregistration in `Drop`**, explicitly before the value (and so its
//!   fd) is dropped: were the fd closed first, its number could be reused by
//!   a new source before the delete, which would then remove the wrong
//!   registration.
//!
//! # Two ways to wait
//! `poll_*` methods (the `AsyncRead`/`AsyncWrite` impls, `poll_read_ready`)
//! have nowhere to keep state between polls, so they wait in the source's
//! one `poll_*` slot per direction: the last task to poll is the one woken,
//! as in tokio. Futures (`readable()`, `accept()`, `recv_from()`...) wait
//! through [`ready`](Registered::ready) and [`async_io`](Registered::async_io),
//! each in its own keyed slot, so any number of them can wait on one
//! direction and all are woken.
//!
//! # Short reads and writes end the attempt
//! With edge triggering the kernel queues an event each time new data
//! arrives (or buffer space frees up), whatever the fd's state was. A read
//! that returns fewer bytes than asked for has emptied the receive queue at
//! that instant; anything arriving afterwards causes a new edge, which the
//! next `epoll_wait` reports. So after a short read the loop can treat the
//! socket as drained without the extra `read` that would only say `EAGAIN`:
//! that saves one syscall per message on a request/response connection. The
//! same holds for a short write and the send buffer. This is only sound for
//! byte streams; callers say so through the `drained` argument, and a
//! datagram read (short by nature) or an arbitrary fd passes `|_| false`.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{ready, Context, Poll};

use crate::reactor::{Direction, ReadyEvent, Registration, WaitKey};

/// A value owning an fd, registered with the reactor (see the module docs).
///
/// # Invariant
/// `io` is `Some` from `new` until `into_inner` or `drop`, which
/// deregister first; while it is `Some`, its fd is the one registered.
/// (An `Option` rather than `ManuallyDrop` keeps this file free of
/// `unsafe`; the check it costs is one compare per access, usually on an
/// fd's niche.)
pub(crate) struct Registered<T> {
    reg: Registration,
    io: Option<T>,
}

impl<T: AsRawFd> Registered<T> {
    /// Registers `io`'s fd with the current runtime's reactor. On error,
    /// `io` is dropped (and its fd closed).
    ///
    /// # Panics
    /// Outside an ember runtime, like every I/O constructor.
    #[track_caller]
    pub(crate) fn new(io: T) -> io::Result<Registered<T>> {
        let reactor = crate::runtime::current_reactor();
        let reg = Registration::new(reactor, io.as_raw_fd())?;
        Ok(Registered { reg, io: Some(io) })
    }
}

// `signal` alone uses only `poll_io`; the rest serves `net`.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
impl<T> Registered<T> {
    /// The value.
    #[inline]
    pub(crate) fn get_ref(&self) -> &T {
        match &self.io {
            Some(io) => io,
            None => gone(),
        }
    }

    /// The value, mutably. Its fd must stay the one registered.
    #[inline]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        match &mut self.io {
            Some(io) => io,
            None => gone(),
        }
    }

    /// Deregisters and gives the value back, its fd still open.
    pub(crate) fn into_inner(mut self) -> T {
        self.reg.deregister();
        match self.io.take() {
            Some(io) => io,
            None => gone(),
        }
    }

    /// `Ok` while the owning runtime runs (see `Registration::check`); for
    /// operations that neither wait nor go through the loop below.
    #[inline]
    pub(crate) fn check(&self) -> io::Result<()> {
        self.reg.check()
    }

    /// `Ready` once `dir` may be ready; else waits in the `poll_*` slot.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        self.reg.poll_ready(cx, dir, None).map_ok(|_| ())
    }

    /// `Ready` once `dir` may be ready, with the readiness seen, to clear
    /// if the syscall it licenses says `EAGAIN` (for loops that do not fit
    /// [`poll_io`](Self::poll_io), such as a connect's completion).
    #[inline]
    pub(crate) fn poll_ready_event(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.reg.poll_ready(cx, dir, None)
    }

    /// Forgets the readiness `event` licensed (its syscall said `EAGAIN`).
    #[inline]
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.reg.clear_readiness(event)
    }

    /// Waits until `dir` may be ready, in a keyed slot of its own, so
    /// that every future waiting on `dir` is woken.
    ///
    /// # Cancel safety
    /// Cancel safe: it consumes nothing.
    pub(crate) async fn ready(&self, dir: Direction) -> io::Result<()> {
        let mut wait = Wait::new(&self.reg);
        poll_fn(|cx| {
            self.reg
                .poll_ready(cx, dir, Some(&mut wait.key))
                .map_ok(|_| ())
        })
        .await
    }

    /// Waits until a direction of `interest` may be ready, each in a
    /// keyed slot of its own, and says what the socket is ready for (only
    /// the bits `interest` asked about, and errors).
    ///
    /// # Cancel safety
    /// Cancel safe: it consumes nothing.
    #[cfg(feature = "net")]
    pub(crate) async fn ready_for(
        &self,
        interest: crate::io::Interest,
    ) -> io::Result<crate::io::Ready> {
        let mut read = Wait::new(&self.reg);
        let mut write = Wait::new(&self.reg);
        poll_fn(|cx| {
            let mut any = false;
            if interest.is_readable() {
                let r = self
                    .reg
                    .poll_ready(cx, Direction::Read, Some(&mut read.key));
                any |= ready_or_err(r)?;
            }
            if interest.is_writable() {
                let w = self
                    .reg
                    .poll_ready(cx, Direction::Write, Some(&mut write.key));
                any |= ready_or_err(w)?;
            }
            if !any {
                return Poll::Pending;
            }
            let [r, w, rc, wc, e] = self.reg.readiness().parts();
            let ready = crate::io::Ready::from_parts(r, w, rc, wc, e);
            Poll::Ready(Ok(ready.intersection(interest)))
        })
        .await
    }

    /// Runs `f` (the user's own syscall on the fd) once, without waiting;
    /// if it says `WouldBlock`, clears the readiness of every direction in
    /// `interest` (unless an event arrived meanwhile), so that the next
    /// wait really waits. For the sockets' `try_io`.
    #[cfg(feature = "net")]
    pub(crate) fn try_io_interest<R>(
        &self,
        interest: crate::io::Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.reg.check()?;
        let seen = [
            (interest.is_readable(), self.reg.current(Direction::Read)),
            (interest.is_writable(), self.reg.current(Direction::Write)),
        ];
        let result = f();
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            for (asked, event) in seen {
                if asked {
                    self.reg.clear_readiness(event);
                }
            }
        }
        result
    }

    /// Waits for `interest` and runs `f`, until `f` answers something
    /// other than `WouldBlock`. For the sockets' `async_io`.
    ///
    /// # Cancel safety
    /// As cancel safe as `f`: it runs only when the fd may be ready.
    #[cfg(feature = "net")]
    pub(crate) async fn async_io_interest<R>(
        &self,
        interest: crate::io::Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            self.ready_for(interest).await?;
            match self.try_io_interest(interest, &mut f) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return other,
            }
        }
    }

    /// The loop: try `op` while `dir` is ready; on `WouldBlock` clear and
    /// wait in the `poll_*` slot. `drained` says, from a successful
    /// result, that the fd is known to be empty (reads) or full (writes),
    /// so readiness can be cleared without another syscall (see the module
    /// docs).
    // `#[inline]` on this and the registration's `poll_ready` and
    // `clear_readiness`: they are the hot path of every socket operation
    // (see `bench/optimisations.md`).
    #[inline(always)]
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        // The value is looked up only once readiness allows the syscall,
        // so a poll that waits pays nothing for it.
        poll_io(&self.reg, cx, dir, None, || op(self.get_ref()), drained)
    }

    /// [`poll_io`](Self::poll_io) with `&mut T`.
    #[inline]
    pub(crate) fn poll_io_mut<R>(
        &mut self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        let Registered { reg, io } = self;
        let io = match io {
            Some(io) => io,
            None => gone(),
        };
        poll_io(reg, cx, dir, None, || op(io), drained)
    }

    /// [`poll_io`](Self::poll_io) for an operation whose result says
    /// nothing about what is left (readiness is cleared by `WouldBlock`
    /// only), waiting in the `poll_*` slot (`key` is `None`) or in the
    /// keyed slot of a hand-written future, which gives its key back
    /// through [`forget`](Self::forget) when dropped.
    pub(crate) fn poll_io_with<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        key: Option<&mut WaitKey>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        poll_io(&self.reg, cx, dir, key, || op(io), |_| false)
    }

    /// Removes the keyed waiter of a dropped future.
    pub(crate) fn forget(&self, key: &mut WaitKey) {
        self.reg.forget(key)
    }

    /// Runs `op` until it answers something other than `WouldBlock`,
    /// waiting for `dir` in a keyed slot of its own between tries (so every
    /// future waiting on `dir` is woken). For operations whose result says
    /// nothing about what is left (`accept`, datagrams, `peek`, a
    /// user's closure), readiness is cleared only by `WouldBlock`.
    ///
    /// # Cancel safety
    /// As cancel safe as `op`: it runs only when it may complete, and a
    /// call that said `WouldBlock` did nothing.
    pub(crate) async fn async_io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut wait = Wait::new(&self.reg);
        let io = self.get_ref();
        poll_fn(|cx| {
            poll_io(
                &self.reg,
                cx,
                dir,
                Some(&mut wait.key),
                || op(io),
                |_| false,
            )
        })
        .await
    }

    /// [`async_io`](Self::async_io) with `&mut T`.
    pub(crate) async fn async_io_mut<R>(
        &mut self,
        dir: Direction,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let Registered { reg, io } = self;
        let io = match io {
            Some(io) => io,
            None => gone(),
        };
        let mut wait = Wait::new(reg);
        poll_fn(|cx| poll_io(wait.reg, cx, dir, Some(&mut wait.key), || op(io), |_| false)).await
    }

    /// Tries `op` once, without waiting: for `try_read`, `try_write` and
    /// friends. On `WouldBlock` the readiness is cleared, so a following
    /// `readable().await` really waits for a new edge.
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.reg.check()?;
        let seen = self.reg.current(dir);
        let result = op(self.get_ref());
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.reg.clear_readiness(seen);
        }
        result
    }
}

/// The loop itself; `op` makes the syscall on whatever borrow of the
/// value its caller holds.
#[inline(always)]
fn poll_io<R>(
    reg: &Registration,
    cx: &mut Context<'_>,
    dir: Direction,
    mut key: Option<&mut WaitKey>,
    mut op: impl FnMut() -> io::Result<R>,
    drained: impl Fn(&R) -> bool,
) -> Poll<io::Result<R>> {
    loop {
        let event = ready!(reg.poll_ready(cx, dir, key.as_deref_mut()))?;
        // Ready: the operation is about to complete, so it costs the task
        // one unit of its cooperative budget (once spent, the task yields).
        ready!(crate::runtime::coop::poll_proceed(cx));
        match op() {
            Ok(r) => {
                if drained(&r) {
                    reg.clear_readiness(event);
                }
                return Poll::Ready(Ok(r));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => reg.clear_readiness(event),
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// `Ok(true)` if a `poll_ready` was ready, `Ok(false)` if it waits.
#[cfg(feature = "net")]
fn ready_or_err<T>(poll: Poll<io::Result<T>>) -> io::Result<bool> {
    match poll {
        Poll::Ready(Ok(_)) => Ok(true),
        Poll::Ready(Err(e)) => Err(e),
        Poll::Pending => Ok(false),
    }
}

/// The value was taken by `into_inner`, which consumes the `Registered`:
/// unreachable, kept out of line.
#[cold]
#[inline(never)]
fn gone() -> ! {
    unreachable!("a `Registered` value is used after `into_inner`")
}

/// A future's keyed waiter, removed when the future is dropped.
#[cfg_attr(not(feature = "net"), allow(dead_code))]
struct Wait<'a> {
    reg: &'a Registration,
    key: WaitKey,
}

#[cfg_attr(not(feature = "net"), allow(dead_code))]
impl<'a> Wait<'a> {
    fn new(reg: &'a Registration) -> Wait<'a> {
        Wait {
            reg,
            key: WaitKey::default(),
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        self.reg.forget(&mut self.key);
    }
}

impl<T> Drop for Registered<T> {
    fn drop(&mut self) {
        // Leave epoll while the fd is open; the value (and fd) drops after.
        self.reg.deregister();
    }
}

impl<T: AsRawFd> AsRawFd for Registered<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: fmt::Debug> fmt::Debug for Registered<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Registered").field(&self.io).finish()
    }
}
