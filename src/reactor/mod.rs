//! The reactor: a registry that maps file descriptors to the tasks and
//! wakers waiting on them, fed by one epoll instance.
//!
//! Called by the executor's loop ([`Reactor::turn`], and the announcement of
//! the task it polls) and by the registered-fd type (`io/registered.rs`)
//! through each fd's [`Registration`]. It depends on `sys::epoll` and on
//! the crate's two leaf helpers, `trace` and `contain`; it knows nothing of
//! the executor: it defines what it stores for a waiting task
//! ([`TaskRef`]) and hands the woken ones back to whoever runs the loop.
//!
//! Each source is registered **once**, edge-triggered, for both directions
//! (`EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET`), so nothing on the hot path
//! calls `epoll_ctl`. An edge-triggered event says "something changed", not
//! "something is there": the reactor records it in the source's cached
//! readiness, and the cache stays set until a syscall answers `EAGAIN` (or a
//! short read or write proves the socket drained; see `io/registered.rs`).
//!
//! # Invariant: stale events never reach new sources
//! An event's data is a token `generation << 32 | slot`. The slot indexes the
//! slab of sources; the generation is unique per registration. When a source
//! is dropped its slot is freed and may be reused at once, but an event
//! already queued in the kernel for the old fd carries the old generation and
//! is ignored.
//!
//! # Invariant: no borrow across a wake
//! [`Reactor::turn`] collects the waiters of the ready sources while it holds
//! the slab, releases every borrow, and only then wakes the wakers among
//! them. A waker is arbitrary code; it may register or drop sources, and it
//! may panic: each is woken through `contain`, so a panic costs no other
//! waiter its wake.
//!
//! # Every waiter is woken
//! A source keeps one waiter per direction for `poll_*` calls and a list of
//! keyed waiters for futures (see `waiters.rs`); readiness in a direction
//! wakes all of them. Where only one can use it (one pending connection,
//! one datagram), the others find `EAGAIN` and wait again: none is lost.
//!
//! # Tasks are woken without their wakers
//! Almost every wait is a task of this runtime polling a socket with its own
//! waker. For those the source stores the task's [`TaskRef`], and `turn`
//! hands it to the executor, which queues it directly: no `Waker` clone
//! when the task waits, no call through the waker's vtable, no thread-local
//! lookup and no reference count when it is woken. The reactor recognises a
//! task's own waker by comparing it with the waker of the task being polled,
//! which the executor announces with [`Reactor::set_current`] before each
//! poll and withdraws with [`Reactor::clear_current`] after it. Any other
//! waker (a combinator's, another runtime's) is stored and woken as it is.
//!
//! The comparison is by address (the waker's data and vtable pointers), so
//! it is only meaningful while the announced waker is alive: otherwise its
//! allocation could be reused by another task's waker, which would then be
//! taken for the announced task and never woken. Hence the withdrawal: the
//! announcement lasts exactly one poll, during which the executor holds the
//! task (and with it the waker).
//!
//! # Whose runtime
//! A registration belongs to the runtime that made it. The reactor knows
//! whether that runtime is running, idle between two `block_on` calls, or
//! gone ([`Life`]); a source polled while its runtime is not running fails
//! with an error instead of waiting for events nobody will collect.

mod readiness;
mod registration;
mod waiters;

pub(crate) use readiness::Direction;
#[cfg(any(feature = "net", feature = "signal"))]
pub(crate) use registration::{ReadyEvent, Registration};
#[cfg(any(feature = "net", feature = "signal"))]
pub(crate) use waiters::WaitKey;

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::task::{RawWakerVTable, Waker};
use std::time::Duration;

use slab::Slab;

use crate::sys::epoll::{Epoll, Events};
use readiness::{Ready, State};
use waiters::{Waiter, Waiters};

/// The token of the runtime's own eventfd (remote wakes). Never a valid
/// `generation << 32 | slot` because generations stop short of `u32::MAX`.
pub(crate) const WAKE_TOKEN: u64 = u64::MAX;

/// A task of the runtime, as the reactor stores it for a wake: what the
/// executor's run queue holds (its slab slot and its unique id). The
/// reactor never looks inside; it compares and hands it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskRef {
    pub(crate) slot: usize,
    pub(crate) id: u64,
}

impl TaskRef {
    /// The slot reserved for the future given to `block_on`.
    pub(crate) const MAIN_SLOT: usize = usize::MAX;

