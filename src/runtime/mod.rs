//! The runtime: one thread, one loop, one reactor, and a small pool of
//! helper threads for blocking work.
//!
//! Called by user code ([`block_on`], [`spawn`], [`Runtime`], [`Builder`],
//! [`spawn_blocking`], [`stats()`]) and, through `current_core` and
//! `current_reactor`, by everything that needs the thread's runtime: I/O
//! constructors, `Sleep`, `JoinSet`. Relies on the reactor for I/O events
//! and on the timer store (`time::store`) for the wait's timeout.
//!
//! | file | holds |
//! | --- | --- |
//! | `core.rs` | the task slab, the run queue, one look at the outside world (`turn`), shutdown |
//! | `task.rs` | the task cell and its state flags (the one `unsafe` outside `sys/`) |
//! | `waker.rs` | wakers, the remote queue, the eventfd handshake |
//! | `join.rs` | `JoinHandle`, `JoinError` |
//! | `context.rs` | the thread's current runtime |
//! | `coop.rs` | the cooperative budget: 128 completed operations per poll |
//! | `blocking.rs` | the blocking pool behind `spawn_blocking` |
//! | `affinity.rs` | `pin_to_cpu`, for one runtime per CPU |
//! | `stats.rs` | `runtime::stats()` (`EMBER_TRACE=1` lives in the crate's `trace.rs`, shared with the reactor) |
//!
//! [`Runtime::block_on`] runs the loop:
//!
//! 1. poll runnable tasks (and the `block_on` future when woken), in wake
//!    order, looking at I/O without blocking when tasks are still runnable
//!    after `POLLS_PER_IO_CHECK` (61) polls, or after one pass over the
//!    tasks that were queued when the loop last looked, if more;
//! 2. when nothing is runnable, look at the outside world: remote wakes, I/O
//!    events (through the reactor), expired timers, blocking in `epoll_wait`
//!    until an event, a remote wake or the next timer's deadline;
//! 3. repeat, until the `block_on` future is ready.
//!
//! Invariant: at most one runtime runs on a thread at a time (`block_on`
//! inside `block_on` panics), and its tasks never leave that thread: tasks,
//! `JoinHandle`s and the `Runtime` are `!Send`; only wakers cross threads.
//!
//! Dropping the runtime drops every task's future (running their
//! destructors, which frees the registrations they held), shuts the
//! blocking pool (queued jobs are dropped; running ones finish on their
//! threads, unwaited), and closes the eventfd; the epoll fd closes with the
//! reactor, once the last registration that shares it is gone. It works
//! as well from a thread-local's destructor, after the thread's current
//! runtime (`context.rs`) is gone.
//!
//! A panic in a task becomes its `JoinError`; a panic in other user code
//! the runtime calls (a waker it wakes, a destructor it runs for nobody) is
//! contained by `crate::contain` and reported on stderr; the `block_on`
//! future's own panic propagates.

mod affinity;
mod blocking;
pub(crate) mod context;
pub(crate) mod coop;
mod core;
mod handle;
mod id;
mod join;
mod queue;
mod stats;
mod task;
mod waker;

pub(crate) use crate::trace;

pub use affinity::pin_to_cpu;
#[cfg(feature = "fs")]
pub(crate) use blocking::spawn_mandatory_blocking;
pub use blocking::{spawn_blocking, BLOCKING_KEEP_ALIVE};
pub(crate) use handle::Remote;
pub use handle::{Handle, TryCurrentError};
pub use id::Id;
pub use join::{AbortHandle, JoinError, JoinHandle};
pub use stats::{stats, Stats};

use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use self::core::{Core, POLLS_PER_IO_CHECK};
use crate::reactor::{Life, Reactor};
use waker::MAIN_SLOT;

/// An ember runtime: an executor and a reactor on the current thread.
///
/// Most programs call [`ember::block_on`](crate::block_on), which builds a
/// runtime, runs one future and drops the runtime. Build one yourself to
/// choose its settings ([`Runtime::builder`]) or to run several futures on
/// the same set of tasks.
///
/// `Runtime` is `!Send`: its tasks are not `Send` and never leave the thread.
///
/// ```
/// let rt = ember::Runtime::new()?;
/// let handle = rt.spawn(async { "spawned before block_on" });
/// let s = rt.block_on(async { handle.await.unwrap() });
/// assert_eq!(s, "spawned before block_on");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    core: Rc<Core>,
    handle: Handle,
}

