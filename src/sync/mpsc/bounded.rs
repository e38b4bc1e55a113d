//! The bounded channel: [`Sender`], [`Receiver`] and the [`SendFuture`]
//! that waits for room.
//!
//! Built by `mpsc::channel(capacity)`; all shared state and the receiving
//! logic live in `chan.rs`. A send that finds a free slot (and no sender
//! waiting before it) pushes at once, in its first poll; otherwise it queues
//! in the channel's `send_waiters` and is handed a slot by a receive.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll, Waker};

use futures_core::Stream;

use super::chan::{Chan, Recv, Rx};
use super::error::{SendError, TryRecvError, TrySendError};
use crate::runtime::coop;
use crate::sync::park::block_on_thread;

/// The sending half of a bounded channel. Clone it to get more senders.
///
/// `Send` and `Sync` when `T: Send`: a plain thread may hold one (see
/// [`blocking_send`](Self::blocking_send)).
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
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
            chan: &self.chan,
            value: Some(value),
            waiter: None,
        }
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
    chan: &'a Chan<T>,
    /// The message; `None` once sent (or given back).
    value: Option<T>,
    /// Our key in `send_waiters`, while we wait for a slot.
    waiter: Option<usize>,
}

// The message is moved, never pinned: nothing here relies on `Pin`.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // A send that goes through (or fails) costs a unit of the task's
        // budget; one that waits for room gives it back below.
        ready!(coop::poll_proceed(cx));
        let Some(value) = this.value.take() else {
            panic!("`SendFuture` polled after it completed");
        };
        let mut state = this.chan.lock();
        let mut old_waker: Option<Waker> = None;
        if state.rx_closed {
            if let Some(key) = this.waiter.take() {
                old_waker = state.send_waiters.remove(key).1;
            }
            drop(state);
            drop(old_waker);
            return Poll::Ready(Err(SendError(value)));
        }
        let has_slot = match this.waiter {
            // First poll: take a free slot, unless others wait before us.
            None if state.permits > 0 && state.send_waiters.is_empty() => {
                state.permits -= 1;
                true
            }
            None => {
                this.waiter = Some(state.send_waiters.push_back(cx.waker().clone()));
                false
            }
            // Waiting: a receive handed us a slot, or not yet.
            Some(key) if state.send_waiters.notified(key).is_some() => {
                old_waker = state.send_waiters.remove(key).1;
                this.waiter = None;
                true
            }
            Some(key) => {
                old_waker = state.send_waiters.set_waker(key, cx.waker());
                false
            }
        };
        if !has_slot {
            drop(state);
            drop(old_waker);
            this.value = Some(value);
            coop::refund();
            return Poll::Pending;
        }
        this.chan.push(state, value);
        drop(old_waker);
        Poll::Ready(Ok(()))
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.waiter.take() else {
            return;
        };
        let mut state = self.chan.lock();
        let (notified, old_waker) = state.send_waiters.remove(key);
        // Handed a slot we will not use: pass it on.
        let next = match notified {
            Some(()) if !state.rx_closed => state.release_permit(),
            _ => None,
        };
        drop(state);
        drop(old_waker);
        if let Some(w) = next {
            w.wake();
        }
        // `self.value` (the unsent message) drops after this, unlocked.
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
            .field("waiting", &self.waiter.is_some())
            .finish_non_exhaustive()
    }
}
