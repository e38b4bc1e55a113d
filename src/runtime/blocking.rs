//! The blocking pool: a few helper threads for work that would block the
//! loop (`spawn_blocking`), and the path by which their results come back.
//!
//! Called by [`spawn_blocking`] and, through it, by `net::resolve` for name
//! lookups. Each runtime owns one [`Pool`] (in its `Core`); the threads
//! start on demand, up to `Builder::blocking_threads`, and retire after
//! [`BLOCKING_KEEP_ALIVE`] without work. Relies on wakers being `Send +
//! Sync`: a finished job wakes its task from the pool thread, through the
//! runtime's remote queue and eventfd, like any other remote wake.
//!
//! # How a job travels
//!
//! ```text
//! loop thread                               pool thread
//! -----------                               -----------
//! spawn_blocking(f)
//!   slot = Arc<Mutex<Slot>>  (Waiting)
//!   pool.submit(job) ---- queue + condvar ---> job: r = catch_unwind(f)
//!   spawn(Wait { slot })                          lock slot, store r (Done),
//!     poll: Waiting -> store waker, Pending        take the waker, unlock,
//!                                                 waker.wake()  (remote wake)
//!     poll: Done(Ok(r))  -> Ready(r)
//!           Done(Err(p)) -> resume_unwind(p)
//! ```
//!
//! The `JoinHandle` the user gets is that of an ordinary local task, so
//! `abort`, `is_finished`, detaching and `JoinError` behave exactly as for
//! `spawn`. A panic inside `f` is caught on the pool thread and re-raised
//! inside the task with `resume_unwind`, which does not run the panic hook
//! again (the message was printed once, on the pool thread); the executor's
//! `catch_unwind` turns it into `JoinError::panic` with the original payload.
//! This reuses the one place that builds task errors instead of adding a
//! second kind of task.
//!
//! # Thread accounting
//! Under the pool's mutex: `threads` is how many workers exist, `idle` how
//! many are waiting on the condvar (counted from before they wait until
//! after they wake), `queue` the jobs nobody has taken. Each idle worker
//! takes at most one queued job when it wakes, so a new thread is needed
//! exactly when `queue.len() > idle`, and `threads < max_threads` allows it.
//!
//! # Shutdown
//! Dropping the runtime shuts its pool: jobs still queued are dropped
//! without running (their tasks are gone already), except the *mandatory*
//! ones (`spawn_mandatory_blocking`, used for `fs::File`'s writes, whose
//! callers were already told `Ok`), which the workers run before they
//! exit; idle workers are woken and exit, and a job that is running goes
//! on to completion on its thread; its result is then dropped (on that
//! thread) and the thread exits. The
//! runtime does not wait for it: a job may block forever, and a process
//! exits when `main` returns whatever its other threads are doing.
//!
//! Production note: tokio's blocking pool is the same shape (a mutex, a
//! condvar, threads spawned on demand up to 512 by default, a 10 s keep-alive)
//! but shared by every worker of a runtime, and its `Runtime::drop` waits for
//! idle threads (`shutdown_timeout` bounds the wait for busy ones). ember
//! waits for none.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::join::JoinHandle;

/// How long a pool thread waits for work before it exits (the default of
/// [`Builder::blocking_keep_alive`](crate::Builder::blocking_keep_alive)).
pub const BLOCKING_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The name pool threads carry (visible in `top -H`, `/proc/PID/task/*/comm`
/// and panic messages).
const THREAD_NAME: &str = "ember-blocking";

/// Runs `f` on the current runtime's blocking pool and returns a handle to
/// its result.
///
/// Use it for work that would otherwise stop the loop: a blocking system
/// call, a synchronous library, a long computation. The loop goes on
/// running other tasks meanwhile; when `f` returns, its thread wakes the
/// loop (through the same eventfd as any wake from another thread) and the
/// handle completes.
///
/// - A panic inside `f` makes the handle give `Err(e)` with
///   [`e.is_panic()`](crate::task::JoinError::is_panic); the payload is the
///   one `f` panicked with.
/// - The pool starts threads on demand, up to
///   [`Builder::blocking_threads`](crate::Builder::blocking_threads)
///   (8 by default); more jobs than that wait in a queue, in order. A thread
///   without work for [`BLOCKING_KEEP_ALIVE`] exits.
/// - `f` cannot be cancelled once it has started: [`abort`](JoinHandle::abort)
///   and dropping the handle only mean that its result will be dropped.
/// - When the runtime is dropped, jobs not yet started are dropped without
///   running; a job that is running runs to completion on its thread, and
///   its result is dropped there.
/// - If no thread can be started at all (the process hit its thread limit),
///   the handle gives a `JoinError` whose payload says so.
///
/// # Panics
/// Outside an ember runtime.
///
/// ```
/// ember::block_on(async {
///     let digest = ember::spawn_blocking(|| {
///         // Pretend this is a slow, synchronous hash of a big file.
///         (1..=1000u64).sum::<u64>()
///     });
///     assert_eq!(digest.await.unwrap(), 500_500);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    submit(f, Mandatory::No)
}

