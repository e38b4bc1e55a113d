//! The reactor: a registry that maps file descriptors to the wakers of the
//! tasks waiting on them, fed by one epoll instance.
//!
//! Called by the executor's loop ([`Reactor::turn`]) and by the I/O types
//! through their [`Registration`]. It relies on `sys::epoll` and on the
//! registration's "try the syscall, else wait" loop to clear readiness.
//!
//! Each source is registered **once**, edge-triggered, for both directions
//! (`EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET`), so nothing on the hot path
//! calls `epoll_ctl`. An edge-triggered event says "something changed", not
//! "something is there": the reactor records it in the source's cached
//! readiness, and the cache stays set until a syscall answers `EAGAIN` (or a
//! short read or write proves the socket drained; see `registration.rs`).
//!
//! # Invariant: stale events never reach new sources
//! An event's data is a token `generation << 32 | slot`. The slot indexes the
//! slab of sources; the generation is unique per registration. When a source
//! is dropped its slot is freed and may be reused at once, but an event
//! already queued in the kernel for the old fd carries the old generation and
//! is ignored.
//!
//! # Invariant: no borrow across a wake
//! [`Reactor::turn`] collects the wakers of the ready sources while it holds
//! the slab, releases every borrow, and only then wakes them. A waker is
//! arbitrary code; it may register or drop sources.
//!
//! # Tasks are woken without their wakers
//! Almost every wait is a task of this runtime polling a socket with its own
//! waker. For those the source stores the task's run-queue [`Entry`] (see
//! [`Waiter`]), and `turn` hands the entries to the executor, which queues
//! them directly: no `Waker` clone when the task waits, no call through the
//! waker's vtable, no thread-local lookup and no reference count when it is
//! woken. The reactor recognises a task's own waker by comparing it with
//! the waker of the task being polled, which the executor announces with
//! [`Reactor::set_current`] before each poll and withdraws with
//! [`Reactor::clear_current`] after it. Any other waker (a combinator's,
//! another runtime's) is stored and woken as it is.
//!
//! The comparison is by address (the waker's data and vtable pointers), so
//! it is only meaningful while the announced waker is alive: otherwise its
//! allocation could be reused by another task's waker, which would then be
//! taken for the announced task and never woken. Hence the withdrawal: the
//! announcement lasts exactly one poll, during which the executor holds the
//! task (and with it the waker).

mod readiness;
mod registration;

pub(crate) use readiness::Direction;
#[cfg(any(feature = "net", feature = "signal"))]
pub(crate) use registration::Registration;

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::task::{RawWakerVTable, Waker};
use std::time::Duration;

use slab::Slab;

use crate::runtime::{Entry, RunQueue};
use crate::sys::epoll::{Epoll, Events};
use readiness::{Ready, State};

/// The token of the runtime's own eventfd (remote wakes). Never a valid
/// `generation << 32 | slot` because generations stop short of `u32::MAX`.
pub(crate) const WAKE_TOKEN: u64 = u64::MAX;

/// How many ready I/O operations one poll of a task may perform before the
/// reactor makes it yield (tokio uses the same figure). Without it, a task
/// whose socket is always ready would never return `Pending`, and every other
/// task on the loop would starve.
pub(crate) const BUDGET: u32 = 128;

/// The registry.
pub(crate) struct Reactor {
    /// The kernel side of the registry.
    epoll: Epoll,
    /// Every live source, by slot. Borrowed only for short, non-reentrant
    /// sections: insert, remove, and the dispatch loop of `turn`.
    sources: RefCell<Slab<Rc<ScheduledIo>>>,
    /// `epoll_wait`'s buffer, reused from turn to turn.
    events: RefCell<Events>,
    /// Wakers collected by `turn` before it wakes them; kept to reuse its
    /// allocation.
    wake_buf: Cell<Vec<Waker>>,
    /// Next registration's generation.
    next_generation: Cell<u32>,
    /// Ready operations left to the task being polled (see [`BUDGET`]).
    budget: Cell<u32>,
    /// The task being polled, if any (see the module docs).
    current: Current,
    /// Counters for `runtime::stats()`.
    pub(crate) stats: ReactorStats,
}

/// The reactor's share of the runtime statistics.
#[derive(Default)]
pub(crate) struct ReactorStats {
    pub(crate) waits: Cell<u64>,
    pub(crate) empty_waits: Cell<u64>,
    pub(crate) events: Cell<u64>,
}

