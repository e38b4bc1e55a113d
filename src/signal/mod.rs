//! Unix signals as async values: [`ctrl_c`], [`Signals`] (a `Stream` of
//! signal numbers) and, with tokio's names, [`unix::signal`] and
//! [`unix::SignalKind`] (`unix.rs`, a thin layer over `Signals`).
//!
//! Needs the `signal` feature (in the default `full`).
//!
//! Called by user code. Relies on `sys/signal.rs` (the handler, its
//! counters, the self-pipe, `sigaction`) and on the reactor's
//! `Registration` to wait for the pipe.
//!
//! # Design
//! A signal is a process-wide event that the kernel hands to *any* thread
//! that does not block it. ember cannot block signals in threads it does not
//! own (the user's, a library's), so it cannot use `signalfd`, which only
//! sees signals that every thread blocks: any other thread would take the
//! default action (for `SIGTERM`, death). Instead ember installs a
//! process-wide handler with `sigaction`, and the handler does the two
//! things that are async-signal-safe and enough (`sys/signal.rs`):
//!
//! 1. it adds one to the signal's **delivery counter** (a static atomic);
//! 2. it writes one byte to a **self-pipe**, a doorbell created once per
//!    process and never closed.
//!
//! The counters are the truth; the pipe only says "look". Each [`Signals`]
//! remembers, per signal, the counter value it last reported; any difference
//! is a delivery it has not yet reported. So no delivery is ever lost between
//! two polls, and any number of listeners, in any number of runtimes, each
//! see every delivery (deliveries of one signal that arrive between two polls
//! merge into one, as pending Unix signals always do).
//!
//! Every `Signals` registers its own duplicate of the pipe's read end with
//! its runtime's reactor. Whoever drains the pipe then wakes every
//! listener in the process (their wakers are in a global registry), because
//! epoll would not report the now-empty pipe to the others. A listener
//! checks the counters, registers its wakers, and checks again, so a
//! delivery that lands between the check and the registration is seen too.
//!
//! Cost: two fds for the pipe, for the life of the process (the handler
//! may run at any instant, so its fd is never closed), plus one fd per
//! `Signals`. Nothing on the loop's hot path: a runtime without listeners
//! never hears of signals.
//!
//! # Dispositions
//! The first listener for a signal installs the handler and saves the
//! disposition it replaces; the last one to go puts it back. While ember
//! listens, the previous handler (if any) is not called. The signal mask of
//! every thread is never touched. `SIGKILL` and `SIGSTOP` cannot be caught,
//! and `SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL` are refused (a handler that
//! returns from a fault re-runs the faulting instruction).
//!
//! Production note: tokio uses signal-hook-registry (a handler per signal
//! that sets a flag and writes to one global socketpair, with chaining to
//! earlier handlers) and a signal driver per runtime that drains the pair
//! and broadcasts over `watch` channels; it never gives a disposition back.
//! async-signal gives every `Signals` its own socketpair, written by a
//! signal-hook-registry action. ember keeps the handler's state to static
//! atomics and one never-closed fd, which is what makes the handler sound
//! without signal-hook's lock-free registry, and restores dispositions as
//! its contract asks.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use slab::Slab;

use crate::io::registered::Registered;
use crate::reactor::Direction;
use crate::sys::signal::{self as sys, Disposition, MAX_SIGNAL};

pub mod unix;

/// Waits for one `SIGINT` (Ctrl-C in a terminal).
///
/// While the future is alive (from its first poll), `SIGINT` is caught
/// instead of ending the process; once it completes or is dropped (and no
/// other listener wants `SIGINT`), the previous disposition is back, so a
/// second Ctrl-C ends the process as usual.
///
/// # Cancel safety
/// Dropping it stops listening; a `SIGINT` that arrived before the drop,
/// unobserved, is not kept for the next `ctrl_c()`.
///
/// # Panics
/// When first polled outside an ember runtime.
///
/// ```no_run
/// ember::block_on(async {
///     println!("press Ctrl-C");
///     ember::signal::ctrl_c().await?;
///     println!("bye");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut signals = Signals::new(&[sys::SIGINT])?;
    signals.recv().await;
    Ok(())
}