    /// How `EMBER_TRACE` names this task.
    pub(crate) fn traced(self) -> crate::trace::Task {
        crate::trace::Task {
            id: self.id,
            main: self.slot == Self::MAIN_SLOT,
        }
    }
}

/// Where the runtime that owns the reactor stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Life {
    /// Inside `block_on`: sources may wait.
    Running,
    /// Built, or between two `block_on` calls: nobody collects events.
    Idle,
    /// Dropped: nobody ever will.
    Closed,
}

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
    /// The task being polled, if any (see the module docs).
    current: Current,
    /// Whether the owning runtime runs (see [`Life`]).
    life: Cell<Life>,

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
    /// Who waits, per direction (see `waiters.rs`).
    waiters: Waiters,
    /// The readiness hidden while the runtime is not running (see
    /// [`Reactor::set_life`]); empty while it runs.
    hidden: Cell<Ready>,
}

impl ScheduledIo {
    /// Moves the cached readiness aside: the source looks not ready.
    fn hide(&self) {
        let state = self.state.get();
        self.hidden.set(state.ready());
        self.state.set(state.without_ready());
    }

    /// Puts back what [`hide`](Self::hide) moved aside.
    fn show(&self) {
        let state = self.state.get();
        self.state.set(state.with_ready(self.hidden.take()));
    }
}

/// The announced task: its waker's identity (the two pointers
/// `Waker::will_wake` compares; raw, compared and never dereferenced) and
/// its [`TaskRef`]. Withdrawn by nulling `data`: no waker of ours has a
/// null data pointer (it is an `Arc`'s), and a waker that does (a no-op
/// waker) has another vtable.
struct Current {
    data: Cell<*const ()>,
    vtable: Cell<*const RawWakerVTable>,
    task: Cell<TaskRef>,
}

/// What one [`Reactor::turn`] saw.
pub(crate) struct Turn {
    /// The eventfd was rung: another thread has queued wakes.
    pub(crate) remote: bool,
    /// How many tasks it handed back by reference.
    pub(crate) queued: usize,
}

/// Wakes one waiter of a ready source: a task is handed back through
/// `woken`, a waker goes into `wakers`, to be woken once no borrow is
/// held. Returns how many tasks it handed back.
#[inline(always)]
fn dispatch<Q: Extend<TaskRef>>(
    waiter: Waiter,
    woken: &mut Q,
    wakers: &mut Vec<Waker>,
    tracing: bool,
) -> usize {
    match waiter {
        Waiter::Nobody => 0,
        Waiter::Task(task) => {
            if tracing {
                crate::trace::wake(task.traced(), false);
            }
            woken.extend(Some(task));
            1
        }
        Waiter::Waker(waker) => {
            wakers.push(waker);
            0
        }
    }
}

