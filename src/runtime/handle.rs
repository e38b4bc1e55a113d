//! `Handle`: a way into a runtime from anywhere, and the task that a
//! future sent from another thread becomes.
//!
//! A [`Handle`] is the runtime's cross-thread side (`waker::Shared`, the
//! remote queue and its eventfd) and nothing else, so it is `Send + Sync`
//! and outlives the runtime harmlessly. [`Handle::spawn`] from the loop's
//! own thread is a plain spawn. From another thread the future is boxed
//! with a closure that spawns it, pushed on the remote queue under its
//! mutex, and the loop is woken if it sleeps; the loop turns it into a task
//! when it drains the queue (`Core::drain_remote`).
//!
//! The caller gets its `JoinHandle` at once, before the task exists, so
//! that handle does not point at a task cell (which lives on the loop's
//! thread and is `!Send`): it shares a [`Slot`] with the [`Remote`] future
//! that wraps the user's. The wrapper writes the output (or the panic, or
//! the cancellation) into the slot and wakes whoever awaits it; the handle
//! aborts through the slot. `LocalSet` uses the same pair for tasks it is
//! given before any runtime runs.
//!
//! | slot field | set by | read by |
//! | --- | --- | --- |
//! | `output` | the wrapper, once (value, panic, or cancelled) | the handle |
//! | `done` | the wrapper, with `output` | the handle (`is_finished`, poll) |
//! | `abort` | the handle (`abort`) | the wrapper, at each poll |
//! | `detached` | the handle's drop | the wrapper: drop the output itself |
//! | `joiner` | the handle's poll | the wrapper, on completion |
//! | `task` | the wrapper's poll | the handle's `abort`, to wake it |

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::join::{JoinError, JoinHandle};
use super::waker::Shared;

/// A handle to a runtime: spawn onto its loop from any thread.
///
/// Got from [`Runtime::handle`](super::Runtime::handle) or
/// [`Handle::current`]. It is `Send + Sync` and cheap to clone; it does not
/// keep the runtime alive (spawning after the runtime is gone gives a
/// handle whose task is cancelled).
///
/// ```
/// use std::sync::mpsc;
///
/// let rt = ember::Runtime::new()?;
/// let handle = rt.handle().clone();
/// let (tx, rx) = mpsc::channel();
/// let thread = std::thread::spawn(move || {
///     // Runs on the loop's thread, whenever the loop runs.
///     drop(handle.spawn(async move { tx.send(6 * 7).unwrap() }));
/// });
/// thread.join().unwrap();
/// rt.block_on(ember::task::yield_now()); // the loop takes the spawn
/// assert_eq!(rx.recv().unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    /// Outside an ember runtime; see [`try_current`](Self::try_current).
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(_) => panic!(
                "`Handle::current` called outside an ember runtime: call it from code \
                 running inside `ember::block_on` (or after `Runtime::enter`)"
            ),
        }
    }

    /// The handle of the runtime running on this thread, if any.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        match super::context::current() {
            Some(core) => Ok(Handle::new(core.shared().clone())),
            None => Err(TryCurrentError(())),
        }
    }

    /// Spawns `future` onto the runtime's loop, from any thread, and
    /// returns its [`JoinHandle`]. The loop is woken if it sleeps. On the
    /// loop's own thread this is [`ember::spawn`](crate::spawn).
    ///
    /// The returned handle stays on the thread that called `spawn` (like
    /// every ember `JoinHandle` it is `!Send`, where tokio's is `Send`): it
    /// can be awaited there by any executor, since the loop wakes it
    /// through its `Waker`, aborted, or dropped to detach the task. To get
    /// a result elsewhere, send it from the task through a channel.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if let Some(core) = super::context::current() {
            if Arc::ptr_eq(core.shared(), &self.shared) {
                return core.spawn(future);
            }
        }
        let (remote, handle) = Remote::new(future);
        let spawn = Box::new(move |core: &super::core::Core| remote.spawn_on(core));
        // A runtime that is gone gives the spawn back: dropping it drops
        // the wrapper, which reports the task cancelled.
        if let Err(spawn) = self.shared.schedule_spawn(spawn) {
            drop(spawn);
        }
        handle
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// [`Handle::try_current`] found no runtime on this thread.
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no ember runtime is running on this thread")
    }
}

impl std::error::Error for TryCurrentError {}

/// What a remote task and its `JoinHandle` share.
pub(crate) struct Slot<T> {
    id: u64,
    state: Mutex<SlotState<T>>,
}

