//! `JoinSet`: a group of tasks whose outputs come back in the order the
//! tasks complete.
//!
//! Built on the runtime's `spawn` and `JoinHandle`; it adds no state to the
//! task cell. Each task's future is wrapped in a [`Tracked`] future holding
//! a [`Done`] guard. The guard's destructor runs when the task's future is
//! dropped, which the executor does exactly once per task: right after it
//! returns `Ready`, after it panics, or when it is aborted (or its runtime
//! shuts down). The destructor appends the task's key to the set's
//! `finished` list and wakes whoever waits in `join_next`. So `join_next`
//! pops one key and reads one handle: O(1) per completion, whatever the
//! number of tasks, and no per-task waker.
//!
//! # Invariant: a finished key names a completed task
//! The guard runs while the executor drops the future, before it stores
//! the output and marks the task complete. The wake it makes only queues
//! the waiting task; the loop polls it after the dropping task's turn ends,
//! by which time the output is stored. (`join_next` still checks, and
//! waits on the handle if it ever finds the task incomplete.)
//!
//! Keys are slab slots, reused after a task is joined; each entry also
//! carries a sequence number, and a stale key (of a task detached by
//! `detach_all`, whose slot was reused) is skipped.
//!
//! Production note: tokio's `JoinSet` keeps its tasks in an intrusive list
//! with one waker per task, and its `spawn` returns an `AbortHandle`
//! (there is also `join_next_with_id`). ember's guard-in-the-future design
//! needs neither per-task wakers nor changes to the task cell; `spawn`
//! returns nothing for now, and a `JoinError` still carries the task's id.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;
use slab::Slab;

use crate::runtime::{current_core, AbortHandle, JoinError, JoinHandle};

/// A set of tasks, joined in the order they complete.
///
/// Dropping the set aborts every task still in it.
///
/// ```
/// use std::time::Duration;
/// use ember::task::JoinSet;
///
/// ember::block_on(async {
///     let mut set = JoinSet::new();
///     for ms in [30, 10, 20] {
///         set.spawn(async move {
///             ember::time::sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(result) = set.join_next().await {
///         order.push(result.unwrap());
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub struct JoinSet<T> {
    /// Tasks not yet joined, by key.
    tasks: Slab<Member<T>>,
    /// Shared with every task's `Done` guard.
    finished: Rc<Finished>,
    /// Sequence number of the next task.
    next_seq: u64,
}

struct Member<T> {
    seq: u64,
    handle: JoinHandle<T>,
}

/// What the tasks' guards report into.
#[derive(Default)]
struct Finished {
    /// `(key, seq)` of each task whose future is gone, in that order.
    /// Borrowed only for one push or pop.
    keys: RefCell<VecDeque<(usize, u64)>>,
    /// The task waiting in `join_next`, if any.
    waker: Cell<Option<Waker>>,
}

pin_project! {
    /// A member's future and its guard. Fields drop in order: the future
    /// first, then the guard, so the key is reported once the future and
    /// everything it owned are gone.
    struct Tracked<F> {
        #[pin]
        future: F,
        done: Done,
    }
}

