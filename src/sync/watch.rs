//! A single-value channel that keeps only the latest value: senders
//! overwrite it, receivers see that it changed and read the newest one.
//!
//! Used for configuration, shutdown flags, progress: anything where only
//! the newest value matters. Relies on a `std::sync::RwLock` for the value
//! and on [`Notify`] for the waiting receivers.
//!
//! # Why a `std` lock and atomics
//! `watch` is one of the types a plain thread uses (a thread publishing
//! its state), so both halves are `Send + Sync` when `T` is: the value sits
//! in a `std::sync::RwLock` (readers of the same value do not exclude one
//! another) and the version in an atomic. Uncontended on the loop's
//! thread, a send costs a write lock, a version bump and a
//! `notify_waiters`; a read costs a read lock.
//!
//! | `state` bits | meaning | changed by |
//! |--------------|---------|------------|
//! | bit 0 (`CLOSED`) | every sender is gone | the last sender's drop |
//! | bits 1.. (version) | bumped by each send, under the write lock | `send*` |
//!
//! A receiver remembers the version it last saw. `changed()` first creates
//! its `Notified` (so a send between the check and the wait is not
//! missed; see [`Notify::notified`]), then compares versions: the newest
//! value is never lost, however many sends happened in between (only the
//! last one is kept, by design).
//!
//! Production note: tokio spreads its receivers over eight `Notify`s to
//! cut contention between threads; on one thread one is enough.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll};

use futures_core::Stream;

use super::notify::Notify;
use crate::runtime::coop;

const CLOSED: usize = 1;
const STEP: usize = 2;

/// Errors of `watch`.
pub mod error {
    use std::fmt;

    /// [`Sender::send`](super::Sender::send) found no receiver; the value
    /// is returned.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("SendError(..)")
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("every watch receiver is gone")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    /// Every sender is gone (and the receiver has seen the last value).
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("every watch sender is gone")
        }
    }

    impl std::error::Error for RecvError {}
}

use error::{RecvError, SendError};

struct Shared<T> {
    value: RwLock<T>,
    /// Version (bits 1..) and `CLOSED`; see the module docs.
    state: AtomicUsize,
    receivers: AtomicUsize,
    senders: AtomicUsize,
    /// Receivers waiting in `changed()`.
    changed: Notify,
    /// Senders waiting in `closed()` (every receiver gone).
    closed: Notify,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.value.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Creates a watch channel holding `init`. The receiver starts having
/// seen `init`.
///
/// ```
/// use ember::sync::watch;
///
/// ember::block_on(async {
///     let (tx, mut rx) = watch::channel("starting");
///     let task = ember::spawn(async move {
///         rx.changed().await.unwrap();
///         *rx.borrow_and_update()
///     });
///     tx.send("running").unwrap();
///     assert_eq!(task.await.unwrap(), "running");
/// });
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        receivers: AtomicUsize::new(1),
        senders: AtomicUsize::new(1),
        changed: Notify::new(),
        closed: Notify::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, version: 0 },
    )
}

/// The sending half: replaces the value and tells the receivers.
///
/// `Send + Sync` when `T` is; `Clone` (the channel closes when the last
/// sender is dropped).
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half: reads the newest value, waits for a change.
///
/// `Send + Sync` when `T` is; `Clone` (the clone has seen what this one has).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version of the value this receiver last saw (`CLOSED` bit clear).
    version: usize,
}

/// A read lock on the value, from `borrow*`. Hold it briefly: senders wait
/// for it to drop (and on the loop's thread, a sender that waits blocks the
/// loop).
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether this value had not been seen by the receiver when it was
    /// borrowed (always `false` from [`Sender::borrow`]).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.guard, f)
    }
}

impl<T> Sender<T> {
    /// A sender with no receiver yet ([`subscribe`](Self::subscribe) makes
    /// them).
    pub fn new(init: T) -> Sender<T> {
        let (tx, rx) = channel(init);
        drop(rx);
        tx
    }

    /// Replaces the value and tells the receivers. Fails, giving the value
    /// back, if there is no receiver.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.load(Ordering::Acquire) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value (with or without receivers), tells the
    /// receivers, and returns the old value.
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| std::mem::swap(old, &mut value));
        value
    }

    /// Changes the value in place and tells the receivers.
    ///
    /// If `modify` panics, the receivers are not told (what it changed
    /// before the panic stays).
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Runs `modify` on the value; tells the receivers only if it returns
    /// `true`. Returns what `modify` returned.
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        {
            let mut guard = self.shared.write();
            if !modify(&mut guard) {
                return false;
            }
            // Under the write lock: a reader sees the value and its
            // version together.
            self.shared.state.fetch_add(STEP, Ordering::AcqRel);
        }
        self.shared.changed.notify_waiters();
        true
    }

    /// The current value (the sender's view: `has_changed` is `false`).
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            has_changed: false,
        }
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn closed(&self) {
        loop {
            let notified = self.shared.closed.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// A new receiver, which has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        // Read under the lock so the version matches the value.
        let version = {
            let _guard = self.shared.read();
            self.shared.state.load(Ordering::Acquire) & !CLOSED
        };
        Receiver {
            shared: self.shared.clone(),
            version,
        }
    }

    /// How many receivers there are.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Acquire)
    }

    /// How many senders there are.
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.senders.fetch_add(1, Ordering::AcqRel);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.state.fetch_or(CLOSED, Ordering::AcqRel);
            self.shared.changed.notify_waiters();
        }
    }
}

