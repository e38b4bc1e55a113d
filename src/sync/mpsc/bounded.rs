//! The bounded channel: [`Sender`], [`Receiver`], the [`SendFuture`] that
//! waits for room, and `Slots`, the wait for `n` free slots under both
//! `send` and the `reserve*` family (`permit.rs`).
//!
//! Built by `mpsc::channel(capacity)`; all shared state and the receiving
//! logic live in `chan.rs`. A send that finds a free slot (and no sender
//! waiting before it) pushes at once, in its first poll; otherwise it queues
//! in the channel's `send_waiters` and is handed a slot by a receive.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use futures_core::Stream;

use super::super::wait_list::Wakers;
use super::chan::{Chan, Recv, Rx, State};
use super::error::{SendError, TryRecvError, TrySendError};
use super::permit::{OwnedPermit, Permit, PermitIterator};
use super::weak::WeakSender;
use crate::runtime::coop;
use crate::sync::park::block_on_thread;

/// The sending half of a bounded channel. Clone it to get more senders.
///
/// `Send` and `Sync` when `T: Send`: a plain thread may hold one (see
/// [`blocking_send`](Self::blocking_send)).
pub struct Sender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

/// The receiving half of a bounded channel; also a [`Stream`] of messages.
///
/// # Cancel safety
/// `recv()` is cancel safe: a message is taken from the channel only in the
/// poll that returns it, so dropping a pending `recv()` loses none.
pub struct Receiver<T> {
    rx: Rx<T>,
}

