//! A one-shot channel: one value, sent once, from one [`Sender`] to one
//! [`Receiver`].
//!
//! Used to hand a result back (a reply to a request, a blocking job's
//! output, a shutdown trigger). Both halves share one `Arc` with a `Mutex`
//! around the slot and the two wakers, so either half may live on another
//! thread (when `T: Send`).
//!
//! # States
//!
//! | field       | set by                                   | meaning |
//! |-------------|------------------------------------------|---------|
//! | `value`     | `Sender::send`; taken by the receiver    | the value, not yet received |
//! | `tx_done`   | `Sender::send`, or dropping the `Sender` | the sender is gone: no value will come after this |
//! | `rx_closed` | `Receiver::close`, or dropping it        | a `send` from now on fails and returns the value |
//!
//! The receiver completes with `Ok(value)` if a value is there, else with
//! `Err(RecvError)` once `tx_done` or `rx_closed` is set.
//!
//! ```
//! use ember::sync::oneshot;
//!
//! ember::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     // A plain thread computes; the task awaits without blocking the loop.
//!     std::thread::spawn(move || {
//!         let _ = tx.send(6 * 7);
//!     });
//!     assert_eq!(rx.await, Ok(42));
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll, Waker};

use super::lock;
use super::park::block_on_thread;
use crate::runtime::coop;

/// Creates a one-shot channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            value: None,
            tx_done: false,
            rx_closed: false,
            rx_waker: None,
            tx_waker: None,
        }),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver {
            inner,
            terminated: false,
        },
    )
}

struct Inner<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    tx_done: bool,
    rx_closed: bool,
    /// The task awaiting the `Receiver`.
    rx_waker: Option<Waker>,
    /// The task awaiting `Sender::closed`.
    tx_waker: Option<Waker>,
}

/// The sending half: [`send`](Self::send) consumes it.
///
/// `Send` when `T: Send`. Dropping it without sending completes the
/// receiver with [`RecvError`].
pub struct Sender<T> {
    /// `None` once `send` has run (so `Drop` has nothing left to do).
    inner: Option<Arc<Inner<T>>>,
}

/// The receiving half: a future of `Result<T, RecvError>`.
///
/// # Cancel safety
/// Awaiting `&mut receiver` is cancel safe: a value that arrives after the
/// drop stays in the channel for the next poll. Awaiting the receiver by
/// value and dropping that future drops the receiver, which closes the
/// channel and drops a value sent meanwhile.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    /// Polling it returned `Ready` (a value or an error).
    terminated: bool,
}

/// The sender was dropped (or the receiver closed) without a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the oneshot sender was dropped without sending")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; the sender is still there.
    Empty,
    /// No value will come: the sender is gone (or the receiver closed).
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the oneshot channel is empty"),
            TryRecvError::Closed => f.write_str("the oneshot channel is closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T> Sender<T> {
    /// Sends `value`. Never waits. Fails, giving the value back, if the
    /// receiver was dropped or closed.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let Some(inner) = self.inner.take() else {
            return Err(value); // unreachable: `send` consumes the sender
        };
        let mut state = lock(&inner.state);
        if state.rx_closed {
            return Err(value);
        }
        state.value = Some(value);
        state.tx_done = true;
        let rx = state.rx_waker.take();
        let tx = state.tx_waker.take();
        drop(state);
        drop(tx);
        if let Some(w) = rx {
            crate::contain::wake(w);
        }
        Ok(())
    }

    /// Whether the receiver is gone (dropped or closed): a `send` would fail.
    pub fn is_closed(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|inner| lock(&inner.state).rx_closed)
    }

    /// Completes when the receiver is dropped or closed. Useful to stop
    /// computing a value nobody wants any more.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub fn closed(&mut self) -> Closed<'_, T> {
        Closed { sender: self }
    }

    /// Polls for the receiver to be dropped or closed; `Pending` stores the
    /// waker (one per sender: the last one polled is woken).
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = &self.inner else {
            return Poll::Ready(());
        };
        let mut state = lock(&inner.state);
        if state.rx_closed {
            return Poll::Ready(());
        }
        let old = match &state.tx_waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => state.tx_waker.replace(cx.waker().clone()),
        };
        drop(state);
        drop(old);
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let mut state = lock(&inner.state);
        state.tx_done = true;
        let rx = state.rx_waker.take();
        let tx = state.tx_waker.take();
        drop(state);
        drop(tx);
        if let Some(w) = rx {
            crate::contain::wake(w);
        }
    }
}

impl<T> Receiver<T> {
    /// Closes the channel without dropping the receiver: a later `send`
    /// fails and gets its value back, and a pending [`Sender::closed`]
    /// completes. A value sent before the close can still be received
    /// (with [`try_recv`](Self::try_recv) or by awaiting).
    pub fn close(&mut self) {
        let mut state = lock(&self.inner.state);
        state.rx_closed = true;
        let tx = state.tx_waker.take();
        drop(state);
        if let Some(w) = tx {
            crate::contain::wake(w);
        }
    }

    /// Whether awaiting the receiver has completed already (with a value
    /// or an error): polling it again would be a mistake.
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// Whether no value is waiting in the channel: none was sent yet, or it
    /// was received (or the receiver terminated).
    pub fn is_empty(&self) -> bool {
        self.terminated || lock(&self.inner.state).value.is_none()
    }

    /// Takes the value if it is there; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = lock(&self.inner.state);
        match state.value.take() {
            Some(v) => Ok(v),
            None if state.tx_done || state.rx_closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Waits for the value on a plain thread, parking it.
    ///
    /// # Panics
    /// If called from a thread running an ember runtime (`.await` the
    /// receiver there instead).
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        block_on_thread("oneshot::Receiver::blocking_recv", self)
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Completing costs a unit of the task's cooperative budget; waiting
        // gives it back (see `runtime/coop.rs`).
        ready!(coop::poll_proceed(cx));
        let this = self.get_mut();
        let mut state = lock(&this.inner.state);
        if let Some(v) = state.value.take() {
            drop(state);
            this.terminated = true;
            return Poll::Ready(Ok(v));
        }
        if state.tx_done || state.rx_closed {
            drop(state);
            this.terminated = true;
            return Poll::Ready(Err(RecvError(())));
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
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = lock(&self.inner.state);
        state.rx_closed = true;
        let value = state.value.take();
        let rx = state.rx_waker.take();
        let tx = state.tx_waker.take();
        drop(state);
        // The value's destructor is user code: it runs with the lock released.
        drop(value);
        drop(rx);
        if let Some(w) = tx {
            crate::contain::wake(w);
        }
    }
}

/// Future of [`Sender::closed`].
///
/// # Cancel safety
/// Cancel safe.
#[must_use = "futures do nothing unless awaited"]
pub struct Closed<'a, T> {
    sender: &'a mut Sender<T>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.sender.poll_closed(cx)
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.inner.state);
        f.debug_struct("oneshot::Receiver")
            .field("has_value", &state.value.is_some())
            .field("sender_done", &state.tx_done)
            .finish()
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Closed").finish_non_exhaustive()
    }
}