/// A stream of the signals a process receives, by number, from a set chosen
/// at creation.
///
/// Each delivery after `new` returns is reported once; deliveries of the
/// same signal that arrive before the stream is polled again are reported
/// once (pending Unix signals never queue). Two `Signals` for the same
/// signal each see every delivery, whatever thread the kernel picked to run
/// the handler. Dropping the last `Signals` for a signal gives the signal
/// back its previous disposition.
///
/// `Signals` is a [`Stream`] that never ends; [`recv`](Self::recv) is the
/// same as an `async fn`.
///
/// ```no_run
/// use ember::signal::{unix::SignalKind, Signals};
///
/// let (term, hup) = (SignalKind::terminate(), SignalKind::hangup());
/// ember::block_on(async {
///     let mut signals = Signals::new(&[term.into(), hup.into()])?;
///     while let Some(sig) = signals.recv().await {
///         if SignalKind::from_raw(sig) == hup {
///             println!("reloading");
///         } else {
///             break; // SIGTERM: shut down
///         }
///     }
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Cancel safety
/// Cancel safe: a delivery is recorded by counters, so dropping a pending
/// `recv()` (or not polling the stream for a while) loses nothing; the next
/// poll reports it (repeats of one signal between polls merge into one).
pub struct Signals {
    /// This listener's duplicate of the self-pipe's read end, registered.
    bell: Registered<OwnedFd>,
    /// This listener's slot in [`Registry::wakers`].
    key: usize,
    /// The signals listened to, sorted, and the counter value last reported.
    watched: Vec<Watched>,
    /// Where the next scan of `watched` starts, so one busy signal cannot
    /// hide another.
    next: usize,
}

#[derive(Debug)]
struct Watched {
    sig: i32,
    seen: usize,
}

/// What every listener in the process shares. Never touched by the signal
/// handler (which sees only `sys/signal.rs`'s atomics), so a plain mutex
/// is fine.
struct Registry {
    /// The self-pipe's read end, created with the first listener; its write
    /// end belongs to the handler (`sys::set_bell`). Never closed.
    bell: Option<OwnedFd>,
    /// Per signal number: listeners, and the disposition to restore.
    signals: [Slot; MAX_SIGNAL as usize + 1],
    /// Every listener's waker, woken when someone drains the pipe.
    wakers: Slab<Option<Waker>>,
}

struct Slot {
    listeners: usize,
    /// Saved by the first listener, restored by the last.
    previous: Option<Disposition>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    bell: None,
    signals: [const {
        Slot {
            listeners: 0,
            previous: None,
        }
    }; MAX_SIGNAL as usize + 1],
    wakers: Slab::new(),
});

fn registry() -> MutexGuard<'static, Registry> {
    // Each critical section either completes or fails before it changes
    // anything, so a poisoned lock still guards consistent data.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

impl Registry {
    /// The pipe's read end, creating the pipe on first use.
    fn bell(&mut self) -> io::Result<&OwnedFd> {
        if self.bell.is_none() {
            let (read, write) = crate::sys::fd::pipe()?;
            if !sys::set_bell(write) {
                return Err(io::Error::other("ember: the signal pipe was set twice"));
            }
            self.bell = Some(read);
        }
        self.bell
            .as_ref()
            .ok_or_else(|| io::Error::other("ember: no signal pipe"))
    }

    /// One more listener for `sig`; the first installs the handler.
    fn listen(&mut self, sig: i32) -> io::Result<()> {
        let slot = &mut self.signals[sig as usize];
        if slot.listeners == 0 {
            slot.previous = Some(sys::catch(sig)?);
        }
        slot.listeners += 1;
        Ok(())
    }

    /// One listener fewer for `sig`; the last restores the disposition.
    fn unlisten(&mut self, sig: i32) {
        let slot = &mut self.signals[sig as usize];
        slot.listeners -= 1;
        if slot.listeners == 0 {
            if let Some(previous) = slot.previous.take() {
                // Can only fail for an invalid signal, which `listen` refused.
                let _ = sys::restore(sig, &previous);
            }
        }
    }
}