pub(super) fn new<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(Some(capacity)));
    (
        Sender { chan: chan.clone() },
        Receiver { rx: Rx::new(chan) },
    )
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room if the channel is full. Fails, giving
    /// the value back, if the receiver is gone.
    ///
    /// Senders waiting for room are served in the order they started
    /// waiting. A send that goes through takes a unit of the task's
    /// cooperative budget (see [`task`](crate::task#the-cooperative-budget)).
    ///
    /// # Cancel safety
    /// If the future is dropped before it completes, the message was **not**
    /// sent, and it is dropped with the future. Its place in the queue of
    /// waiting senders is lost, and a slot it had just been handed goes to
    /// the next waiting sender. (To keep the message, use
    /// [`try_send`](Self::try_send), which hands it back.)
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            slots: Slots::new(&self.chan, 1),
            value: Some(value),
        }
    }

    /// Waits for a free slot and reserves it: the returned [`Permit`]
    /// sends without waiting or failing. Waiting reservations and sends
    /// are served in the order they started waiting.
    ///
    /// # Cancel safety
    /// Cancel safe as to slots (a slot it was handed goes to the next
    /// waiter); it loses its place in the queue.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        Slots::new(&self.chan, 1).await?;
        Ok(Permit::new(&self.chan))
    }

    /// Waits for `n` free slots and reserves them all at once.
    /// Fails at once if `n` exceeds the channel's capacity.
    ///
    /// # Cancel safety
    /// As [`reserve`](Self::reserve): slots it had gathered go back.
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        if n > self.max_capacity() {
            return Err(SendError(()));
        }
        Slots::new(&self.chan, n).await?;
        Ok(PermitIterator::new(&self.chan, n))
    }

    /// [`reserve`](Self::reserve), consuming the sender: the
    /// [`OwnedPermit`] holds it and gives it back when used.
    ///
    /// # Cancel safety
    /// As [`reserve`](Self::reserve) (the sender is dropped with the future).
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        Slots::new(&self.chan, 1).await?;
        Ok(OwnedPermit::new(self))
    }

    /// Reserves a slot if one is free now (and no sender waits); never
    /// waits.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.try_take(1).map(|()| Permit::new(&self.chan))
    }

    /// Reserves `n` slots if they are free now; never waits.
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        if n > self.max_capacity() {
            return Err(TrySendError::Full(()));
        }
        self.try_take(n)
            .map(|()| PermitIterator::new(&self.chan, n))
    }

    /// [`try_reserve`](Self::try_reserve), consuming the sender (given back
    /// in the error if it fails).
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Sender<T>>> {
        match self.try_take(1) {
            Ok(()) => Ok(OwnedPermit::new(self)),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }

    fn try_take(&self, n: usize) -> Result<(), TrySendError<()>> {
        let mut state = self.chan.lock();
        if state.rx_closed {
            return Err(TrySendError::Closed(()));
        }
        if state.permits < n || !state.send_waiters.is_empty() {
            return Err(TrySendError::Full(()));
        }
        state.permits -= n;
        Ok(())
    }

    /// A [`WeakSender`]: it does not keep the channel open, and
    /// [`upgrade`](WeakSender::upgrade)s while a sender is left.
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender::new(self.chan.clone())
    }

    /// How many senders there are (an [`OwnedPermit`] holds one).
    pub fn strong_count(&self) -> usize {
        self.chan.lock().senders
    }

    /// How many weak senders there are.
    pub fn weak_count(&self) -> usize {
        self.chan.lock().weak_senders
    }

    /// Sends `value` if there is room now; never waits.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = self.chan.lock();
        if state.rx_closed {
            return Err(TrySendError::Closed(value));
        }
        if state.permits == 0 || !state.send_waiters.is_empty() {
            return Err(TrySendError::Full(value));
        }
        state.permits -= 1;
        self.chan.push(state, value);
        Ok(())
    }

    /// Sends `value` from a plain thread, parking it while the channel is
    /// full.
    ///
    /// # Panics
    /// If called from a thread running an ember runtime (use
    /// `send(value).await` there).
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        block_on_thread("mpsc::Sender::blocking_send", self.send(value))
    }

    /// Whether the receiver is gone (dropped or closed).
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Completes when the receiver is dropped or closed.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// Free slots right now, not promised to a waiting sender.
    pub fn capacity(&self) -> usize {
        self.chan.lock().permits
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.chan.capacity.unwrap_or(usize::MAX)
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> Receiver<T> {
    /// Receives the next message, waiting for one. `None` once every sender
    /// is gone (or the receiver was closed) and the queue is empty.
    ///
    /// Each message received takes a unit of the task's cooperative budget
    /// (see [`task`](crate::task#the-cooperative-budget)): once the budget
    /// is spent the receive yields once to the other tasks, so a producer
    /// that never falls behind cannot starve the loop.
    ///
    /// # Cancel safety
    /// Cancel safe: no message is lost if it is dropped (for example by
    /// `select!`).
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { rx: &mut self.rx }
    }

    /// Receives a message if one is queued; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// Polls for the next message (what [`recv`](Self::recv) and the
    /// `Stream` impl call).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }

    /// Receives on a plain thread, parking it while the channel is empty.
    ///
    /// # Panics
    /// If called from a thread running an ember runtime.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        block_on_thread("mpsc::Receiver::blocking_recv", self.recv())
    }

    /// Closes the channel without dropping the receiver: sends fail from
    /// now on (waiting ones too), and the messages already queued can
    /// still be received, after which `recv` gives `None`.
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// Messages queued now.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether no message is queued now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Receives up to `limit` messages into `buffer` (appended), waiting
    /// while there is none; returns how many. 0 means the channel is over
    /// (every sender gone, or closed, and nothing queued), or `limit` was 0.
    ///
    /// # Cancel safety
    /// Cancel safe: messages move into `buffer` only in the poll that
    /// returns their number.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.rx.poll_recv_many(cx, buffer, limit)).await
    }

    /// Polls for up to `limit` messages (what [`recv_many`](Self::recv_many)
    /// calls).
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.rx.poll_recv_many(cx, buffer, limit)
    }

    /// Whether no message can come any more: every sender is gone or
    /// [`close`](Self::close) was called (queued messages may remain).
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }

    /// Free slots right now.
    pub fn capacity(&self) -> usize {
        self.rx.chan.lock().permits
    }

    /// The capacity the channel was created with.
    pub fn max_capacity(&self) -> usize {
        self.rx.chan.capacity.unwrap_or(usize::MAX)
    }

    /// How many senders there are.
    pub fn sender_strong_count(&self) -> usize {
        self.rx.sender_counts().0
    }

    /// How many weak senders there are.
    pub fn sender_weak_count(&self) -> usize {
        self.rx.sender_counts().1
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }
}

/// Future of [`Sender::send`]. (Not called `Send`, which would shadow the
/// auto trait.)
///
/// # Cancel safety
/// See [`Sender::send`]: dropped before completion, the message was not
/// sent and is dropped.
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a, T> {
    slots: Slots<'a, T>,
    /// The message; `None` once sent (or given back).
    value: Option<T>,
}