/// As [`spawn_blocking`], but the job runs even if the runtime is dropped
/// before it started (see "Shutdown" in the module docs). For the writes
/// of `fs::File`, whose caller was told `Ok` before the bytes reached the
/// file, as tokio's `spawn_mandatory_blocking`.
#[cfg(feature = "fs")]
#[track_caller]
pub(crate) fn spawn_mandatory_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    submit(f, Mandatory::Yes)
}

/// Whether a job not yet started survives the pool's shutdown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mandatory {
    /// Dropped with the queue (every `spawn_blocking` job).
    No,
    /// Kept in the queue and run by the exiting threads.
    #[cfg_attr(not(feature = "fs"), allow(dead_code))]
    Yes,
}

#[track_caller]
fn submit<F, R>(f: F, mandatory: Mandatory) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let core = super::current_core("ember::spawn_blocking");
    let slot = Arc::new(Mutex::new(Slot::Waiting(None)));
    let filler = Filler {
        slot: slot.clone(),
        filled: false,
    };
    let job: Job = Box::new(move |start| match start {
        Ok(()) => filler.fill(catch_unwind(AssertUnwindSafe(f))),
        Err(why) => filler.fill(Err(Box::new(why))),
    });
    core.blocking.submit(Queued { job, mandatory });
    core.spawn(Wait { slot })
}

/// A queued job. Called with `Ok(())` to run it on a pool thread, or with
/// the reason it will never run. Dropping it uncalled marks its slot
/// [`Slot::Lost`].
type Job = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A job in the pool's queue, and whether it must run even after the
/// pool shuts.
struct Queued {
    job: Job,
    mandatory: Mandatory,
}

/// Where a job's result waits for its task.
enum Slot<R> {
    /// Not done; the task's waker, once it has polled.
    Waiting(Option<Waker>),
    /// Done: `f`'s value, or its panic.
    Done(std::thread::Result<R>),
    /// The job was dropped without running (its runtime shut down).
    Lost,
    /// The task has taken the result.
    Taken,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section here is a few assignments that cannot panic
    // halfway, so a poisoned lock still guards consistent data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The pool thread's side of a slot. Fills it exactly once: with the job's
/// result, or, if dropped unused, with [`Slot::Lost`].
struct Filler<R> {
    slot: Arc<Mutex<Slot<R>>>,
    filled: bool,
}

impl<R> Filler<R> {
    fn fill(mut self, result: std::thread::Result<R>) {
        self.filled = true;
        self.set(Slot::Done(result));
    }