impl<T: Default> Default for Sender<T> {
    fn default() -> Sender<T> {
        Sender::new(T::default())
    }
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let version = self.shared.state.load(Ordering::Acquire) & !CLOSED;
        Ref {
            guard,
            has_changed: version != self.version,
        }
    }

    /// The current value, marking it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        let version = self.shared.state.load(Ordering::Acquire) & !CLOSED;
        let has_changed = version != self.version;
        self.version = version;
        Ref { guard, has_changed }
    }

    /// Whether a value this receiver has not seen was sent. `Err` once
    /// every sender is gone.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.load(Ordering::Acquire);
        if state & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(state & !CLOSED != self.version)
    }

    /// Makes the current value count as unseen.
    pub fn mark_changed(&mut self) {
        self.version = self.version.wrapping_sub(STEP);
    }

    /// Makes the current value count as seen.
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.state.load(Ordering::Acquire) & !CLOSED;
    }

    /// Waits for a value this receiver has not seen, and marks it seen
    /// (read it with [`borrow`](Self::borrow)). Completes at once if one
    /// is there already. `Err` once every sender is gone and the newest
    /// value was seen.
    ///
    /// Seeing a change takes a unit of the task's cooperative budget, so
    /// a sender on another thread that never stops cannot hold the loop.
    ///
    /// # Cancel safety
    /// Cancel safe: it changes nothing until it completes.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        loop {
            // Created before the check, so a send in between wakes it.
            let notified = self.shared.changed.notified();
            let state = self.shared.state.load(Ordering::Acquire);
            if state & !CLOSED != self.version {
                std::future::poll_fn(coop::poll_proceed).await;
                // The newest version (the budget may have made us yield).
                self.version = self.shared.state.load(Ordering::Acquire) & !CLOSED;
                return Ok(());
            }
            if state & CLOSED != 0 {
                return Err(RecvError(()));
            }
            notified.await;
        }
    }

    /// Waits until the value satisfies `f` (checking the current one
    /// first), marks it seen and returns it.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        loop {
            let notified = self.shared.changed.notified();
            let closed;
            {
                let guard = self.shared.read();
                let state = self.shared.state.load(Ordering::Acquire);
                let has_changed = state & !CLOSED != self.version;
                self.version = state & !CLOSED;
                if f(&guard) {
                    drop(guard);
                    // Nobody on this thread can send in between; a plain
                    // thread might, and then the newer value is returned.
                    return Ok(Ref {
                        guard: self.shared.read(),
                        has_changed,
                    });
                }
                closed = state & CLOSED != 0;
            }
            if closed {
                return Err(RecvError(()));
            }
            notified.await;
        }
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        Receiver {
            shared: self.shared.clone(),
            version: self.version,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.closed.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("value", &*self.borrow())
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("value", &*self.borrow())
            .finish()
    }
}

/// A watch [`Receiver`] as a [`Stream`] of clones of the value: the
/// current value first, then each change (the newest value at the time it
/// is polled; values overwritten in between are skipped, by design). Ends
/// once every sender is gone. tokio-stream's `WatchStream`.
///
/// Not `Send` (it boxes a future without a `Send` bound, as ember needs
/// none).
///
/// # Cancel safety
/// Dropping a pending `poll_next` (its `next()` future) loses nothing: the
/// newest value is read when the stream yields.
///
/// ```
/// use ember::sync::watch::{self, WatchStream};
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
///
/// ember::block_on(async {
///     let (tx, rx) = watch::channel(1);
///     let mut stream = WatchStream::new(rx);
///     async fn next(s: &mut WatchStream<i32>) -> Option<i32> {
///         poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
///     }
///     assert_eq!(next(&mut stream).await, Some(1));
///     tx.send(2).unwrap();
///     assert_eq!(next(&mut stream).await, Some(2));
///     drop(tx);
///     assert_eq!(next(&mut stream).await, None);
/// });
/// ```
pub struct WatchStream<T> {
    state: StreamState<T>,
}

type Changed<T> = Pin<Box<dyn Future<Output = (Result<(), RecvError>, Receiver<T>)>>>;

enum StreamState<T> {
    /// Yield the current value at once.
    First(Receiver<T>),
    /// Waiting for a change.
    Waiting(Changed<T>),
    Done,
}

impl<T: Clone + 'static> WatchStream<T> {
    /// Yields the current value, then each change.
    pub fn new(rx: Receiver<T>) -> WatchStream<T> {
        WatchStream {
            state: StreamState::First(rx),
        }
    }

    /// Yields only changes made after this call.
    pub fn from_changes(mut rx: Receiver<T>) -> WatchStream<T> {
        rx.mark_unchanged();
        WatchStream {
            state: StreamState::Waiting(wait(rx)),
        }
    }
}

fn wait<T: 'static>(mut rx: Receiver<T>) -> Changed<T> {
    Box::pin(async move {
        let r = rx.changed().await;
        (r, rx)
    })
}

impl<T: Clone + 'static> Stream for WatchStream<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let state = std::mem::replace(&mut self.state, StreamState::Done);
        match state {
            StreamState::First(mut rx) => {
                let value = rx.borrow_and_update().clone();
                self.state = StreamState::Waiting(wait(rx));
                Poll::Ready(Some(value))
            }
            StreamState::Waiting(mut fut) => match fut.as_mut().poll(cx) {
                Poll::Pending => {
                    self.state = StreamState::Waiting(fut);
                    Poll::Pending
                }
                Poll::Ready((Ok(()), mut rx)) => {
                    let value = rx.borrow_and_update().clone();
                    self.state = StreamState::Waiting(wait(rx));
                    Poll::Ready(Some(value))
                }
                Poll::Ready((Err(_), _)) => Poll::Ready(None),
            },
            StreamState::Done => Poll::Ready(None),
        }
    }
}

impl<T> fmt::Debug for WatchStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchStream").finish_non_exhaustive()
    }
}