// The message is moved, never pinned: nothing here relies on `Pin`.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let chan = this.slots.chan;
        let Some(value) = this.value.take() else {
            panic!("`SendFuture` polled after it completed");
        };
        match this.slots.poll_slots(cx) {
            Poll::Pending => {
                this.value = Some(value);
                Poll::Pending
            }
            Poll::Ready(Err(SendError(()))) => Poll::Ready(Err(SendError(value))),
            // Still under the lock that gave us the slot: one lock per send.
            Poll::Ready(Ok(state)) => {
                chan.push(state, value);
                Poll::Ready(Ok(()))
            }
        }
        // `value` of a dropped future drops with it, unlocked.
    }
}

/// Waiting for `n` free slots of a bounded channel, in FIFO order with the
/// other senders. Under `send`, `reserve` and `reserve_many`; once it
/// completes the slots are the caller's (to push into, or to give back
/// with `Chan::release_slots`).
///
/// | `waiter` | meaning | next |
/// |----------|---------|------|
/// | `None` | not queued (or done) | `Ready` (slots free, or closed), `Some` |
/// | `Some(k)` | queued, gathering slots | `None` and `Ready` once it has `n`, or closed |
pub(super) struct Slots<'a, T> {
    chan: &'a Chan<T>,
    n: usize,
    waiter: Option<usize>,
}

impl<'a, T> Slots<'a, T> {
    pub(super) fn new(chan: &'a Chan<T>, n: usize) -> Slots<'a, T> {
        Slots {
            chan,
            n,
            waiter: None,
        }
    }

    /// `Ok` once the slots are ours, with the channel's lock still held
    /// (so a send pushes under the same lock); `Err` if the receiver is
    /// gone.
    fn poll_slots(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<MutexGuard<'a, State<T>>, SendError<()>>> {
        // A send that goes through (or fails) costs a unit of the task's
        // budget; one that waits for room gives it back below.
        ready!(coop::poll_proceed(cx));
        let mut state = self.chan.lock();
        let mut old_waker: Option<Waker> = None;
        if state.rx_closed {
            if let Some(key) = self.waiter.take() {
                old_waker = state.send_waiters.remove(key).1;
            }
            drop(state);
            drop(old_waker);
            return Poll::Ready(Err(SendError(())));
        }
        let done = match self.waiter {
            // First poll: take free slots, unless others wait before us.
            // (Zero slots never wait: `grant_head` relies on every waiter
            // wanting at least one.)
            None if self.n == 0 => true,
            None if state.permits >= self.n && state.send_waiters.is_empty() => {
                state.permits -= self.n;
                true
            }
            None => {
                let key = state
                    .send_waiters
                    .push_back_wanting(cx.waker().clone(), self.n);
                // If we are the head, gather what is free now: fewer than
                // `n`, or the fast path above would have taken them, so
                // this never completes us (and if others wait before us,
                // no slot is free).
                let st = &mut *state;
                let served = st.send_waiters.grant_head(&mut st.permits, ());
                debug_assert!(served.is_none());
                self.waiter = Some(key);
                false
            }
            // Waiting: receives handed us all our slots, or not yet.
            Some(key) if state.send_waiters.notified(key).is_some() => {
                old_waker = state.send_waiters.remove(key).1;
                self.waiter = None;
                true
            }
            Some(key) => {
                old_waker = state.send_waiters.set_waker(key, cx.waker());
                false
            }
        };
        if done {
            // A notified node's waker was taken when it was notified: no
            // waker (user code) is dropped under the lock here.
            debug_assert!(old_waker.is_none());
            Poll::Ready(Ok(state))
        } else {
            drop(state);
            drop(old_waker);
            coop::refund();
            Poll::Pending
        }
    }
}

impl<T> Future for Slots<'_, T> {
    type Output = Result<(), SendError<()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_slots(cx).map_ok(drop)
    }
}

impl<T> Drop for Slots<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.waiter.take() else {
            return;
        };
        let mut state = self.chan.lock();
        let (notified, old_waker, left) = state.send_waiters.remove_counted(key);
        // Slots we gathered (all of them, if we were notified) go on.
        let gathered = match notified {
            Some(()) => self.n,
            None => self.n - left,
        };
        let wakers = if state.rx_closed {
            Wakers::new()
        } else {
            state.release_permits(gathered)
        };
        drop(state);
        drop(old_waker);
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("max_capacity", &self.max_capacity())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.slots.waiter.is_some())
            .finish_non_exhaustive()
    }
}
