//! `JoinHandle` and `JoinError`: the user's side of a spawned task.
//!
//! Returned by `spawn`; relies on the task cell's flags (`task.rs`) to read
//! the output only once the task is complete, and on `contain` for the
//! user values its drop disposes of (the output, the waiter's waker).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use super::handle::Slot;
use super::id::Id;
use super::task::{HasHeader, Header, JoinTarget, Payload, ABORT, COMPLETE, DETACHED, RUNNING};

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
    inner: Inner<T>,
}

enum Inner<T> {
    /// A task of this thread's runtime: the task cell itself.
    Local(Rc<dyn JoinTarget<T>>),
    /// A task spawned from another thread (`Handle::spawn`) or before any
    /// runtime ran (`LocalSet`): the slot its wrapper reports to.
    Remote(Arc<Slot<T>>, PhantomData<Rc<()>>),
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: Rc<dyn JoinTarget<T>>) -> JoinHandle<T> {
        JoinHandle {
            inner: Inner::Local(task),
        }
    }

    pub(crate) fn remote(slot: Arc<Slot<T>>) -> JoinHandle<T> {
        JoinHandle {
            inner: Inner::Remote(slot, PhantomData),
        }
    }

    /// Cancels the task. Its future is dropped at the latest before the
    /// loop polls anything else (if the runtime is not running now, as
    /// soon as it runs again), and awaiting this handle gives an error for
    /// which [`JoinError::is_cancelled`] is true. Aborting a task that has
    /// already completed does nothing: its output is kept.
    pub fn abort(&self) {
        match &self.inner {
            Inner::Local(task) => abort_local(task.header()),
            Inner::Remote(slot, _) => slot.abort(),
        }
    }

    /// Whether the task has completed (returned, panicked or been dropped
    /// after an abort). Never blocks.
    pub fn is_finished(&self) -> bool {
        match &self.inner {
            Inner::Local(task) => task.header().is(COMPLETE),
            Inner::Remote(slot, _) => slot.is_finished(),
        }
    }

    /// The task's id, unique in the process.
    pub fn id(&self) -> Id {
        Id::from_raw(match &self.inner {
            Inner::Local(task) => task.header().id(),
            Inner::Remote(slot, _) => slot.id(),
        })
    }

    /// A handle that can abort the task but not await it; it does not
    /// detach the task when dropped.
    pub fn abort_handle(&self) -> AbortHandle
    where
        T: 'static,
    {
        AbortHandle {
            inner: match &self.inner {
                Inner::Local(task) => AbortInner::Local(task.clone()),
                Inner::Remote(slot, _) => AbortInner::Remote(slot.clone()),
            },
        }
    }
}

/// Sets the abort flag and puts the task first in line, so the executor
/// drops its future instead of polling it.
fn abort_local(h: &Header) {
    if h.is(COMPLETE | ABORT) {
        return;
    }
    h.set(ABORT);
    if !h.is(RUNNING) {
        // A duplicate queue entry is harmless (see `Core::run_task`).
        let entry = h.handle.entry();
        if !super::context::schedule_local(&h.handle.shared, entry, true) {
            // Its runtime is not running now: the abort waits at the
            // front of the line for the next `block_on`.
            h.handle.shared.schedule_abort(entry);
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = match &self.inner {
            Inner::Local(task) => task,
            Inner::Remote(slot, _) => {
                std::task::ready!(super::coop::poll_proceed(cx));
                let poll = slot.poll_join(cx);
                if poll.is_pending() {
                    super::coop::refund();
                }
                return poll;
            }
        };
        let h = task.header();
        if !h.is(COMPLETE) {
            h.set_join_waker(cx.waker());
            return Poll::Pending;
        }
        // A completed handle costs a unit of the cooperative budget, as in
        // tokio (a loop over finished handles must yield too).
        std::task::ready!(super::coop::poll_proceed(cx));
        match task.take_output() {
            Some(output) => Poll::Ready(output),
            None => panic!("`JoinHandle` polled again after it returned its output"),
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let task = match &self.inner {
            Inner::Local(task) => task,
            Inner::Remote(slot, _) => return slot.detach(),
        };
        let h = task.header();
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
            let output = task.take_output();
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

/// Aborts a task without owning its output: tokio's `AbortHandle`. Made by
/// [`JoinHandle::abort_handle`]; dropping it does nothing to the task.
///
/// `!Send`, like the task it points at.
///
/// ```
/// ember::block_on(async {
///     let handle = ember::spawn(std::future::pending::<()>());
///     let abort = handle.abort_handle();
///     abort.abort();
///     assert!(handle.await.unwrap_err().is_cancelled());
///     assert!(abort.is_finished());
/// });
/// ```
#[derive(Clone)]
pub struct AbortHandle {
    inner: AbortInner,
}

#[derive(Clone)]
enum AbortInner {
    Local(Rc<dyn HasHeader>),
    Remote(Arc<dyn RemoteAbort>),
}

/// What an `AbortHandle` needs of a remote task's slot, whatever its
/// output's type.
pub(crate) trait RemoteAbort {
    fn abort(&self);
    fn is_finished(&self) -> bool;
    fn id(&self) -> u64;
}

impl<T> RemoteAbort for Slot<T> {
    fn abort(&self) {
        Slot::abort(self)
    }
    fn is_finished(&self) -> bool {
        Slot::is_finished(self)
    }
    fn id(&self) -> u64 {
        Slot::id(self)
    }
}

impl AbortHandle {
    /// Cancels the task, as [`JoinHandle::abort`] does.
    pub fn abort(&self) {
        match &self.inner {
            AbortInner::Local(task) => abort_local(task.header()),
            AbortInner::Remote(slot) => slot.abort(),
        }
    }

    /// Whether the task has completed (returned, panicked or been dropped
    /// after an abort).
    pub fn is_finished(&self) -> bool {
        match &self.inner {
            AbortInner::Local(task) => task.header().is(COMPLETE),
            AbortInner::Remote(slot) => slot.is_finished(),
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id::from_raw(match &self.inner {
            AbortInner::Local(task) => task.header().id(),
            AbortInner::Remote(slot) => slot.id(),
        })
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
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
    pub fn id(&self) -> Id {
        Id::from_raw(self.id)
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