impl Signals {
    /// Starts listening to `signals`, by number: name them with
    /// [`unix::SignalKind`] (`SignalKind::terminate().into()`).
    ///
    /// # Errors
    /// `InvalidInput` for an empty set, for a number that is not a signal,
    /// or for `SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`;
    /// whatever `pipe2`, `dup` or `sigaction` report (out of fds, a signal
    /// the C library reserves).
    ///
    /// # Panics
    /// Outside an ember runtime, like every I/O constructor.
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        let mut sigs = signals.to_vec();
        sigs.sort_unstable();
        sigs.dedup();
        if sigs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Signals::new needs at least one signal",
            ));
        }
        if let Some(&bad) = sigs.iter().find(|&&s| !sys::is_catchable(s)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("signal {bad} cannot be listened to"),
            ));
        }
        // The lock is not held here: `Registered::new` panics outside a
        // runtime, and the registry must not be poisoned by that.
        let bell = Registered::new(registry().bell()?.try_clone()?)?;

        let mut registry = registry();
        let mut watched: Vec<Watched> = Vec::with_capacity(sigs.len());
        for &sig in &sigs {
            // Read before the handler is installed: every delivery after
            // this point counts.
            let seen = sys::deliveries(sig);
            if let Err(e) = registry.listen(sig) {
                for w in &watched {
                    registry.unlisten(w.sig);
                }
                return Err(e);
            }
            watched.push(Watched { sig, seen });
        }
        let key = registry.wakers.insert(None);
        drop(registry);
        Ok(Signals {
            bell,
            key,
            watched,
            next: 0,
        })
    }

    /// Waits for the next signal and returns its number. Never `None`: the
    /// stream does not end (the `Option` mirrors [`Stream::poll_next`]).
    ///
    /// # Cancel safety
    /// Cancel safe: a delivery is consumed only when it is returned.
    pub async fn recv(&mut self) -> Option<i32> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next signal: `Ready(Some(signal))` if one was
    /// delivered since it was last reported, else `Pending` (the task is
    /// woken at the next delivery).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        loop {
            if let Some(sig) = self.take_delivery() {
                return Poll::Ready(Some(sig));
            }
            self.set_waker(cx.waker());
            if self.drain_bell(cx) {
                // We emptied the pipe: epoll will not tell the other
                // listeners, so we do. Then look at the counters again.
                wake_all_but(self.key);
                continue;
            }
            // Both wakers are in place: a delivery from now on wakes us. One
            // that landed since the first look is in the counters.
            return match self.take_delivery() {
                Some(sig) => Poll::Ready(Some(sig)),
                None => Poll::Pending,
            };
        }
    }

    /// The next signal delivered since it was last reported, if any.
    fn take_delivery(&mut self) -> Option<i32> {
        let n = self.watched.len();
        for i in 0..n {
            let idx = (self.next + i) % n;
            let w = &mut self.watched[idx];
            let now = sys::deliveries(w.sig);
            if now != w.seen {
                w.seen = now;
                self.next = (idx + 1) % n;
                return Some(w.sig);
            }
        }
        None
    }

    /// Stores `waker` to be woken when another listener drains the pipe.
    fn set_waker(&self, waker: &Waker) {
        let old = {
            let mut registry = registry();
            match registry.wakers.get_mut(self.key) {
                Some(Some(w)) if w.will_wake(waker) => None,
                Some(slot) => slot.replace(waker.clone()),
                None => None,
            }
        };
        drop(old); // after the lock: a waker's drop is foreign code
    }

    /// Reads the pipe until it is empty, leaving the reactor waker in place
    /// for the next byte. `true` if there was anything to read.
    fn drain_bell(&self, cx: &mut Context<'_>) -> bool {
        const LEN: usize = 64;
        let mut buf = [0u8; LEN];
        let mut rang = false;
        loop {
            match self.bell.poll_io(
                cx,
                Direction::Read,
                |bell| sys::read(bell, &mut buf),
                |&n| n < LEN,
            ) {
                Poll::Ready(Ok(_)) => rang = true,
                // `Pending`: empty, and the waker is stored. An error
                // cannot happen on this pipe (its write end never closes);
                // the registry waker still covers us if it did.
                Poll::Pending | Poll::Ready(Err(_)) => return rang,
            }
        }
    }
}

/// Wakes every listener in the process except `key`, with the lock
/// released. The wakers are other listeners' (other tasks', other
/// runtimes'): one that panics must cost neither the others their wake nor
/// the polling task its poll, so each is contained.
fn wake_all_but(key: usize) {
    let mut wakers: Vec<Waker> = registry()
        .wakers
        .iter()
        .filter(|&(k, _)| k != key)
        .filter_map(|(_, w)| w.clone())
        .collect();
    crate::contain::wake_all(&mut wakers);
}

impl Stream for Signals {
    type Item = i32;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        let waker = {
            let mut registry = registry();
            for w in &self.watched {
                registry.unlisten(w.sig);
            }
            registry.wakers.try_remove(self.key).flatten()
        };
        drop(waker);
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sigs: Vec<i32> = self.watched.iter().map(|w| w.sig).collect();
        f.debug_struct("Signals").field("signals", &sigs).finish()
    }
}

// For `process`, which must know whether a child's `SIGCHLD` listener can
// still wait where it is (see `process/wait.rs`).
#[cfg(feature = "process")]
impl Signals {
    /// `Ok` while the runtime this listener registered with runs.
    pub(crate) fn check(&self) -> io::Result<()> {
        self.bell.check()
    }
}
