//! The state both kinds of `mpsc` channel share, and the receiving logic.
//!
//! Owned through an `Arc` by every sender and by the receiver
//! (`bounded.rs`, `unbounded.rs`). One `Mutex` guards the queue, the
//! receiver's waker and, for a bounded channel, its free slots and the
//! queue of waiting senders.
//!
//! # Bounded channels: slots are handed over, not raced for
//! `permits` counts the free slots that nobody has been promised. A send
//! (or a `reserve`, or `reserve_many(n)`) takes its slots if no sender is
//! waiting; otherwise it queues in `send_waiters`, wanting its number of
//! slots. Each message received frees a slot: if senders wait, it goes to
//! the first one (`WaitList::grant`: the head gathers slots until it has
//! all it wants, then is notified); if not, `permits` grows. So senders are
//! served in FIFO order and a newcomer never takes the slot a waiting
//! sender was handed. A sender dropped after being handed slots, and an
//! unused permit, hand them on (`release_permits`).
//!
//! Invariant (bounded, receiver open): `queue.len() + permits + slots
//! handed to senders and permits == capacity`; `permits > 0` only when
//! nobody waits.
//!
//! # Weak senders
//! `senders` counts the strong senders (an `OwnedPermit` holds one);
//! `weak_senders` the `WeakSender`s, which keep the memory but not the
//! channel open. Upgrading succeeds while `senders > 0`.
//!
//! # Closing
//! | event                         | effect |
//! |-------------------------------|--------|
//! | last sender dropped           | `senders == 0`: once the queue is empty, `recv` gives `None` |
//! | `Receiver::close`             | `rx_closed`: sends fail from now on; queued messages can still be received, then `None` |
//! | receiver dropped              | as `close`, and the queued messages are dropped |
//!
//! Every waker is taken out under the lock and woken after it is released.
//!
//! A receive that gets a message, and a bounded send that pushes one, each
//! take a unit of the task's cooperative budget (`runtime/coop.rs`).

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use super::super::lock;
use super::super::notify::Notify;
use super::super::wait_list::{WaitList, Wakers};
use super::error::TryRecvError;
use crate::runtime::coop;

pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
    /// The bound of a bounded channel; `None` for an unbounded one.
    pub(super) capacity: Option<usize>,
    /// Told (`notify_waiters`) when the receiver closes, for `Sender::closed`.
    pub(super) closed: Notify,
}

pub(super) struct State<T> {
    pub(super) queue: VecDeque<T>,
    /// The receiver, if it waits for a message.
    rx_waker: Option<Waker>,
    /// The receiver closed or was dropped: sends fail.
    pub(super) rx_closed: bool,
    /// Live senders; `recv` gives `None` at 0 once the queue is empty.
    pub(super) senders: usize,
    /// Weak senders (they do not keep the channel open).
    pub(super) weak_senders: usize,
    /// Bounded only: free slots nobody has been promised.
    pub(super) permits: usize,
    /// Bounded only: senders waiting for a slot, in arrival order.
    pub(super) send_waiters: WaitList<()>,
}

impl<T> Chan<T> {
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        Chan {
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(capacity.unwrap_or(0).min(1024)),
                rx_waker: None,
                rx_closed: false,
                senders: 1,
                weak_senders: 0,
                permits: capacity.unwrap_or(0),
                send_waiters: WaitList::new(),
            }),
            capacity,
            closed: Notify::new(),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }

    /// Queues `value`, releases the lock, and wakes the receiver if it
    /// waits. The caller has checked that the receiver is open (and, if
    /// bounded, taken a slot).
    pub(super) fn push(&self, mut state: MutexGuard<'_, State<T>>, value: T) {
        state.queue.push_back(value);
        let rx = state.rx_waker.take();
        drop(state);
        if let Some(w) = rx {
            crate::contain::wake(w);
        }
    }

    /// Gives `n` reserved slots back (an unused permit, a dropped send):
    /// waiting senders get them first. Nothing to do once the receiver is
    /// closed.
    pub(super) fn release_slots(&self, n: usize) {
        let mut state = self.lock();
        if state.rx_closed || n == 0 {
            return;
        }
        let wakers = state.release_permits(n);
        drop(state);
        wakers.wake_all();
    }

    /// Upgrades a weak sender: a new strong one, unless none is left.
    pub(super) fn upgrade(&self) -> bool {
        let mut state = self.lock();
        if state.senders == 0 {
            return false;
        }
        state.senders += 1;
        true
    }

    /// A new sender (a clone).
    pub(super) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    /// A sender is gone; the last one wakes the receiver, to see `None`.
    pub(super) fn drop_sender(&self) {
        let mut state = self.lock();
        state.senders -= 1;
        let rx = if state.senders == 0 {
            state.rx_waker.take()
        } else {
            None
        };
        drop(state);
        if let Some(w) = rx {
            crate::contain::wake(w);
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.lock().rx_closed
    }

    /// Waits until the receiver is closed or dropped.
    pub(super) async fn closed(&self) {
        // Created before the check: a close between the check and the
        // first poll still completes it (see `Notify::notified`).
        let notified = self.closed.notified();
        if self.is_closed() {
            return;
        }
        notified.await;
    }

    /// Closes the receiving side: later sends fail, waiting senders and
    /// `closed()` futures complete. Returns the queued messages when
    /// `drain` (the receiver is being dropped), for the caller to drop
    /// outside the lock.
    fn close(&self, drain: bool) -> VecDeque<T> {
        let mut wakers = Vec::new();
        let mut state = self.lock();
        let first = !state.rx_closed;
        state.rx_closed = true;
        state.send_waiters.notify_all((), &mut wakers);
        let rest = if drain {
            std::mem::take(&mut state.queue)
        } else {
            VecDeque::new()
        };
        let rx = state.rx_waker.take();
        drop(state);
        drop(rx);
        crate::contain::wake_all(&mut wakers);
        if first {
            self.closed.notify_waiters();
        }
        rest
    }
}

