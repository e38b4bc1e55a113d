//! The executor's core: the task slab, the run queue and the loop's steps.
//!
//! Owned (through an `Rc`) by `Runtime`, and reachable from the thread-local
//! context while the runtime runs. Also owns the timer store
//! (`time::store::Timers`), which it asks for the wait's timeout and fires
//! after every wait, and the blocking pool (`blocking.rs`). Relies on the
//! reactor for I/O events and on `waker.rs` for wakes.
//!
//! # Invariant: no borrow across user code
//! Every `RefCell` here (`tasks`, `queue`) is borrowed only for a push, a
//! pop, an insert or a remove. A task is cloned out of the slab before it is
//! polled; a removed task is dropped after the slab's borrow ends; wakers
//! are woken with nothing borrowed. So a task may spawn, wake, abort or drop
//! other tasks and sockets from `poll` or from `Drop`.
//!
//! # Panics in user code
//! The wakers woken here (a `JoinHandle`'s when its task completes or is
//! dropped at shutdown, a timer's when it fires) may be anyone's: each is
//! woken through `contain::wake`, so a panicking one is reported and the
//! loop (or the teardown) goes on with the rest.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use slab::Slab;

use super::blocking::Pool;
use super::join::JoinHandle;
use super::queue::RunQueue;
use super::task::{HasHeader, Header, Schedulable, Task, DETACHED};
use super::waker::{Entry, RemoteSpawn, Shared, WakeHandle, MAIN_SLOT};
use crate::reactor::Reactor;
use crate::sys::eventfd::EventFd;

/// How many polls the loop makes at least before it looks for I/O again,
/// even if tasks are still runnable. Without it, two tasks that keep waking
/// each other would keep every socket waiting. (A prime, as in tokio's
/// `event_interval` of 61: it avoids falling into step with periodic work.)
///
/// When more tasks than that were queued at the last look (a turn that
/// found many sockets ready), the loop first polls that many: each of them
/// once, as a pass, before it looks again. Looking in the middle of the
/// pass would cost an `epoll_wait` that the end of the pass makes anyway
/// (with 64 busy connections, one extra per 61 polls), and would let the
/// sockets that became ready meanwhile overtake the ones already queued.
pub(crate) const POLLS_PER_IO_CHECK: usize = 61;

/// With the clock paused and a blocking job running, how long (in real
/// time) the loop waits before it looks again whether it may skip ahead.
const PAUSED_POLL: Duration = Duration::from_millis(1);

pub(crate) struct Core {
    pub(crate) reactor: Rc<Reactor>,
    /// Every task that has not completed, by slot.
    tasks: RefCell<Slab<TaskSlot>>,
    /// Tasks to poll, in order. May hold stale entries (a task woken, then
    /// aborted, or completed); `run_task` skips them by id.
    queue: RefCell<RunQueue>,
    shared: Arc<Shared>,
    /// Set once the runtime is being dropped: new tasks are dropped at once.
    shutting_down: Cell<bool>,
    pub(crate) timers: Rc<crate::time::TimerCell>,
    /// The clock timers are fired by: the system's, or paused.
    pub(crate) clock: crate::time::Clock,
    /// The tasks and wakers of the timers one turn fired, kept between
    /// turns so that firing a timer allocates nothing. Taken out while they
    /// are woken (user code), so no borrow is held then.
    fired: Cell<crate::time::Expired>,
    pub(crate) stats: CoreStats,
    /// Helper threads for `spawn_blocking`.
    pub(crate) blocking: Pool,
    /// The remote spawns one `drain_remote` took, kept between calls so
    /// that draining allocates nothing.
    spawns: Cell<Vec<RemoteSpawn>>,
}

/// A live task, with its id beside it so that checking a queue entry
/// against the slot costs no virtual call.
struct TaskSlot {
    id: u64,
    task: Rc<dyn Schedulable>,
}

/// The executor's share of the runtime statistics.
#[derive(Default)]
pub(crate) struct CoreStats {
    pub(crate) spawned: Cell<u64>,
    pub(crate) completed: Cell<u64>,
    pub(crate) polls: Cell<u64>,
    pub(crate) local_wakes: Cell<u64>,
    pub(crate) remote_wakes: Cell<u64>,
    pub(crate) timers_fired: Cell<u64>,
}

fn bump(c: &Cell<u64>, n: u64) {
    c.set(c.get() + n);
}

