//! `LocalSet`: tokio's set of `!Send` tasks, for code written against it.
//!
//! Every ember task is already local to its thread, so a `LocalSet` needs no
//! scheduler of its own. What it adds is what tokio users rely on:
//!
//! - tasks given to it before any runtime runs (`local.spawn_local(..)`
//!   then `rt.block_on(local.run_until(..))`) wait in the set, and start
//!   when the set first runs;
//! - [`task::spawn_local`](super::spawn_local) called from code the set
//!   runs puts the new task in the same set;
//! - awaiting the set runs until all its tasks are done;
//! - dropping the set aborts the tasks still in it.
//!
//! Each member task is wrapped in a [`Member`] future that, around each of
//! its polls, makes the set current on the thread (`CURRENT_SET`), and that
//! leaves the set when it is dropped (completed or aborted), waking whoever
//! awaits the set once it is empty. A task given to the set before a
//! runtime runs gets its `JoinHandle` at once through the same slot that
//! `Handle::spawn` uses (`runtime/handle.rs`).
//!
//! Production note: tokio's `LocalSet` is a second scheduler with its own
//! queue; ember's tasks all share the runtime's run queue, so a set's tasks
//! also run while the runtime runs something else than the set.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;
use slab::Slab;

use crate::runtime::{AbortHandle, JoinHandle, Runtime};

thread_local! {
    /// The set whose code is being polled on this thread, if any.
    static CURRENT_SET: RefCell<Option<Rc<SetInner>>> = const { RefCell::new(None) };
}

/// A set of tasks that run on this thread and are aborted together when
/// the set is dropped. tokio's `LocalSet`, for code that uses it.
///
/// ```
/// use std::rc::Rc;
///
/// let rt = ember::Runtime::new()?;
/// let local = ember::task::LocalSet::new();
/// let shared = Rc::new("not Send");
/// let s = shared.clone();
/// // Given before the runtime runs: starts when the set runs.
/// let early = local.spawn_local(async move { s.len() });
/// let n = local.block_on(&rt, async move {
///     let late = ember::task::spawn_local(async { 2 }); // into the set too
///     early.await.unwrap() + late.await.unwrap()
/// });
/// assert_eq!(n, 10);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct LocalSet {
    inner: Rc<SetInner>,
}

struct SetInner {
    /// The member tasks not yet finished, by key (`None` while the task is
    /// being made).
    members: RefCell<Slab<Option<AbortHandle>>>,
    /// Tasks given to the set outside any runtime, spawned when it runs.
    pending: RefCell<Vec<Box<dyn FnOnce()>>>,
    /// Whoever awaits the set itself (its `Future` impl).
    idle: Cell<Option<Waker>>,
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet {
            inner: Rc::new(SetInner {
                members: RefCell::new(Slab::new()),
                pending: RefCell::new(Vec::new()),
                idle: Cell::new(None),
            }),
        }
    }

    /// Spawns `future` as a task of this set. Inside a runtime it is
    /// queued at once; outside one it waits until the set first runs
    /// ([`run_until`](Self::run_until), [`block_on`](Self::block_on), or
    /// awaiting the set).
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_into(&self.inner, future)
    }

    /// Runs `future` on the current runtime, with this set's pending tasks
    /// started and the set current for it (so `task::spawn_local` inside
    /// adds to the set).
    ///
    /// # Cancel safety
    /// As cancel safe as `future`; the set's tasks go on running.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        RunUntil {
            set: &self.inner,
            future,
        }
        .await
    }

    /// Runs `future` to completion on `rt` with this set: `rt.block_on(
    /// self.run_until(future))`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.inner.members.borrow().len())
            .finish()
    }
}

/// Awaiting the set runs until every task in it has finished.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.start_pending();
        if self.inner.members.borrow().is_empty() {
            return Poll::Ready(());
        }
        self.inner.idle.set(Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // Handles out first, then abort with no borrow held; the pending
        // tasks drop with the set (their handles report them cancelled).
        let members: Vec<AbortHandle> = self.inner.members.borrow_mut().drain().flatten().collect();
        for member in members {
            member.abort();
        }
        let pending = std::mem::take(&mut *self.inner.pending.borrow_mut());
        crate::contain::call("the drop of a `LocalSet`'s unstarted tasks", move || {
            drop(pending)
        });
    }
}

impl SetInner {
    /// Spawns the tasks given to the set before a runtime ran.
    fn start_pending(&self) {
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        for start in pending {
            start();
        }
    }
}

/// Spawns `future` into `set` (see [`LocalSet::spawn_local`]).
#[track_caller]
fn spawn_into<F>(set: &Rc<SetInner>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let key = set.members.borrow_mut().insert(None);
    let member = Member {
        future,
        set: Rc::downgrade(set),
        key,
    };
    let handle = match crate::runtime::context::current() {
        Some(core) => core.spawn(member),
        None => {
            let (remote, handle) = crate::runtime::Remote::new(member);
            set.pending
                .borrow_mut()
                .push(Box::new(move || remote.spawn_here()));
            handle
        }
    };
    // Unless the task is already gone (spawned during a shutdown).
    if let Some(entry) = set.members.borrow_mut().get_mut(key) {
        *entry = Some(handle.abort_handle());
    }
    handle
}

/// `task::spawn_local`: into the set being polled, if any, else a plain
/// spawn.
#[track_caller]
pub(crate) fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let set = CURRENT_SET.try_with(|c| c.borrow().clone()).ok().flatten();
    match set {
        Some(set) => spawn_into(&set, future),
        None => crate::spawn(future),
    }
}

/// Makes `set` the thread's current set until dropped.
struct Enter {
    previous: Option<Rc<SetInner>>,
}

impl Enter {
    fn new(set: &Rc<SetInner>) -> Enter {
        let previous = CURRENT_SET
            .try_with(|c| c.replace(Some(set.clone())))
            .ok()
            .flatten();
        Enter { previous }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let ours = CURRENT_SET.try_with(|c| c.replace(previous)).ok().flatten();
        drop(ours);
    }
}

pin_project! {
    /// A task of a set: the user's future, polled with the set current,
    /// and the key it leaves behind when dropped.
    struct Member<F> {
        #[pin]
        future: F,
        set: Weak<SetInner>,
        key: usize,
    }

    impl<F> PinnedDrop for Member<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let Some(set) = this.set.upgrade() else {
                return; // the set is gone; it aborted us
            };
            let mut members = set.members.borrow_mut();
            members.try_remove(*this.key);
            let empty = members.is_empty();
            drop(members);
            if empty {
                if let Some(waker) = set.idle.take() {
                    crate::contain::wake(waker);
                }
            }
        }
    }
}

impl<F: Future> Future for Member<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _enter = this.set.upgrade().map(|set| Enter::new(&set));
        this.future.poll(cx)
    }
}

pin_project! {
    struct RunUntil<'a, F> {
        set: &'a Rc<SetInner>,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        this.set.start_pending();
        let _enter = Enter::new(this.set);
        this.future.poll(cx)
    }
}