impl<T> State<T> {
    /// Takes the first message. In a bounded channel its slot is freed;
    /// the wakers of the senders it completes (if any) are returned with it.
    fn pop(&mut self, bounded: bool) -> Option<(T, Option<Waker>)> {
        let value = self.queue.pop_front()?;
        let sender = if bounded { self.release_one() } else { None };
        Some((value, sender))
    }

    /// One slot is free again (bounded only): it goes to the first waiting
    /// sender, whose waker is returned if that completes its wait. While
    /// senders wait no slot is free (the invariant), so one slot can serve
    /// the head at most: no list of wakers, and no allocation, on the
    /// receive path.
    #[inline]
    fn release_one(&mut self) -> Option<Waker> {
        self.permits += 1;
        if self.send_waiters.is_empty() {
            return None;
        }
        debug_assert_eq!(self.permits, 1, "slots were free while senders waited");
        self.send_waiters.grant_head(&mut self.permits, ())
    }

    /// `n` slots are free again (bounded only): waiting senders get them in
    /// order; the wakers of those that now have all they wanted are
    /// returned. The rest is kept in `permits`. (`Wakers` holds one
    /// waker without allocating: a receive, which frees one slot, never
    /// allocates.)
    #[inline]
    pub(super) fn release_permits(&mut self, n: usize) -> Wakers {
        let mut wakers = Wakers::new();
        self.permits += n;
        if !self.send_waiters.is_empty() {
            self.send_waiters.grant(&mut self.permits, (), &mut wakers);
        }
        wakers
    }
}

/// The receiving logic, shared by `Receiver` and `UnboundedReceiver`.
pub(super) struct Rx<T> {
    pub(super) chan: std::sync::Arc<Chan<T>>,
}

impl<T> Rx<T> {
    pub(super) fn new(chan: std::sync::Arc<Chan<T>>) -> Rx<T> {
        Rx { chan }
    }

    /// Each message (and the final `None`) costs a unit of the task's
    /// cooperative budget (`runtime/coop.rs`), so a receiver whose producer
    /// never falls behind (another thread, say) still yields to the other
    /// tasks; a poll that finds the queue empty gives its unit back.
    pub(super) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        ready!(coop::poll_proceed(cx));
        let mut state = self.chan.lock();
        if let Some((value, sender)) = state.pop(self.chan.capacity.is_some()) {
            drop(state);
            if let Some(w) = sender {
                crate::contain::wake(w);
            }
            return Poll::Ready(Some(value));
        }
        if state.senders == 0 || state.rx_closed {
            return Poll::Ready(None);
        }
        let old = match &state.rx_waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => state.rx_waker.replace(cx.waker().clone()),
        };
        drop(state);
        drop(old);
        coop::refund();
        Poll::Pending
    }

    /// Moves up to `limit` messages into `buffer`, waiting while there is
    /// none; `Ready(0)` once the channel is over (or `limit` is 0). One
    /// unit of the cooperative budget per call.
    pub(super) fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        ready!(coop::poll_proceed(cx));
        let bounded = self.chan.capacity.is_some();
        let mut state = self.chan.lock();
        let n = state.queue.len().min(limit);
        if n > 0 {
            buffer.extend(state.queue.drain(..n));
            let senders = if bounded {
                state.release_permits(n)
            } else {
                Wakers::new()
            };
            drop(state);
            senders.wake_all();
            return Poll::Ready(n);
        }
        if state.senders == 0 || state.rx_closed {
            return Poll::Ready(0);
        }
        let old = match &state.rx_waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => state.rx_waker.replace(cx.waker().clone()),
        };
        drop(state);
        drop(old);
        coop::refund();
        Poll::Pending
    }

    /// Whether no message can come any more (every sender gone, or closed).
    pub(super) fn is_closed(&self) -> bool {
        let state = self.chan.lock();
        state.rx_closed || state.senders == 0
    }

    /// Strong and weak senders.
    pub(super) fn sender_counts(&self) -> (usize, usize) {
        let state = self.chan.lock();
        (state.senders, state.weak_senders)
    }

    pub(super) fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.chan.lock();
        if let Some((value, sender)) = state.pop(self.chan.capacity.is_some()) {
            drop(state);
            if let Some(w) = sender {
                crate::contain::wake(w);
            }
            return Ok(value);
        }
        if state.senders == 0 || state.rx_closed {
            Err(TryRecvError::Disconnected)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    pub(super) fn close(&mut self) {
        self.chan.close(false);
    }

    pub(super) fn len(&self) -> usize {
        self.chan.lock().queue.len()
    }
}

impl<T> Drop for Rx<T> {
    fn drop(&mut self) {
        // The messages' destructors are user code: they run unlocked.
        drop(self.chan.close(true));
    }
}

/// Future of [`Receiver::recv`](super::Receiver::recv) and
/// [`UnboundedReceiver::recv`](super::UnboundedReceiver::recv).
///
/// # Cancel safety
/// Cancel safe: a message is taken out of the channel only in the poll that
/// returns it, so dropping this future loses nothing.
#[must_use = "futures do nothing unless awaited"]
pub struct Recv<'a, T> {
    pub(super) rx: &'a mut Rx<T>,
}

impl<T> std::future::Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }
}

impl<T> std::fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recv").finish_non_exhaustive()
    }
}