impl Core {
    pub(crate) fn new(event_capacity: usize, blocking: Pool, paused: bool) -> io::Result<Core> {
        let reactor = Rc::new(Reactor::new(event_capacity)?);
        let bell = EventFd::new()?;
        reactor.add_waker_fd(std::os::fd::AsRawFd::as_raw_fd(&bell))?;
        let clock = crate::time::Clock::new(paused);
        let now = crate::time::Instant::from_ns(clock.now());
        let timers = Rc::new(crate::time::TimerCell::new(now, reactor.clone()));
        Ok(Core {
            reactor,
            tasks: RefCell::new(Slab::new()),
            queue: RefCell::new(RunQueue::new()),
            shared: Arc::new(Shared::new(bell)),
            shutting_down: Cell::new(false),
            timers,
            clock,
            fired: Cell::default(),
            stats: CoreStats::default(),
            blocking,
            spawns: Cell::default(),
        })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn alive(&self) -> usize {
        self.tasks.borrow().len()
    }

    pub(crate) fn next_id(&self) -> u64 {
        super::id::next()
    }

    /// A fresh waker handle for the future given to `block_on`.
    pub(crate) fn main_handle(&self) -> Arc<WakeHandle> {
        let entry = Entry {
            slot: MAIN_SLOT,
            id: self.next_id(),
        };
        // Scheduled for its first poll; not a wake.
        self.queue.borrow_mut().push_back(entry);
        Arc::new(WakeHandle::new(entry, self.shared.clone()))
    }

    /// A local wake (or an abort, with `front`).
    pub(crate) fn push(&self, entry: Entry, front: bool) {
        bump(&self.stats.local_wakes, 1);
        super::trace::wake(super::waker::traced(entry), false);
        let mut queue = self.queue.borrow_mut();
        if front {
            queue.push_front(entry);
        } else {
            queue.push_back(entry);
        }
    }

    #[inline]
    pub(crate) fn pop(&self) -> Option<Entry> {
        self.queue.borrow_mut().pop_front()
    }

    /// How many entries are queued (some may be stale).
    #[inline]
    pub(crate) fn queued(&self) -> usize {
        self.queue.borrow().len()
    }

    #[track_caller]
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_with_id(future, self.next_id())
    }

