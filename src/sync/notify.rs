//! `Notify`: wake one task, or all of them, without sending data.
//!
//! Used by tasks directly, and inside `mpsc` for `Sender::closed`. Relies on
//! [`WaitList`] for the queue of waiting futures; the state sits under a
//! `Mutex` so `notify_*` may be called from any thread.
//!
//! # States
//! One permit at most, and a queue of waiting [`Notified`] futures:
//!
//! | event            | somebody waits                             | nobody waits |
//! |------------------|--------------------------------------------|--------------|
//! | `notify_one`     | the first waiter is notified (FIFO)        | the permit is stored (at most one) |
//! | `notify_last`    | the last waiter to arrive is notified (LIFO) | the permit is stored (at most one) |
//! | `notify_waiters` | every waiter, and every `Notified` created before the call, completes | nothing is stored |
//! | `Notified` polled| takes the permit if there is one, else joins the queue | |
//! | `Notified` dropped after `notify_one` chose it | the notification goes to the next waiter | the permit is stored again |
//!
//! `notify_waiters` bumps a generation counter; a `Notified` remembers the
//! generation it was created in, so one created before the call but not
//! yet polled still sees it (tokio's rule: creating the future is what
//! registers interest).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll, Waker};

use super::lock;
use super::wait_list::WaitList;
use crate::runtime::coop;

/// Wakes waiting tasks, one at a time or all at once, carrying no data.
///
/// `Notify` is `Send + Sync`: notify from any thread (a plain thread, a
/// blocking-pool job), wait in a task. Put it in an `Arc` to share it across
/// threads, or an `Rc` on the loop's thread.
///
/// - [`notify_one`](Self::notify_one) wakes the longest-waiting task; if
///   nobody waits, it stores **one** permit, which the next
///   [`notified`](Self::notified)`.await` consumes at once. Permits do not
///   add up: two `notify_one` with nobody waiting store one.
/// - [`notify_waiters`](Self::notify_waiters) wakes every task waiting *now*
///   (including every `Notified` future already created), and stores nothing.
///
/// ```
/// use std::rc::Rc;
/// use ember::sync::Notify;
///
/// ember::block_on(async {
///     let notify = Rc::new(Notify::new());
///     let n = notify.clone();
///     let waiter = ember::spawn(async move {
///         n.notified().await;
///         "woken"
///     });
///     notify.notify_one(); // stored if the waiter has not started waiting yet
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// ```
pub struct Notify {
    state: Mutex<State>,
    /// Bumped (under the lock) by each `notify_waiters`. Read without the
    /// lock when a `Notified` is created.
    generation: AtomicU64,
}

struct State {
    /// A `notify_one` found nobody waiting.
    permit: bool,
    waiters: WaitList<Kind>,
}

/// How a waiter was notified: only a `notify_one` is passed on when its
/// receiver is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    One,
    All,
}

impl Notify {
    /// A `Notify` with no permit and nobody waiting. `const`, so it can be
    /// a `static`.
    pub const fn new() -> Notify {
        Notify {
            state: Mutex::new(State {
                permit: false,
                waiters: WaitList::new(),
            }),
            generation: AtomicU64::new(0),
        }
    }

    /// Wakes the task that has waited longest, or, if none waits, stores a
    /// permit for the next [`notified`](Self::notified) (one at most).
    pub fn notify_one(&self) {
        let mut state = lock(&self.state);
        let waker = state.waiters.notify_first(Kind::One);
        if waker.is_none() {
            state.permit = true;
        }
        drop(state);
        if let Some(w) = waker {
            crate::contain::wake(w);
        }
    }

    /// Wakes the task that started waiting *last*, or, if none waits,
    /// stores a permit as [`notify_one`](Self::notify_one) does.
    pub fn notify_last(&self) {
        let mut state = lock(&self.state);
        let waker = state.waiters.notify_last(Kind::One);
        if waker.is_none() {
            state.permit = true;
        }
        drop(state);
        if let Some(w) = waker {
            crate::contain::wake(w);
        }
    }

    /// Wakes every task waiting now, and completes every [`Notified`]
    /// created before this call, polled or not. Stores no permit: a
    /// `notified()` created afterwards waits for the next notification.
    pub fn notify_waiters(&self) {
        let mut wakers = Vec::new();
        let mut state = lock(&self.state);
        self.generation.fetch_add(1, Ordering::SeqCst);
        state.waiters.notify_all(Kind::All, &mut wakers);
        drop(state);
        crate::contain::wake_all(&mut wakers);
    }