/// Settings for a [`Runtime`], set in place as in tokio:
///
/// ```
/// let rt = ember::runtime::Builder::new_current_thread()
///     .enable_all()
///     .event_capacity(256)
///     .build()?;
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    event_capacity: usize,
    blocking_threads: usize,
    blocking_keep_alive: Duration,
    start_paused: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            event_capacity: 1024,
            blocking_threads: 8,
            blocking_keep_alive: BLOCKING_KEEP_ALIVE,
            start_paused: false,
        }
    }
}

impl Builder {
    /// tokio's name for the one kind of runtime ember has: a loop on the
    /// current thread. The same as [`Runtime::builder`].
    pub fn new_current_thread() -> Builder {
        Builder::default()
    }

    /// Accepted for tokio's sake: I/O and timers are always on in ember.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio's sake: I/O is always on in ember.
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio's sake: timers are always on in ember.
    pub fn enable_time(&mut self) -> &mut Builder {
        self
    }

    /// How many events one `epoll_wait` may return (default 1,024). More
    /// events wait for the next call; none is lost.
    pub fn event_capacity(&mut self, n: usize) -> &mut Builder {
        self.event_capacity = n.max(1);
        self
    }

    /// The most threads the blocking pool ([`spawn_blocking`]) may run at
    /// once (default 8, at least 1). Threads start only when a job needs one.
    pub fn blocking_threads(&mut self, n: usize) -> &mut Builder {
        self.blocking_threads = n.max(1);
        self
    }

    /// How long a blocking-pool thread waits for a new job before it exits
    /// (default [`BLOCKING_KEEP_ALIVE`], 10 s).
    pub fn blocking_keep_alive(&mut self, keep_alive: Duration) -> &mut Builder {
        self.blocking_keep_alive = keep_alive;
        self
    }

    /// Whether the runtime's clock starts paused (default `false`), as if
    /// [`time::pause`](crate::time::pause) were its first call: time
    /// moves only by [`time::advance`](crate::time::advance), or skips
    /// ahead to the next timer when the runtime has nothing else to do.
    /// tokio's name; for tests that sleep for hours in milliseconds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ember::time::Instant;
    ///
    /// let rt = ember::Runtime::builder().start_paused(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     ember::time::sleep(Duration::from_secs(86_400)).await;
    ///     assert_eq!(start.elapsed(), Duration::from_secs(86_400));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "time")]
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Builder {
        self.start_paused = start_paused;
        self
    }

    /// Creates the runtime: an epoll instance and an eventfd. The builder
    /// can build again, with the same settings.
    pub fn build(&mut self) -> io::Result<Runtime> {
        trace::init();
        let blocking = blocking::Pool::new(self.blocking_threads, self.blocking_keep_alive);
        let core = Rc::new(Core::new(self.event_capacity, blocking, self.start_paused)?);
        let handle = Handle::new(core.shared().clone());
        Ok(Runtime { core, handle })
    }
}

impl Runtime {
    /// A runtime with the default settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::default().build()
    }

    /// Settings to build a runtime with.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A handle to this runtime, to spawn onto it from other threads.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the thread's current one until the guard drops,
    /// without running it: [`spawn`] queues tasks on it (they run at the
    /// next [`block_on`](Self::block_on)), and I/O objects made meanwhile
    /// register with it.
    ///
    /// ```
    /// let rt = ember::Runtime::new()?;
    /// let handle = {
    ///     let _guard = rt.enter();
    ///     ember::spawn(async { "queued while entered" })
    /// };
    /// assert_eq!(rt.block_on(handle).unwrap(), "queued while entered");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _swap: context::swap(&self.core),
            _runtime: std::marker::PhantomData,
        }
    }

    /// Spawns a task on this runtime. It runs when the runtime runs (inside
    /// [`block_on`](Self::block_on)).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future)
    }

    /// Runs `future` to completion on this thread, running the runtime's
    /// tasks meanwhile. Tasks still alive when it returns stay in the
    /// runtime and run again at the next `block_on`.
    ///
    /// A panic in `future` propagates out of `block_on`; a panic in a task
    /// is caught and reported through its [`JoinHandle`]; a panic in other
    /// user code the runtime calls (a waker it wakes, the destructor of an
    /// output nobody reads) is caught and reported in one line on stderr.
    ///
    /// # Panics
    /// If a runtime is already running on this thread, or if `epoll_wait`
    /// fails (which only happens if the epoll fd was closed behind ember's
    /// back).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let called_at = std::panic::Location::caller();
        let _enter = context::enter(&self.core);
        let _running = Running::new(&self.core.reactor);
        // A main future that panicked in an earlier call left its
        // announcement behind (see `Reactor::clear_current`).
        self.core.reactor.clear_current();
        // And a panic out of this one must not leave a budget behind for
        // whatever the thread polls next.
        let _unconstrained = coop::EndPollOnDrop;
        // Aborts made while the runtime was not running come first.
        self.core.drain_remote();
        let core = &self.core;
        let main = core.main_handle();
        let main_entry = main.entry();
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            let mut polls = 0;
            let mut pass = core.queued().max(POLLS_PER_IO_CHECK);
            while let Some(entry) = core.pop() {
                if entry.slot == MAIN_SLOT {
                    if entry != main_entry {
                        continue; // left over from an earlier `block_on`
                    }
                    main.unschedule();
                    core.reactor.set_current(entry, &waker);
                    let started = trace::poll_start();
                    coop::start_poll();
                    let poll = future.as_mut().poll(&mut cx);
                    coop::end_poll();
                    core.reactor.clear_current();
                    if let Some(started) = started {
                        trace::poll_end(waker::traced(entry), called_at, started, poll.is_ready());
                    }
                    if let Poll::Ready(output) = poll {
                        return output;
                    }
                } else {
                    core.run_task(entry);
                }
                polls += 1;
                // A look outside while tasks are still queued. (Once the
                // queue is empty the loop ends and looks anyway.)
                if polls >= pass && core.queued() > 0 {
                    polls = 0;
                    self.turn(false);
                    pass = core.queued().max(POLLS_PER_IO_CHECK);
                }
            }
            self.turn(true);
        }
    }

    fn turn(&self, may_block: bool) {
        if let Err(e) = self.core.turn(may_block) {
            panic!("ember: epoll_wait failed, the runtime cannot go on: {e}");
        }
    }
}