    /// [`spawn`](Self::spawn) with an id handed out beforehand (a remote
    /// or deferred spawn, whose handle had to know it at once).
    #[track_caller]
    pub(crate) fn spawn_with_id<F>(&self, future: F, id: u64) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let mut tasks = self.tasks.borrow_mut();
        let entry = Entry {
            slot: tasks.vacant_key(),
            id,
        };
        let handle = Arc::new(WakeHandle::new(entry, self.shared.clone()));
        let task = Rc::new(Task::new(future, Header::new(handle, Location::caller())));
        bump(&self.stats.spawned, 1);
        if self.shutting_down.get() {
            drop(tasks);
            // Spawned from a destructor during shutdown: it will never run.
            task.cancel();
            return JoinHandle::new(task);
        }
        tasks.insert(TaskSlot {
            id: entry.id,
            task: task.clone(),
        });
        drop(tasks);
        super::trace::spawn(super::waker::traced(entry), task.header().spawned_at);
        self.queue.borrow_mut().push_back(entry);
        JoinHandle::new(task)
    }

    /// Polls the task `entry` names, if it is still that task.
    pub(crate) fn run_task(&self, entry: Entry) {
        let task = match self.tasks.borrow().get(entry.slot) {
            Some(t) if t.id == entry.id => t.task.clone(),
            _ => return, // completed or aborted since it was queued
        };
        bump(&self.stats.polls, 1);
        let started = super::trace::poll_start();
        let completed = task.run(&self.reactor);
        if let Some(started) = started {
            super::trace::poll_end(
                super::waker::traced(entry),
                task.header().spawned_at,
                started,
                completed,
            );
        }
        if completed {
            self.complete(entry, task);
        }
    }

    /// Removes a completed task and tells whoever awaits it.
    fn complete(&self, entry: Entry, task: Rc<dyn Schedulable>) {
        let removed = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get(entry.slot) {
                Some(t) if t.id == entry.id => Some(tasks.remove(entry.slot)),
                _ => None,
            }
        };
        bump(&self.stats.completed, 1);
        let header = task.header();
        if let Some(waker) = header.take_join_waker() {
            crate::contain::wake(waker);
        }
        if header.is(DETACHED) {
            task.drop_output();
        }
        drop(removed);
    }

    /// One look at the outside world: remote wakes, I/O events, timers.
    /// Blocks (until the next timer, or forever) only if `may_block` and
    /// nothing is runnable.
    ///
    /// With the clock paused, it never blocks on a timer: it looks for I/O
    /// and wakes without blocking, and if that finds nothing to run either,
    /// moves the clock to the next timer's deadline (or the start of the
    /// store's next slot) and fires what is due there. Not while a blocking
    /// job runs: then it waits for I/O, wakes or [`PAUSED_POLL`] of real
    /// time, and looks again.
    pub(crate) fn turn(&self, may_block: bool) -> io::Result<()> {
        // The timer a task cancelled last, if it is ours and no task took
        // it again: it must neither fire nor hold up the wait.
        crate::time::flush_cancelled(&self.timers);
        self.drain_remote();
        let mut timeout = Some(Duration::ZERO);
        let mut sleeping = false;
        let mut skip_ahead = false;
        if may_block && self.queue.borrow().is_empty() {
            let mut timers = self.timers.store();
            // No clock read when no timer is armed (the common server case).
            timeout = if timers.is_empty() {
                None
            } else if self.clock.is_paused() {
                skip_ahead = !self.blocking.busy();
                Some(if skip_ahead {
                    Duration::ZERO
                } else {
                    PAUSED_POLL
                })
            } else {
                timers.wait_timeout(crate::time::Instant::from_ns(self.clock.now()))
            };
            drop(timers);
            sleeping = timeout != Some(Duration::ZERO) && self.shared.prepare_sleep();
            if !sleeping {
                timeout = Some(Duration::ZERO);
            } else if timeout.is_some() {
                // A timed wait: end it on time, not up to 50 µs late.
                crate::sys::thread::use_fine_timer_slack();
            }
        }
        let result = self.reactor.turn(timeout, &self.queue);
        if sleeping {
            self.shared.woke_up();
        }
        let turn = result?;
        bump(&self.stats.local_wakes, turn.queued as u64);
        if turn.remote {
            self.shared.silence_bell();
        }
        self.drain_remote();
        if skip_ahead && self.queue.borrow().is_empty() {
            let now = crate::time::Instant::from_ns(self.clock.now());
            let next = self.timers.store().next_deadline_at(now);
            if let Some(next) = next {
                self.clock.skip_to(next.as_ns());
            }
        }
        self.fire_timers();
        Ok(())
    }

    #[inline]
    pub(crate) fn drain_remote(&self) {
        // The common case, nothing from other threads: one atomic load.
        if self.shared.pending() {
            self.drain_remote_slow();
        }
    }

    #[inline(never)]
    fn drain_remote_slow(&self) {
        let mut spawns = self.spawns.take();
        let n = self
            .shared
            .drain_into(&mut self.queue.borrow_mut(), &mut spawns);
        bump(&self.stats.remote_wakes, n as u64);
        // Futures sent by `Handle::spawn` from other threads become tasks
        // here, with no borrow held (spawning borrows the slab).
        for spawn in spawns.drain(..) {
            spawn(self);
        }
        self.spawns.set(spawns);
    }

    fn fire_timers(&self) {
        let mut timers = self.timers.store();
        if timers.is_empty() {
            return;
        }
        let mut fired = self.fired.take();
        let now = crate::time::Instant::from_ns(self.clock.now());
        let n = timers.take_expired(now, &mut fired);
        drop(timers);
        bump(&self.stats.timers_fired, n as u64);
        // Tasks armed with their own wakers go straight to the run queue,
        // as the reactor's do.
        if !fired.tasks.is_empty() {
            bump(&self.stats.local_wakes, fired.tasks.len() as u64);
            let mut queue = self.queue.borrow_mut();
            for task in fired.tasks.drain(..) {
                super::trace::timer_fired();
                super::trace::wake(super::waker::traced(task), false);
                queue.push_back(task);
            }
        }
        // Each waker contained on its own: one that panics neither loses
        // the others of the batch nor the buffer.
        for waker in fired.wakers.drain(..) {
            super::trace::timer_fired();
            crate::contain::wake(waker);
        }
        self.fired.set(fired);
    }

    /// Drops every task's future, repeatedly, until none is left (a
    /// destructor may spawn; such tasks are dropped at once, see `spawn`).
    pub(crate) fn shutdown(&self) {
        self.shutting_down.set(true);
        // Sources still alive (held by tasks dropped below, or moved out of
        // the runtime) fail from now on instead of waiting forever.
        self.reactor.set_life(crate::reactor::Life::Closed);
        // In case `block_on`'s future panicked in its poll.
        self.reactor.clear_current();
        crate::time::flush_cancelled(&self.timers);
        // The pool first: a destructor below that calls `spawn_blocking`
        // must not start a job whose task is cancelled at once.
        self.blocking.shutdown();
        loop {
            let tasks: Vec<_> = self.tasks.borrow_mut().drain().map(|t| t.task).collect();
            if tasks.is_empty() {
                break;
            }
            for task in &tasks {
                task.cancel();
                if let Some(waker) = task.header().take_join_waker() {
                    crate::contain::wake(waker);
                }
                if task.header().is(DETACHED) {
                    task.drop_output();
                }
            }
            drop(tasks);
        }
        self.queue.borrow_mut().clear();
        self.shared.close();
    }
}