    fn set(&self, value: Slot<R>) {
        let waker = {
            let mut slot = lock(&self.slot);
            // The slot is `Waiting` until this, the one `set` of a job.
            match std::mem::replace(&mut *slot, value) {
                Slot::Waiting(waker) => waker,
                _ => None,
            }
        };
        // Woken with the lock released (no lock is held across a wake).
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<R> Drop for Filler<R> {
    fn drop(&mut self) {
        if !self.filled {
            self.set(Slot::Lost);
        }
    }
}

/// The local task's future: waits for the slot to fill.
///
/// # Cancel safety
/// Dropping it (an abort, or the runtime's shutdown) does not stop the job;
/// the job's result is dropped on the pool thread when it is done.
struct Wait<R> {
    slot: Arc<Mutex<Slot<R>>>,
}

impl<R> Drop for Wait<R> {
    fn drop(&mut self) {
        // Forget the task's waker, so a job that finishes after an abort
        // does not ring the loop for a task that is gone. The old waker is
        // dropped after the lock is released.
        let old = {
            let mut slot = lock(&self.slot);
            match &mut *slot {
                Slot::Waiting(w) => w.take(),
                _ => None,
            }
        };
        drop(old);
    }
}

impl<R> Future for Wait<R> {
    type Output = R;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        let mut slot = lock(&self.slot);
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Waiting(old) => {
                let waker = match old {
                    Some(w) if w.will_wake(cx.waker()) => w,
                    _ => cx.waker().clone(),
                };
                *slot = Slot::Waiting(Some(waker));
                Poll::Pending
            }
            Slot::Done(Ok(value)) => Poll::Ready(value),
            Slot::Done(Err(payload)) => {
                drop(slot);
                // Hand the job's panic to the executor, which reports it
                // as this task's `JoinError` (see the module docs).
                resume_unwind(payload)
            }
            Slot::Lost => {
                drop(slot);
                panic!("ember::spawn_blocking: the job was dropped before it ran");
            }
            Slot::Taken => panic!("a blocking task was polled after it completed"),
        }
    }
}

/// A runtime's blocking pool.
pub(crate) struct Pool {
    shared: Arc<PoolShared>,
}

struct PoolShared {
    state: Mutex<PoolState>,
    /// Signalled when a job is queued (one waiter) or at shutdown (all).
    work: Condvar,
    max_threads: usize,
    keep_alive: Duration,
}

struct PoolState {
    /// Jobs no thread has taken yet, in submission order.
    queue: VecDeque<Queued>,
    /// Worker threads alive.
    threads: usize,
    /// Of those, how many wait on the condvar (see the module docs).
    idle: usize,
    /// Jobs taken from the queue and not finished yet (their results are
    /// delivered, and their wakers woken, before this count drops).
    running: usize,
    /// The runtime is gone: run nothing new, exit when idle.
    shut: bool,
}

impl Pool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration) -> Pool {
        Pool {
            shared: Arc::new(PoolShared {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    running: 0,
                    shut: false,
                }),
                work: Condvar::new(),
                max_threads: max_threads.max(1),
                keep_alive,
            }),
        }
    }

    /// Queues `job`, waking an idle thread or starting a new one if the
    /// idle ones do not cover the queue.
    fn submit(&self, queued: Queued) {
        let mut state = lock(&self.shared.state);
        if state.shut {
            drop(state);
            drop_quietly(queued.job);
            return;
        }
        state.queue.push_back(queued);
        if state.idle > 0 {
            self.shared.work.notify_one();
        }
        if state.queue.len() <= state.idle || state.threads >= self.shared.max_threads {
            return;
        }
        state.threads += 1;
        drop(state);
        if let Err(e) = self.start_thread() {
            self.thread_failed(e);
        }
    }

    fn start_thread(&self) -> io::Result<()> {
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name(THREAD_NAME.to_string())
            .spawn(move || shared.work())
            .map(drop)
    }

    /// A thread counted in `threads` could not start. If no thread is left
    /// to run the queue, every queued job fails with the reason.
    fn thread_failed(&self, e: io::Error) {
        let failed: Vec<Job> = {
            let mut state = lock(&self.shared.state);
            state.threads -= 1;
            if state.threads > 0 {
                return; // the running threads will get to the queue
            }
            state.queue.drain(..).map(|queued| queued.job).collect()
        };
        for job in failed {
            let why = format!("ember::spawn_blocking: could not start a blocking thread: {e}");
            // Drops the job's captures (user values).
            crate::contain::call(
                "the drop of a blocking job that could not start",
                move || job(Err(why)),
            );
        }
    }

    /// Whether a job is queued or running. A paused clock does not skip
    /// ahead meanwhile (see `time::clock`): the job's result is what the
    /// runtime waits for, however long it takes in real time. A job's
    /// wake happens before it stops counting, so a `false` here means any
    /// wake from a finished job is already in the remote queue.
    pub(crate) fn busy(&self) -> bool {
        let state = lock(&self.shared.state);
        !state.queue.is_empty() || state.running > 0
    }

    /// Stops the pool: drops the jobs not started, except the mandatory
    /// ones, and wakes the idle threads so they run those and exit. Running
    /// jobs finish on their threads. Idempotent.
    pub(crate) fn shutdown(&self) {
        let queued: Vec<Job> = {
            let mut state = lock(&self.shared.state);
            state.shut = true;
            let (keep, dropped) = std::mem::take(&mut state.queue)
                .into_iter()
                .partition(|queued| queued.mandatory == Mandatory::Yes);
            state.queue = keep;
            dropped.into_iter().map(|queued| queued.job).collect()
        };
        self.shared.work.notify_all();
        // Outside the lock: the jobs' captures run user destructors.
        for job in queued {
            drop_quietly(job);
        }
    }
}

/// Drops a job that will not run. Its captures are user values whose
/// destructors could panic; nobody could catch that usefully here (this runs
/// inside `Runtime::drop`), so it is contained, as for a detached task's
/// output.
fn drop_quietly(job: Job) {
    crate::contain::call("the drop of a blocking job that will not run", move || {
        drop(job)
    });
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl PoolShared {
    /// A worker thread's life: take jobs until the pool shuts, or until
    /// `keep_alive` passes with nothing to do.
    fn work(&self) {
        let mut state = lock(&self.state);
        loop {
            // Before looking at `shut`: what is left in the queue after a
            // shutdown is mandatory, and runs.
            if let Some(Queued { job, .. }) = state.queue.pop_front() {
                state.running += 1;
                drop(state);
                // The job catches `f`'s panic itself; what is left is a
                // panicking destructor of a result nobody claimed, which
                // must not kill the thread without it being counted out.
                crate::contain::call("the drop of a blocking job's unclaimed result", move || {
                    job(Ok(()))
                });
                state = lock(&self.state);
                state.running -= 1;
                continue;
            }
            if state.shut {
                break;
            }
            state.idle += 1;
            let (guard, wait) = self
                .work
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|e| e.into_inner());
            state = guard;
            state.idle -= 1;
            if wait.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Pool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .finish()
    }
}