struct SlotState<T> {
    output: Option<Result<T, JoinError>>,
    done: bool,
    abort: bool,
    detached: bool,
    joiner: Option<Waker>,
    task: Option<Waker>,
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, SlotState<T>> {
        // Only plain stores happen under this lock (no user code), so a
        // poisoned lock still holds a consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The handle's `abort`: the wrapper drops the future at its next poll,
    /// which this wake brings.
    pub(crate) fn abort(&self) {
        let mut state = self.lock();
        if state.done || state.abort {
            return;
        }
        state.abort = true;
        let task = state.task.take();
        drop(state);
        if let Some(waker) = task {
            crate::contain::wake(waker);
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.lock().done
    }

    /// The handle's poll.
    pub(crate) fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        let mut state = self.lock();
        if !state.done {
            match &state.joiner {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => state.joiner = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        match state.output.take() {
            Some(output) => Poll::Ready(output),
            None => panic!("`JoinHandle` polled again after it returned its output"),
        }
    }

    /// The handle's drop: nobody will read the output.
    pub(crate) fn detach(&self) {
        let mut state = self.lock();
        state.detached = true;
        let output = state.output.take();
        let joiner = state.joiner.take();
        drop(state);
        crate::contain::call("the drop of a task's output", move || {
            drop((output, joiner))
        });
    }

    /// The wrapper's end: stores `output` and wakes the joiner (or drops
    /// the output, if nobody will read it), with the lock released.
    fn finish(&self, output: Result<T, JoinError>) {
        let mut state = self.lock();
        state.done = true;
        state.task = None;
        let (keep, joiner) = if state.detached {
            (Some(output), None)
        } else {
            state.output = Some(output);
            (None, state.joiner.take())
        };
        drop(state);
        crate::contain::call("the drop of a task's output", move || drop(keep));
        if let Some(waker) = joiner {
            crate::contain::wake(waker);
        }
    }
}

/// The future a remote (or deferred) spawn runs as a task: the user's
/// future, polled inside a `catch_unwind`, and the slot it reports to.
pub(crate) struct Remote<F: Future> {
    future: Option<Pin<Box<F>>>,
    slot: Arc<Slot<F::Output>>,
}

impl<F: Future + 'static> Remote<F> {
    /// The wrapper for `future` and the `JoinHandle` that reads its slot.
    pub(crate) fn new(future: F) -> (Remote<F>, JoinHandle<F::Output>) {
        let slot = Arc::new(Slot {
            id: super::id::next(),
            state: Mutex::new(SlotState {
                output: None,
                done: false,
                abort: false,
                detached: false,
                joiner: None,
                task: None,
            }),
        });
        let handle = JoinHandle::remote(slot.clone());
        let remote = Remote {
            future: Some(Box::pin(future)),
            slot,
        };
        (remote, handle)
    }

    /// Makes it a task of `core`, under the id its handle already shows.
    pub(crate) fn spawn_on(self, core: &super::core::Core) {
        let id = self.slot.id;
        // Detached: the slot carries the output.
        drop(core.spawn_with_id(self, id));
    }

    /// Makes it a task of the thread's current runtime (a `LocalSet`'s
    /// task given before any runtime ran, started when the set runs).
    #[track_caller]
    pub(crate) fn spawn_here(self) {
        let core = super::current_core("a `LocalSet` task");
        self.spawn_on(&core);
    }

    /// Drops the user's future (contained: it is user code), then reports
    /// `output`.
    fn end(&mut self, output: Result<F::Output, JoinError>) {
        let future = self.future.take();
        let dropped = catch_unwind(AssertUnwindSafe(move || drop(future)));
        let output = match dropped {
            Ok(()) => output,
            Err(payload) => {
                crate::contain::call("the drop of a task's output", move || drop(output));
                Err(JoinError::panic(self.slot.id, payload))
            }
        };
        self.slot.finish(output);
    }
}

impl<F: Future + 'static> Future for Remote<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // `Remote` is `Unpin` (the user's future is boxed).
        let this = &mut *self;
        {
            let mut state = this.slot.lock();
            if state.abort {
                drop(state);
                this.end(Err(JoinError::cancelled(this.slot.id)));
                return Poll::Ready(());
            }
            match &state.task {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => state.task = Some(cx.waker().clone()),
            }
        }
        let Some(future) = this.future.as_mut() else {
            return Poll::Ready(());
        };
        let output = match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(JoinError::panic(this.slot.id, payload)),
        };
        this.end(output);
        Poll::Ready(())
    }
}

impl<F: Future> Drop for Remote<F> {
    fn drop(&mut self) {
        if self.future.is_some() {
            // Dropped before it ended: aborted, or its runtime shut down.
            let future = self.future.take();
            crate::contain::call("the drop of a task's future", move || drop(future));
            self.slot.finish(Err(JoinError::cancelled(self.slot.id)));
        }
    }
}

/// Keeps `Handle` honest: it must stay `Send + Sync`.
const _: () = {
    fn assert_send_sync<T: Send + Sync>() {}
    let _ = assert_send_sync::<Handle>;
};