impl Reactor {
    pub(crate) fn new(event_capacity: usize) -> io::Result<Reactor> {
        Ok(Reactor {
            epoll: Epoll::new()?,
            sources: RefCell::new(Slab::new()),
            events: RefCell::new(Events::with_capacity(event_capacity)),
            wake_buf: Cell::new(Vec::new()),
            next_generation: Cell::new(0),
            current: Current {
                data: Cell::new(std::ptr::null()),
                vtable: Cell::new(std::ptr::null()),
                task: Cell::new(TaskRef { slot: 0, id: 0 }),
            },
            life: Cell::new(Life::Idle),
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

    /// Records where the owning runtime stands: called by `block_on` on
    /// entry and exit, and by the runtime's drop ([`Life::Closed`] is
    /// final).
    ///
    /// Leaving [`Life::Running`] hides every source's cached readiness, and
    /// coming back shows it again, exactly as it was (no event can arrive in
    /// between: only `turn` records events, and only a running runtime
    /// turns). So an operation outside the running runtime never finds its
    /// source ready: it reaches the wait path, whose check answers the
    /// error, rather than running a syscall that would work by accident
    /// while readiness happened to be cached. The cost is one pass over the
    /// sources per `block_on` entry and exit, nothing per operation (a
    /// check of the life on the ready path would cost every read and
    /// write; see `bench/optimisations.md`).
    pub(crate) fn set_life(&self, life: Life) {
        let was = self.life.get();
        if was == Life::Closed {
            return;
        }
        self.life.set(life);
        match (was == Life::Running, life == Life::Running) {
            (true, false) => self.sources.borrow().iter().for_each(|(_, io)| io.hide()),
            (false, true) => self.sources.borrow().iter().for_each(|(_, io)| io.show()),
            _ => {}
        }
    }

    /// Waits for events (at most `timeout`; `None` is forever) and wakes
    /// their waiters: tasks that waited with their own wakers are handed
    /// back through `woken` (the executor's run queue), borrowed only while
    /// no user code runs; other wakers are woken once every borrow is
    /// released.
    pub(crate) fn turn<Q: Extend<TaskRef>>(
        &self,
        timeout: Option<Duration>,
        woken: &RefCell<Q>,
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
        crate::trace::wait_done(timeout, events.len());

        let mut wakers = self.wake_buf.take();
        let mut remote = false;
        let mut queued = 0;
        {
            // No user code runs while these are borrowed.
            let sources = self.sources.borrow();
            let mut woken = woken.borrow_mut();
            let tracing = crate::trace::on();
            for (token, bits) in events.iter() {
                if token == WAKE_TOKEN {
                    crate::trace::bell();
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
                    crate::trace::event(io.fd, bits);
                }
                let bits = Ready::from_epoll(bits);
                io.state.set(io.state.get().with_event(bits));
                let read = bits.intersects(Ready::satisfies(Direction::Read));
                let write = bits.intersects(Ready::satisfies(Direction::Write));
                // A task waiting on both directions (or twice on one) is
                // handed back twice: the executor polls it twice, which
                // costs less than looking for it here on every event.
                if read {
                    let waiter = io.waiters.take_polled(Direction::Read);
                    queued += dispatch(waiter, &mut *woken, &mut wakers, tracing);
                }
                if write {
                    let waiter = io.waiters.take_polled(Direction::Write);
                    queued += dispatch(waiter, &mut *woken, &mut wakers, tracing);
                }
                if io.waiters.any_keyed() {
                    io.waiters.take_keyed(read, write, |waiter| {
                        queued += dispatch(waiter, &mut *woken, &mut wakers, tracing);
                    });
                }
            }
        }
        drop(events);
        // Every borrow is released: now the wakers may run.
        crate::contain::wake_all(&mut wakers);
        self.wake_buf.set(wakers);
        Ok(Turn { remote, queued })
    }

    /// Announces the task about to be polled: its reference and its own
    /// waker. Called by the executor before each poll.
    #[inline]
    pub(crate) fn set_current(&self, task: TaskRef, waker: &Waker) {
        self.current.data.set(waker.data());
        self.current.vtable.set(waker.vtable());
        self.current.task.set(task);
    }

    /// Withdraws [`set_current`](Self::set_current)'s announcement: called
    /// after each poll, and before teardown.
    #[inline]
    pub(crate) fn clear_current(&self) {
        self.current.data.set(std::ptr::null());
    }

    /// The task being polled now, if any (`task::id()`).
    pub(crate) fn current_task(&self) -> Option<TaskRef> {
        match self.current.data.get().is_null() {
            true => None,
            false => Some(self.current.task.get()),
        }
    }

    /// The announced task, if `waker` is its own. Also how a timer stores
    /// its task (`time/store.rs`).
    #[inline]
    pub(crate) fn own_task(&self, waker: &Waker) -> Option<TaskRef> {
        let current = &self.current;
        if std::ptr::eq(waker.data(), current.data.get())
            && std::ptr::eq(waker.vtable(), current.vtable.get())
        {
            Some(current.task.get())
        } else {
            None
        }
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
            waiters: Waiters::default(),
            hidden: Cell::new(Ready::default()),
        });
        let mut sources = self.sources.borrow_mut();
        let entry = sources.vacant_entry();
        let slot = entry.key();
        let slot32 = u32::try_from(slot)
            .map_err(|_| io::Error::new(io::ErrorKind::OutOfMemory, "too many sources"))?;
        let token = (u64::from(generation) << 32) | u64::from(slot32);
        self.epoll.add(fd, token)?;
        entry.insert(io.clone());
        crate::trace::register(fd, true);
        Ok((slot, io))
    }

    fn deregister(&self, slot: usize, fd: RawFd) {
        // EPOLL_CTL_DEL fails only if the fd is not registered (it was
        // closed behind our back), in which case there is nothing to undo.
        let _ = self.epoll.delete(fd);
        crate::trace::register(fd, false);
        let removed = self.sources.borrow_mut().try_remove(slot);
        // The source's waiters drop here, after the borrow is released.
        drop(removed);
    }
}