/// Returned by [`Runtime::enter`]: the runtime stays current until it
/// drops (then whatever was current before is again).
#[must_use = "the runtime is current only while the guard lives"]
pub struct EnterGuard<'a> {
    _swap: context::SwapGuard,
    _runtime: std::marker::PhantomData<&'a Runtime>,
}

impl std::fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// Tells the reactor its runtime runs, for as long as `block_on` does
/// (returning or unwinding): its sources may wait only then.
struct Running<'a>(&'a Reactor);

impl Running<'_> {
    fn new(reactor: &Reactor) -> Running<'_> {
        reactor.set_life(Life::Running);
        Running(reactor)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.set_life(Life::Idle);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Destructors that run now may spawn or create sockets: let them
        // find this runtime, even if another one runs on the thread.
        let _current = context::swap(&self.core);
        self.core.shutdown();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.core.alive())
            .finish()
    }
}

/// Runs `future` to completion on a new runtime, then drops the runtime and
/// every task still alive in it.
///
/// # Panics
/// If a runtime is already running on this thread (`.await` the future
/// instead), or if the runtime cannot be created (no fds left).
///
/// ```
/// let answer = ember::block_on(async { 42 });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    // A `match`, not `unwrap_or_else`: a panic inside a closure would
    // report the closure's line instead of the caller's.
    let rt = match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("ember::block_on could not create a runtime: {e}"),
    };
    rt.block_on(future)
}

/// Spawns a task on the current runtime and returns its [`JoinHandle`].
///
/// The future needs no `Send` bound: it stays on this thread.
///
/// # Panics
/// Outside an ember runtime.
///
/// ```
/// use std::rc::Rc;
/// ember::block_on(async {
///     let shared = Rc::new(5); // not Send, and that is fine
///     let s = shared.clone();
///     let h = ember::spawn(async move { *s + 1 });
///     assert_eq!(h.await.unwrap(), 6);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    current_core("ember::spawn").spawn(future)
}

/// The current runtime's core, for whatever needs the thread's runtime.
///
/// # Panics
/// Outside an ember runtime, at the caller's line: the public functions
/// that lead here are `#[track_caller]` too, and the panic is not inside a
/// closure (a closure would report its own line).
#[track_caller]
pub(crate) fn current_core(what: &str) -> Rc<Core> {
    match context::current() {
        Some(core) => core,
        None => panic!(
            "`{what}` called outside an ember runtime: call it from code running \
             inside `ember::block_on` (or `Runtime::block_on`)"
        ),
    }
}

/// The current runtime's reactor, for I/O constructors.
#[track_caller]
#[cfg(any(feature = "net", feature = "signal"))]
pub(crate) fn current_reactor() -> Rc<Reactor> {
    current_core("an ember I/O constructor").reactor.clone()
}

/// The id of the task (or `block_on` future) being polled on this thread,
/// if any.
pub(crate) fn current_task_id() -> Option<u64> {
    context::current().and_then(|core| core.reactor.current_task().map(|t| t.id))
}
