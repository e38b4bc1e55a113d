//! `LocalPermits`: the permit count and FIFO queue under the loop-local
//! locks (`Mutex`, `RwLock`); a `Semaphore` without atomics.
//!
//! A `Mutex` is one permit; an `RwLock` is `max_readers` permits, a read
//! taking one and a write taking all of them (tokio builds both the same
//! way on its semaphore). Waiters are served in order through
//! [`WaitList::grant`]: a writer at the head gathers permits as readers
//! leave, and readers behind it wait, which is tokio's fair,
//! write-preferring policy.
//!
//! Lives inside a type that is not `Sync`, so its state is a `Cell` and a
//! `RefCell`: each operation is a few plain loads and stores. Wakers are
//! taken out while the queue is borrowed and woken (through
//! `contain::wake_all`) after the borrow ends.
//!
//! | `free` | queue | meaning |
//! |--------|-------|---------|
//! | `total` | empty | unlocked |
//! | < `total` | empty | held; an acquire that fits takes at once |
//! | any | not empty | held, and others wait: new acquires queue behind them |

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use super::wait_list::{WaitList, Wakers};
use crate::runtime::coop;

/// A loop-local permit count with a FIFO queue of waiting acquires.
#[derive(Debug)]
pub(crate) struct LocalPermits {
    free: Cell<usize>,
    waiters: RefCell<WaitList<()>>,
}

impl LocalPermits {
    pub(crate) const fn new(permits: usize) -> LocalPermits {
        LocalPermits {
            free: Cell::new(permits),
            waiters: RefCell::new(WaitList::new()),
        }
    }

    /// Takes `n` permits if they are free and nobody waits.
    #[inline]
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        if self.free.get() >= n && self.waiters.borrow().is_empty() {
            self.free.set(self.free.get() - n);
            true
        } else {
            false
        }
    }

    /// Waits for `n` permits, in queue order.
    #[inline]
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            permits: self,
            n,
            waiter: None,
        }
    }

    /// Gives `n` permits back; waiters get them first, in order.
    ///
    /// Inlined (the crate is not built with LTO, and an unlock is on
    /// every user's hot path); the hand-out to waiters is kept out of line.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        self.free.set(self.free.get() + n);
        if !self.waiters.borrow().is_empty() {
            self.hand_out();
        }
    }

    /// Hands the free permits to the waiters, in order.
    #[cold]
    fn hand_out(&self) {
        let mut free = self.free.get();
        let mut wakers = Wakers::new();
        self.waiters.borrow_mut().grant(&mut free, (), &mut wakers);
        self.free.set(free);
        wakers.wake_all();
    }

    /// Free permits now.
    pub(crate) fn available(&self) -> usize {
        self.free.get()
    }
}

/// Future of [`LocalPermits::acquire`]; gives back what it gathered if it
/// is dropped before completing.
pub(crate) struct Acquire<'a> {
    permits: &'a LocalPermits,
    n: usize,
    /// Our key in the queue, while we wait.
    waiter: Option<usize>,
}

impl Future for Acquire<'_> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Completing costs a unit of the task's budget, as tokio's lock
        // does (its semaphore's acquire); waiting gives it back.
        ready!(coop::poll_proceed(cx));
        let this = self.get_mut();
        if this.waiter.is_none() && this.permits.try_acquire(this.n) {
            return Poll::Ready(());
        }
        this.poll_slow(cx)
    }
}

impl Acquire<'_> {
    /// Queues, or checks whether the queue handed us our permits.
    #[cold]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        let mut old: Option<Waker> = None;
        let done = match this.waiter {
            None => {
                let mut waiters = this.permits.waiters.borrow_mut();
                this.waiter = Some(waiters.push_back_wanting(cx.waker().clone(), this.n));
                false
            }
            Some(key) => {
                let mut waiters = this.permits.waiters.borrow_mut();
                if waiters.notified(key).is_some() {
                    old = waiters.remove(key).1;
                    this.waiter = None;
                    true
                } else {
                    old = waiters.set_waker(key, cx.waker());
                    false
                }
            }
        };
        drop(old);
        if done {
            Poll::Ready(())
        } else {
            coop::refund();
            Poll::Pending
        }
    }
}

impl Drop for Acquire<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.waiter.is_some() {
            self.cancel();
        }
    }
}

impl Acquire<'_> {
    /// Leaves the queue, giving back what was gathered.
    #[cold]
    fn cancel(&mut self) {
        let Some(key) = self.waiter.take() else {
            return;
        };
        let (notified, old, left) = self.permits.waiters.borrow_mut().remove_counted(key);
        drop(old);
        let gathered = if notified.is_some() {
            self.n
        } else {
            self.n - left
        };
        // Also when nothing was gathered: the waiter behind may now fit.
        self.permits.release(gathered);
    }
}