/// One source's state, shared by the slab and the [`Registration`].
pub(crate) struct ScheduledIo {
    /// Cached readiness and tick (see `readiness.rs`).
    state: Cell<State>,
    /// Matches the high half of this source's event token.
    generation: u32,
    /// The fd, for `EMBER_TRACE` only (the reactor never touches it).
    fd: RawFd,
    /// Who waits to read.
    reader: Cell<Waiter>,
    /// Who waits to write.
    writer: Cell<Waiter>,
}

/// Who waits on one direction of a source.
#[derive(Default)]
pub(crate) enum Waiter {
    #[default]
    Nobody,
    /// A task of this runtime that polled with its own waker: queued by
    /// entry when the event comes.
    Task(Entry),
    /// Any other waker: woken through the waker.
    Waker(Waker),
}

impl Waiter {
    /// Wakes a waiter of a source that became ready: a task goes on
    /// `queue` (the return value counts it), a waker into `wakers`, to be
    /// woken once no borrow is held.
    #[inline(always)]
    fn dispatch(self, queue: &mut RunQueue, wakers: &mut Vec<Waker>, tracing: bool) -> usize {
        match self {
            Waiter::Nobody => 0,
            Waiter::Task(entry) => {
                if tracing {
                    crate::runtime::trace::wake(entry, false);
                }
                queue.push_back(entry);
                1
            }
            Waiter::Waker(waker) => {
                wakers.push(waker);
                0
            }
        }
    }
}

/// The announced task: its waker's identity (the two pointers
/// `Waker::will_wake` compares; raw, compared and never dereferenced) and
/// its run-queue entry. Withdrawn by nulling `data`: no waker of ours has a
/// null data pointer (it is an `Arc`'s), and a waker that does (a no-op
/// waker) has another vtable.
struct Current {
    data: Cell<*const ()>,
    vtable: Cell<*const RawWakerVTable>,
    entry: Cell<Entry>,
}

/// What one [`Reactor::turn`] saw.
pub(crate) struct Turn {
    /// The eventfd was rung: another thread has queued wakes.
    pub(crate) remote: bool,
    /// How many tasks it put on the run queue.
    pub(crate) queued: usize,
}

impl Reactor {
    pub(crate) fn new(event_capacity: usize) -> io::Result<Reactor> {
        Ok(Reactor {
            epoll: Epoll::new()?,
            sources: RefCell::new(Slab::new()),
            events: RefCell::new(Events::with_capacity(event_capacity)),
            wake_buf: Cell::new(Vec::new()),
            next_generation: Cell::new(0),
            budget: Cell::new(BUDGET),
            current: Current {
                data: Cell::new(std::ptr::null()),
                vtable: Cell::new(std::ptr::null()),
                entry: Cell::new(Entry { slot: 0, id: 0 }),
            },
            stats: ReactorStats::default(),
        })
    }

    /// Registers the runtime's eventfd under [`WAKE_TOKEN`].
    pub(crate) fn add_waker_fd(&self, fd: RawFd) -> io::Result<()> {
        self.epoll.add_readable(fd, WAKE_TOKEN)
    }

    /// How many sources are registered now.
    pub(crate) fn registered(&self) -> usize {
        self.sources.borrow().len()
    }

    /// Waits for events (at most `timeout`; `None` is forever) and wakes the
    /// tasks they concern: tasks that waited with their own wakers go
    /// straight onto the executor's `run_queue`; other wakers are woken
    /// once every borrow is released.
    pub(crate) fn turn(
        &self,
        timeout: Option<Duration>,
        run_queue: &RefCell<RunQueue>,
    ) -> io::Result<Turn> {
        let mut events = self.events.borrow_mut();
        self.epoll.wait(&mut events, timeout)?;
        self.stats.waits.set(self.stats.waits.get() + 1);
        if events.len() == 0 {
            self.stats.empty_waits.set(self.stats.empty_waits.get() + 1);
        }
        self.stats
            .events
            .set(self.stats.events.get() + events.len() as u64);
        crate::runtime::trace::wait_done(timeout, events.len());

        let mut wakers = self.wake_buf.take();
        let mut remote = false;
        let mut queued = 0;
        {
            // No user code runs while these are borrowed.
            let sources = self.sources.borrow();
            let mut queue = run_queue.borrow_mut();
            let tracing = crate::runtime::trace::on();
            for (token, bits) in events.iter() {
                if token == WAKE_TOKEN {
                    crate::runtime::trace::bell();
                    remote = true;
                    continue;
                }
                let slot = (token & u64::from(u32::MAX)) as usize;
                let generation = (token >> 32) as u32;
                let io = match sources.get(slot) {
                    Some(io) if io.generation == generation => io,
                    _ => continue, // an event for a source that has gone
                };
                if tracing {
                    crate::runtime::trace::event(io.fd, bits);
                }
                let bits = Ready::from_epoll(bits);
                io.state.set(io.state.get().with_event(bits));
                if bits.intersects(Ready::satisfies(Direction::Read)) {
                    queued += io.reader.take().dispatch(&mut queue, &mut wakers, tracing);
                }
                if bits.intersects(Ready::satisfies(Direction::Write)) {
                    queued += io.writer.take().dispatch(&mut queue, &mut wakers, tracing);
                }
            }
        }
        drop(events);
        // Every borrow is released: now the wakers may run.
        for waker in wakers.drain(..) {
            waker.wake();
        }
        self.wake_buf.set(wakers);
        Ok(Turn { remote, queued })
    }