    /// A future that completes at the next notification (or at once, with a
    /// stored permit).
    ///
    /// # Cancel safety
    /// Cancel safe: nothing is lost if it is dropped. If a `notify_one` had
    /// already chosen it, that notification goes to the next waiter, or is
    /// stored as the permit if there is none.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            wait: Wait::new(self),
        }
    }

    /// [`notified`](Self::notified), owning an `Arc` of the `Notify` (so
    /// the future can be stored, or moved into a task).
    ///
    /// # Cancel safety
    /// As [`notified`](Self::notified).
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        OwnedNotified {
            wait: Wait::new(&self),
            notify: self,
        }
    }
}

impl Default for Notify {
    fn default() -> Notify {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Notify")
            .field("permit", &state.permit)
            .field("waiting", &!state.waiters.is_empty())
            .finish()
    }
}

/// Future of [`Notify::notified`]. It is `Unpin` and `Send`.
///
/// # Cancel safety
/// Cancel safe; see [`Notify::notified`].
#[must_use = "futures do nothing unless awaited"]
pub struct Notified<'a> {
    notify: &'a Notify,
    wait: Wait,
}

/// Future of [`Notify::notified_owned`]. It is `Unpin`, `Send` and
/// `'static`.
///
/// # Cancel safety
/// Cancel safe; see [`Notify::notified`].
#[must_use = "futures do nothing unless awaited"]
pub struct OwnedNotified {
    notify: Arc<Notify>,
    wait: Wait,
}

/// The state of one wait, shared by [`Notified`] and [`OwnedNotified`].
#[derive(Debug)]
struct Wait {
    /// `Notify::generation` when the future was created.
    generation: u64,
    stage: Stage,
}

/// | stage        | meaning                               | next |
/// |--------------|---------------------------------------|------|
/// | `Init`       | created, not yet in the queue         | `Done` (permit or `notify_waiters` seen), `Waiting` |
/// | `Waiting(k)` | in the queue under key `k`            | `Done` once notified |
/// | `Done`       | completed; polling again is `Ready`   | — |
#[derive(Debug, Clone, Copy)]
enum Stage {
    Init,
    Waiting(usize),
    Done,
}

impl Wait {
    fn new(notify: &Notify) -> Wait {
        Wait {
            generation: notify.generation.load(Ordering::SeqCst),
            stage: Stage::Init,
        }
    }

    fn poll(&mut self, notify: &Notify, cx: &mut Context<'_>) -> Poll<()> {
        // Completing costs a unit of the task's cooperative budget (a
        // permit that a plain thread keeps refilling must not hold the
        // loop); waiting gives it back (see `runtime/coop.rs`).
        ready!(coop::poll_proceed(cx));
        let mut state = lock(&notify.state);
        let mut old_waker: Option<Waker> = None;
        let done = match self.stage {
            Stage::Done => true,
            Stage::Init => {
                if notify.generation.load(Ordering::SeqCst) != self.generation {
                    true
                } else if state.permit {
                    state.permit = false;
                    true
                } else {
                    let key = state.waiters.push_back(cx.waker().clone());
                    self.stage = Stage::Waiting(key);
                    false
                }
            }
            Stage::Waiting(key) => {
                if state.waiters.notified(key).is_some() {
                    old_waker = state.waiters.remove(key).1;
                    true
                } else {
                    old_waker = state.waiters.set_waker(key, cx.waker());
                    false
                }
            }
        };
        drop(state);
        drop(old_waker);
        if done {
            self.stage = Stage::Done;
            Poll::Ready(())
        } else {
            coop::refund();
            Poll::Pending
        }
    }

    fn cancel(&mut self, notify: &Notify) {
        let Stage::Waiting(key) = self.stage else {
            return;
        };
        self.stage = Stage::Done;
        let mut state = lock(&notify.state);
        let (kind, old_waker) = state.waiters.remove(key);
        // A `notify_one` chose this future, which will never see it: pass it on.
        let next = if kind == Some(Kind::One) {
            let next = state.waiters.notify_first(Kind::One);
            if next.is_none() {
                state.permit = true;
            }
            next
        } else {
            None
        };
        drop(state);
        drop(old_waker);
        if let Some(w) = next {
            crate::contain::wake(w);
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(this.notify, cx)
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.wait.cancel(self.notify);
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.wait.poll(&this.notify, cx)
    }
}

impl Drop for OwnedNotified {
    fn drop(&mut self) {
        self.wait.cancel(&self.notify);
    }
}

impl fmt::Debug for OwnedNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedNotified")
            .field("stage", &self.wait.stage)
            .finish()
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("stage", &self.wait.stage)
            .finish()
    }
}