/// Reports its task's key when dropped.
struct Done {
    finished: Rc<Finished>,
    key: usize,
    seq: u64,
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().future.poll(cx)
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        self.finished
            .keys
            .borrow_mut()
            .push_back((self.key, self.seq));
        // Only wake if somebody waits; the borrow above has ended. The
        // waker is whoever polls `join_next`: a panic in it is contained,
        // or it would replace the output of the task being dropped.
        if let Some(w) = self.finished.waker.take() {
            crate::contain::wake(w);
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            tasks: Slab::new(),
            finished: Rc::new(Finished::default()),
            next_seq: 0,
        }
    }

    /// Tasks in the set: spawned and not yet joined (finished ones that
    /// `join_next` has not returned yet count).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Spawns `future` on the current runtime as a member of this set, and
    /// returns a handle that can abort it alone.
    ///
    /// # Panics
    /// Outside an ember runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        let key = self.tasks.vacant_key();
        let seq = self.next_seq;
        self.next_seq += 1;
        let done = Done {
            finished: self.finished.clone(),
            key,
            seq,
        };
        let handle = current_core("ember::task::JoinSet::spawn").spawn(Tracked { future, done });
        let abort = handle.abort_handle();
        self.tasks.insert(Member { seq, handle });
        abort
    }

    /// The same as [`spawn`](Self::spawn) (every ember task is local to
    /// its thread): tokio's name for a `!Send` future.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.spawn(future)
    }

    /// Waits for the next task to complete and returns its output (or its
    /// [`JoinError`] if it panicked or was aborted); `None` when the set is
    /// empty. Outputs come in completion order.
    ///
    /// # Cancel safety
    /// Cancel safe: an output leaves the set only in the poll that returns
    /// it, so dropping this future (in `select!`, say) loses nothing.
    pub fn join_next(&mut self) -> JoinNext<'_, T> {
        JoinNext { set: self }
    }

    /// Returns the output of a task that has completed, if any; never
    /// waits. `None` also when the set is empty.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        // It cannot yield, so the cooperative budget must not refuse it.
        let mut cx = Context::from_waker(Waker::noop());
        match crate::runtime::coop::with_unconstrained(|| self.poll_join_next(&mut cx)) {
            Poll::Ready(out) => out,
            Poll::Pending => None,
        }
    }

    /// Polls for the next completed task (what [`join_next`](Self::join_next)
    /// does).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        loop {
            let next = self.finished.keys.borrow_mut().pop_front();
            let Some((key, seq)) = next else {
                if self.tasks.is_empty() {
                    return Poll::Ready(None);
                }
                let old = self.finished.waker.take();
                let waker = match old {
                    Some(w) if w.will_wake(cx.waker()) => w,
                    _ => cx.waker().clone(),
                };
                self.finished.waker.set(Some(waker));
                return Poll::Pending;
            };
            let member = match self.tasks.get_mut(key) {
                Some(m) if m.seq == seq => m,
                _ => continue, // a detached task's key, whose slot was reused
            };
            // Polled in place and removed only once done, so the member
            // keeps its key (no reliance on the slab reusing it).
            match Pin::new(&mut member.handle).poll(cx) {
                Poll::Ready(output) => {
                    self.tasks.remove(key);
                    drop(self.finished.waker.take());
                    return Poll::Ready(Some(output));
                }
                Poll::Pending => {
                    // Not complete yet (see the invariant in the module
                    // docs): the handle now holds our waker; or out of
                    // cooperative budget: the handle woke us. Try again later.
                    self.finished.keys.borrow_mut().push_front((key, seq));
                    return Poll::Pending;
                }
            }
        }
    }

    /// Aborts every task in the set. They stay in the set: `join_next`
    /// returns each one's cancellation error (or its output, if it had
    /// already completed).
    pub fn abort_all(&mut self) {
        for (_, member) in &self.tasks {
            member.handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: they run on,
    /// detached, and their outputs are dropped.
    pub fn detach_all(&mut self) {
        self.tasks.clear();
    }

    /// Aborts every task and waits until all of them are gone.
    ///
    /// # Cancel safety
    /// Cancel safe: the tasks are aborted at the first poll; dropping the
    /// future later only skips waiting for their destructors, which the
    /// executor runs anyway.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
        if let Some(w) = self.finished.waker.take() {
            crate::contain::call("the drop of a `JoinSet`'s waker", move || drop(w));
        }
        // The handles drop with `tasks`, detaching the (aborted) tasks.
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

/// Future of [`JoinSet::join_next`].
///
/// # Cancel safety
/// Cancel safe; see [`JoinSet::join_next`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinNext<'a, T> {
    set: &'a mut JoinSet<T>,
}

impl<T> Future for JoinNext<'_, T> {
    type Output = Option<Result<T, JoinError>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.set.poll_join_next(cx)
    }
}

impl<T> fmt::Debug for JoinNext<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinNext")
            .field("len", &self.set.len())
            .finish()
    }
}