    /// Announces the task about to be polled: its entry and its own waker.
    /// Also gives it a full budget. Called by the executor before each poll.
    #[inline]
    pub(crate) fn set_current(&self, entry: Entry, waker: &Waker) {
        self.budget.set(BUDGET);
        self.current.data.set(waker.data());
        self.current.vtable.set(waker.vtable());
        self.current.entry.set(entry);
    }

    /// Withdraws [`set_current`](Self::set_current)'s announcement: called
    /// after each poll, and before teardown.
    #[inline]
    pub(crate) fn clear_current(&self) {
        self.current.data.set(std::ptr::null());
    }

    /// Makes the task polling with `waker` the one `slot` wakes: by entry
    /// if `waker` is the polled task's own, else by a clone of `waker`
    /// (unless `slot` already holds an equivalent one). The waiter replaced,
    /// usually `Nobody`, is dropped with no borrow held.
    #[inline]
    fn wait_on(&self, slot: &Cell<Waiter>, waker: &Waker) {
        let current = &self.current;
        if std::ptr::eq(waker.data(), current.data.get())
            && std::ptr::eq(waker.vtable(), current.vtable.get())
        {
            drop(slot.replace(Waiter::Task(current.entry.get())));
        } else {
            Self::wait_on_waker(slot, waker);
        }
    }

    fn wait_on_waker(slot: &Cell<Waiter>, waker: &Waker) {
        let new = match slot.take() {
            Waiter::Waker(w) if w.will_wake(waker) => Waiter::Waker(w),
            _ => Waiter::Waker(waker.clone()),
        };
        slot.set(new);
    }

    /// Takes one unit of budget; `false` when the task has used it all.
    fn consume_budget(&self) -> bool {
        let left = self.budget.get();
        if left == 0 {
            return false;
        }
        self.budget.set(left - 1);
        true
    }

    fn register(&self, fd: RawFd) -> io::Result<(usize, Rc<ScheduledIo>)> {
        let generation = self.next_generation.get();
        // Wrap before u32::MAX so that no token equals WAKE_TOKEN.
        self.next_generation.set(if generation == u32::MAX - 1 {
            0
        } else {
            generation + 1
        });
        let io = Rc::new(ScheduledIo {
            state: Cell::new(State::default()),
            generation,
            fd,
            reader: Cell::new(Waiter::Nobody),
            writer: Cell::new(Waiter::Nobody),
        });
        let mut sources = self.sources.borrow_mut();
        let entry = sources.vacant_entry();
        let slot = entry.key();
        let slot32 = u32::try_from(slot)
            .map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "too many sources"))?;
        let token = (u64::from(generation) << 32) | u64::from(slot32);
        self.epoll.add(fd, token)?;
        entry.insert(io.clone());
        crate::runtime::trace::register(fd, true);
        Ok((slot, io))
    }

    fn deregister(&self, slot: usize, fd: RawFd) {
        // EPOLL_CTL_DEL fails only if the fd is not registered (it was
        // closed behind our back), in which case there is nothing to undo.
        let _ = self.epoll.delete(fd);
        crate::runtime::trace::register(fd, false);
        let removed = self.sources.borrow_mut().try_remove(slot);
        // The source's wakers drop here, after the borrow is released.
        drop(removed);
    }
}
