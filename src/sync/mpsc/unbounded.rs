//! The unbounded channel: [`UnboundedSender`] (whose `send` never waits)
//! and [`UnboundedReceiver`].
//!
//! Built by `mpsc::unbounded_channel()`; the state and the receiving logic
//! are the bounded channel's (`chan.rs`), without slots or waiting senders.
//! Nothing limits the queue: if the receiver falls behind, memory grows.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::chan::{Chan, Recv, Rx};
use super::error::{SendError, TryRecvError};
use super::weak::WeakUnboundedSender;
use crate::sync::park::block_on_thread;

/// The sending half of an unbounded channel. Clone it to get more senders.
///
/// `Send` and `Sync` when `T: Send`.
pub struct UnboundedSender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

/// The receiving half of an unbounded channel; also a [`Stream`].
///
/// # Cancel safety
/// `recv()` is cancel safe: a message is taken from the channel only in the
/// poll that returns it, so dropping a pending `recv()` loses none.
pub struct UnboundedReceiver<T> {
    rx: Rx<T>,
}

pub(super) fn new<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { rx: Rx::new(chan) },
    )
}

impl<T> UnboundedSender<T> {
    /// Sends `value` at once (never waits). Fails, giving the value back,
    /// if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let state = self.chan.lock();
        if state.rx_closed {
            return Err(SendError(value));
        }
        self.chan.push(state, value);
        Ok(())
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

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &UnboundedSender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A [`WeakUnboundedSender`]: it does not keep the channel open.
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender::new(self.chan.clone())
    }

    /// How many senders there are.
    pub fn strong_count(&self) -> usize {
        self.chan.lock().senders
    }

    /// How many weak senders there are.
    pub fn weak_count(&self) -> usize {
        self.chan.lock().weak_senders
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> UnboundedSender<T> {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next message, waiting for one. `None` once every sender
    /// is gone (or the receiver was closed) and the queue is empty. Each
    /// message takes a unit of the task's cooperative budget, like
    /// [`Receiver::recv`](super::Receiver::recv).
    ///
    /// # Cancel safety
    /// Cancel safe: no message is lost if it is dropped.
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { rx: &mut self.rx }
    }

    /// Receives a message if one is queued; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// Polls for the next message.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }

    /// Receives on a plain thread, parking it while the channel is empty.
    ///
    /// # Panics
    /// If called from a thread running an ember runtime.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        block_on_thread("mpsc::UnboundedReceiver::blocking_recv", self.recv())
    }

    /// Closes the channel without dropping the receiver: sends fail from
    /// now on; queued messages can still be received, then `recv` gives
    /// `None`.
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
    /// while there is none; returns how many, 0 once the channel is over
    /// (or if `limit` is 0).
    ///
    /// # Cancel safety
    /// Cancel safe: messages move into `buffer` only in the poll that
    /// returns their number.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.rx.poll_recv_many(cx, buffer, limit)).await
    }

    /// Polls for up to `limit` messages.
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

    /// How many senders there are.
    pub fn sender_strong_count(&self) -> usize {
        self.rx.sender_counts().0
    }

    /// How many weak senders there are.
    pub fn sender_weak_count(&self) -> usize {
        self.rx.sender_counts().1
    }
}

impl<T> Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedReceiver")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
