//! Tasks: handles, errors, sets of tasks, and cooperative yielding.
//!
//! A task is a future spawned with [`spawn`]; it runs on the
//! runtime's thread, interleaved with the others at each `.await` that
//! returns `Pending`. A [`JoinSet`] owns a group of tasks and yields their
//! outputs as they complete.
//!
//! The public face of the runtime's task machinery: [`JoinHandle`],
//! [`JoinError`] and [`spawn`] are re-exported from `runtime`,
//! [`yield_now`] and [`consume_budget`] (the user's door to the
//! cooperative budget of `runtime/coop.rs`) live here, and [`JoinSet`] in
//! `join_set.rs`, built on `spawn` and `JoinHandle` alone.
//!
//! # The cooperative budget
//! Each poll of a task gets a budget of 128 units. ember's operations that
//! complete without waiting (a channel receive that finds a message, a
//! timer that has expired, a `JoinHandle` whose task is done, each round of
//! `io::copy` or of a `BufReader`'s reads) take one unit each; when the
//! budget is spent, the next one returns `Pending` once, after waking its
//! task, and the task goes to the back of the run queue. So a task whose
//! every `.await` is ready at once still lets the others run. Code that
//! computes without awaiting ember's operations can take part with
//! [`consume_budget`]. Outside a task (another executor, a plain thread)
//! nothing is ever refused.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

mod join_set;
mod local_set;
mod task_local;

pub use crate::runtime::{spawn_blocking, AbortHandle, Id, JoinError, JoinHandle};
pub use crate::spawn;
pub use join_set::{JoinNext, JoinSet};
pub use local_set::LocalSet;
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};

/// Spawns a task on the current runtime: the same as [`spawn`] (every
/// ember task is local to its thread), except that code run by a
/// [`LocalSet`] spawns into that set. tokio's `task::spawn_local`.
///
/// # Panics
/// Outside an ember runtime.
///
/// ```
/// use std::rc::Rc;
/// ember::block_on(async {
///     let not_send = Rc::new(3);
///     let h = ember::task::spawn_local(async move { *not_send * 2 });
///     assert_eq!(h.await.unwrap(), 6);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    local_set::spawn_local(future)
}

/// The id of the task being polled (or of the `block_on` future).
///
/// # Panics
/// Outside a task; see [`try_id`].
///
/// ```
/// ember::block_on(async {
///     let h = ember::spawn(async { ember::task::id() });
///     assert_eq!(h.id(), h.await.unwrap());
/// });
/// ```
#[track_caller]
pub fn id() -> Id {
    match try_id() {
        Some(id) => id,
        None => panic!(
            "`task::id` called outside a task: call it from code that an ember runtime polls"
        ),
    }
}

/// The id of the task being polled, if any.
pub fn try_id() -> Option<Id> {
    crate::runtime::current_task_id().map(Id::from_raw)
}

/// Returns `Pending` once, after waking itself: the task goes to the back
/// of the run queue and every other runnable task gets a turn first.
///
/// # Cancel safety
/// Cancel safe.
///
/// ```
/// ember::block_on(async {
///     for _ in 0..3 {
///         ember::task::yield_now().await;
///     }
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Takes one unit of the task's cooperative budget, and yields (returns
/// `Pending` once, after waking the task) if the budget is spent; see the
/// [module docs](self#the-cooperative-budget).
///
/// Cheaper than [`yield_now`] in a loop: it yields only once every 128
/// units (counting those that ember's own operations took), so a
/// CPU-bound loop that calls it at each step still lets the other tasks
/// run, without paying a trip through the run queue at every step. Outside
/// an ember task it never yields. Same name and meaning as tokio's
/// `task::consume_budget`.
///
/// # Cancel safety
/// Cancel safe: dropping it loses nothing (a unit taken is not given back).
///
/// ```
/// ember::block_on(async {
///     let ticker = ember::spawn(async { "the other task ran" });
///     let mut sum = 0u64;
///     for i in 0..100_000u64 {
///         sum = sum.wrapping_add(i * i);
///         ember::task::consume_budget().await;
///     }
///     // The loop yielded every 128 steps, so the other task has run.
///     assert!(ticker.is_finished());
///     assert_eq!(ticker.await.unwrap(), "the other task ran");
///     assert!(sum > 0);
/// });
/// ```
pub async fn consume_budget() {
    std::future::poll_fn(crate::runtime::coop::poll_proceed).await
}

/// Future of [`yield_now`].
///
/// # Cancel safety
/// Cancel safe: nothing is lost if it is dropped.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
