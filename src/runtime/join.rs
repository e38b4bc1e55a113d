//! `JoinHandle` and `JoinError`: the user's side of a spawned task.
//!
//! Returned by `spawn`; relies on the task cell's flags (`task.rs`) to read
//! the output only once the task is complete, and on `contain` for the
//! user values its drop disposes of (the output, the waiter's waker).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::{Context, Poll};

use super::task::{JoinTarget, Payload, ABORT, COMPLETE, DETACHED, RUNNING};

/// An owned permission to await a spawned task's output, or to cancel it.
///
/// Awaiting it gives `Ok(output)`, or `Err(e)` if the task panicked
/// ([`JoinError::is_panic`]) or was aborted ([`JoinError::is_cancelled`]).
/// Dropping it *detaches* the task: the task runs on, and its output is
/// dropped when it completes (or at once, if it has). A panic in the
/// output's destructor is caught and reported on stderr, wherever it runs.
///
/// `JoinHandle` is `!Send`: tasks live on the thread of their runtime.
///
/// # Cancel safety
/// Dropping the future of `handle.await` midway loses nothing: the handle is
/// moved into the `.await`, so the task is detached, exactly as if the handle
/// had been dropped.
///
/// ```
/// let v = ember::block_on(async {
///     let handle = ember::spawn(async { 6 * 7 });
///     handle.await.unwrap()
/// });
/// assert_eq!(v, 42);
/// ```
pub struct JoinHandle<T> {
    // The `Rc` makes the handle `!Send`, as it must be.
    task: Rc<dyn JoinTarget<T>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: Rc<dyn JoinTarget<T>>) -> JoinHandle<T> {
        JoinHandle { task }
    }

    /// Cancels the task. Its future is dropped at the latest before the
    /// loop polls anything else (at once, if the runtime is not running
    /// it now, as soon as it runs again), and awaiting this handle gives an
    /// error for which [`JoinError::is_cancelled`] is true. Aborting a task
    /// that has already completed does nothing: its output is kept.
    pub fn abort(&self) {
        let h = self.task.header();
        if h.is(COMPLETE | ABORT) {
            return;
        }
        h.set(ABORT);
        if !h.is(RUNNING) {
            // Put it first in line; the executor drops the future instead of
            // polling it. A duplicate queue entry is harmless (see `Core::run_task`).
            let entry = h.handle.entry();
            if !super::context::schedule_local(&h.handle.shared, entry, true) {
                // Its runtime is not running now: the abort waits at the
                // front of the line for the next `block_on`.
                h.handle.shared.schedule_abort(entry);
            }
        }
    }

    /// Whether the task has completed (returned, panicked or been dropped
    /// after an abort). Never blocks.
    pub fn is_finished(&self) -> bool {
        self.task.header().is(COMPLETE)
    }

    /// The task's id, unique within its runtime.
    pub fn id(&self) -> u64 {
        self.task.header().id()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let h = self.task.header();
        if !h.is(COMPLETE) {
            h.set_join_waker(cx.waker());
            return Poll::Pending;
        }
        // A completed handle costs a unit of the cooperative budget, as in
        // tokio (a loop over finished handles must yield too).
        std::task::ready!(super::coop::poll_proceed(cx));
        match self.task.take_output() {
            Some(output) => Poll::Ready(output),
            None => panic!("`JoinHandle` polled again after it returned its output"),
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let h = self.task.header();
        h.set(DETACHED);
        // The waker and the output are user values. A panic in their
        // destructors is contained, as for a detached task's output
        // (`Task::drop_output`): this drop may run while a task unwinds, or
        // in the runtime's teardown, where a second panic would abort.
        if let Some(waker) = h.take_join_waker() {
            crate::contain::call("the drop of a `JoinHandle`'s waker", move || drop(waker));
        }
        if h.is(COMPLETE) {
            // The output is ours to drop: nobody else will read it.
            let output = self.task.take_output();
            crate::contain::call("the drop of a task's output", move || drop(output));
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Why a task produced no output: it panicked, or it was aborted.
pub struct JoinError {
    id: u64,
    repr: Repr,
}

enum Repr {
    Cancelled,
    // The mutex makes the error `Sync` (payloads are only `Send`). Boxed
    // so that the error is two words: it sits in every task's cell (the
    // stage that will hold the output), and panics are rare.
    Panic(Box<Mutex<Payload>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: u64) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: u64, payload: Payload) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(Box::new(Mutex::new(payload))),
        }
    }

    /// The task was aborted (or its runtime shut down) before it completed.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic's payload, to inspect or to resume with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    /// If the task was cancelled rather than panicking; see
    /// [`try_into_panic`](Self::try_into_panic).
    #[track_caller]
    pub fn into_panic(self) -> Payload {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(_) => panic!("`JoinError::into_panic` called on a cancelled task"),
        }
    }

    /// The panic's payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Payload, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.into_inner().unwrap_or_else(|e| e.into_inner())),
            Repr::Cancelled => Err(self),
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> u64 {
        self.id
    }

    fn panic_message(&self) -> Option<String> {
        let Repr::Panic(p) = &self.repr else {
            return None;
        };
        let p = p.lock().unwrap_or_else(|e| e.into_inner());
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned());
        Some(msg.unwrap_or_else(|| "a non-string payload".to_string()))
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.panic_message() {
            None => write!(f, "task {} was cancelled", self.id),
            Some(msg) => write!(f, "task {} panicked: {msg}", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.panic_message() {
            None => write!(f, "JoinError::Cancelled({})", self.id),
            Some(msg) => write!(f, "JoinError::Panic({}, {msg:?})", self.id),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e)
    }
}
