//! A multi-producer, multi-consumer channel where every receiver gets
//! every value: a bounded ring that drops the oldest value when full, and
//! tells a receiver that fell behind how many it missed.
//!
//! Used for chat rooms, event fan-out, shutdown broadcasts. Relies on
//! `WaitList` for the waiting receivers and on the cooperative budget.
//!
//! # Why one `std` mutex
//! Senders and receivers work from plain threads too (`Send + Sync` when
//! `T: Send`), so the ring sits behind a `std::sync::Mutex`. On the loop's
//! thread it is uncontended: a send or a receive costs one lock and one
//! unlock, where tokio's lock-free slots take a tail mutex plus a lock per
//! slot.
//!
//! # The ring
//! `capacity` (rounded up to a power of two, as tokio does) slots, indexed
//! by position modulo capacity. `tail` is the position of the next send.
//! Each receiver keeps `next`, the position it reads next.
//!
//! | slot field | meaning |
//! |------------|---------|
//! | `pos` | the position of the value stored there |
//! | `rem` | receivers that have yet to read it; the value is dropped early when it reaches 0 |
//! | `value` | the value, or `None` once every receiver has read it |
//!
//! A receiver whose `next` is older than `tail - capacity` lagged: the
//! values in between were overwritten. Its next `recv` returns
//! `Err(Lagged(n))` with `n` the exact number it missed, and moves it to
//! the oldest value still held.
//!
//! Values the channel drops (overwritten, read by everyone, or left when
//! the last receiver goes) are dropped after the lock is released, and
//! wakers are woken then too (through `contain::wake_all`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use super::lock;
use super::notify::Notify;
use super::wait_list::{WaitList, Wakers};
use crate::runtime::coop;

/// Errors of `broadcast`.
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
            f.write_str("no broadcast receiver")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    /// Why [`Receiver::recv`](super::Receiver::recv) returned no value.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum RecvError {
        /// Every sender is gone and every value was received.
        Closed,
        /// The receiver fell behind: this many values were overwritten
        /// before it read them. The next `recv` returns the oldest value
        /// still held.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("the broadcast channel is closed"),
                RecvError::Lagged(n) => write!(f, "the receiver lagged behind by {n} values"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no
    /// value.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum TryRecvError {
        /// No value now; senders are still there.
        Empty,
        /// Every sender is gone and every value was received.
        Closed,
        /// As [`RecvError::Lagged`].
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("the broadcast channel is empty"),
                TryRecvError::Closed => f.write_str("the broadcast channel is closed"),
                TryRecvError::Lagged(n) => {
                    write!(f, "the receiver lagged behind by {n} values")
                }
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

struct Slot<T> {
    pos: u64,
    rem: usize,
    value: Option<T>,
}

struct State<T> {
    ring: Box<[Slot<T>]>,
    /// Position of the next value sent.
    tail: u64,
    receivers: usize,
    senders: usize,
    /// `WeakSender`s: they keep the memory, not the channel, open.
    weak_senders: usize,
    /// Receivers waiting in `recv`.
    waiters: WaitList<()>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// `capacity - 1`; the capacity is a power of two.
    mask: u64,
    /// Told when the last receiver goes (`Sender::closed`).
    no_receivers: Notify,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }

    fn capacity(&self) -> u64 {
        self.mask + 1
    }
}

/// Creates a broadcast channel holding the last `capacity` values
/// (rounded up to a power of two).
///
/// ```
/// use ember::sync::broadcast;
///
/// ember::block_on(async {
///     let (tx, mut rx1) = broadcast::channel(16);
///     let mut rx2 = tx.subscribe();
///     tx.send(10).unwrap();
///     tx.send(20).unwrap();
///     assert_eq!(rx1.recv().await, Ok(10));
///     assert_eq!(rx2.recv().await, Ok(10));
///     assert_eq!(rx1.recv().await, Ok(20));
///     assert_eq!(rx2.recv().await, Ok(20));
/// });
/// ```
///
/// # Panics
/// If `capacity` is 0 or larger than `usize::MAX / 2`.
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

/// The sending half; `Clone`, and `Send + Sync` when `T: Send`.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half: gets every value sent after it subscribed.
/// `Send + Sync` when `T: Send`.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Position of the next value to read.
    next: u64,
}

impl<T> Sender<T> {
    /// A sender with no receiver yet ([`subscribe`](Self::subscribe)).
    ///
    /// # Panics
    /// If `capacity` is 0 or larger than `usize::MAX / 2`.
    #[track_caller]
    pub fn new(capacity: usize) -> Sender<T> {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeded `usize::MAX / 2`"
        );
        let capacity = capacity.next_power_of_two();
        let ring = (0..capacity)
            .map(|_| Slot {
                pos: u64::MAX,
                rem: 0,
                value: None,
            })
            .collect();
        Sender {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    ring,
                    tail: 0,
                    receivers: 0,
                    senders: 1,
                    weak_senders: 0,
                    waiters: WaitList::new(),
                }),
                mask: capacity as u64 - 1,
                no_receivers: Notify::new(),
            }),
        }
    }

    /// Sends `value` to every receiver; returns how many there are. Never
    /// waits: when the ring is full the oldest value is overwritten (and
    /// receivers that had not read it will see `Lagged`). Fails, giving
    /// the value back, if there is no receiver.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = Wakers::new();
        let mut state = self.shared.lock();
        let receivers = state.receivers;
        if receivers == 0 {
            return Err(SendError(value));
        }
        let tail = state.tail;
        let slot = &mut state.ring[(tail & self.shared.mask) as usize];
        slot.pos = tail;
        slot.rem = receivers;
        let old = slot.value.replace(value);
        state.tail = tail + 1;
        if !state.waiters.is_empty() {
            state.waiters.notify_all_into((), &mut wakers);
        }
        drop(state);
        drop(old);
        wakers.wake_all();
        Ok(receivers)
    }

    /// A new receiver, which gets the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        let mut state = self.shared.lock();
        state.receivers += 1;
        let next = state.tail;
        drop(state);
        Receiver {
            shared: self.shared.clone(),
            next,
        }
    }

    /// How many values some receiver has yet to read (at most the
    /// capacity).
    pub fn len(&self) -> usize {
        let state = self.shared.lock();
        let oldest = state.tail.saturating_sub(self.shared.capacity());
        (oldest..state.tail)
            .rev()
            .take_while(|&pos| {
                let slot = &state.ring[(pos & self.shared.mask) as usize];
                slot.pos == pos && slot.rem > 0
            })
            .count()
    }

    /// Whether every value was read by every receiver.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many receivers there are.
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().receivers
    }

    /// How many senders there are.
    pub fn sender_count(&self) -> usize {
        self.shared.lock().senders
    }

    /// How many senders there are (tokio's name beside `sender_count`).
    pub fn strong_count(&self) -> usize {
        self.shared.lock().senders
    }

    /// How many weak senders there are.
    pub fn weak_count(&self) -> usize {
        self.shared.lock().weak_senders
    }

    /// A [`WeakSender`]: it does not keep the channel open, and
    /// [`upgrade`](WeakSender::upgrade)s while a sender is left.
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared.lock().weak_senders += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until there is no receiver.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn closed(&self) {
        loop {
            let notified = self.shared.no_receivers.notified();
            if self.receiver_count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// A sender that does not keep the channel open (receivers see `Closed`
/// once the last [`Sender`] goes); made by [`Sender::downgrade`].
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> WeakSender<T> {
    /// A sender, unless every sender is gone.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut state = self.shared.lock();
        if state.senders == 0 {
            return None;
        }
        state.senders += 1;
        drop(state);
        Some(Sender {
            shared: self.shared.clone(),
        })
    }

    /// How many senders there are.
    pub fn strong_count(&self) -> usize {
        self.shared.lock().senders
    }

    /// How many weak senders there are.
    pub fn weak_count(&self) -> usize {
        self.shared.lock().weak_senders
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        self.shared.lock().weak_senders += 1;
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared.lock().weak_senders -= 1;
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::WeakSender")
            .finish_non_exhaustive()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = Vec::new();
        let mut state = self.shared.lock();
        state.senders -= 1;
        if state.senders == 0 {
            state.waiters.notify_all((), &mut wakers);
        }
        drop(state);
        crate::contain::wake_all(&mut wakers);
    }
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value, waiting for one. `Err(Lagged(n))` if `n`
    /// values were overwritten before this receiver read them (the next
    /// call returns the oldest value still held); `Err(Closed)` once every
    /// sender is gone and every value was read.
    ///
    /// Completing takes a unit of the task's cooperative budget.
    ///
    /// # Cancel safety
    /// Cancel safe: a value is taken only in the poll that returns it.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            rx: self,
            waiter: None,
        }
        .await
    }

    /// Receives the next value if there is one; never waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let out = take(&mut self.next, self.shared.mask, &mut self.shared.lock());
        match out {
            Some(Ok(v)) => Ok(v),
            Some(Err(RecvError::Lagged(n))) => Err(TryRecvError::Lagged(n)),
            Some(Err(RecvError::Closed)) => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Receives on a plain thread, parking it while there is nothing.
    ///
    /// # Panics
    /// If called from a thread running an ember runtime.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        super::park::block_on_thread("broadcast::Receiver::blocking_recv", self.recv())
    }
}

impl<T> Receiver<T> {
    /// How many values were sent that this receiver has yet to read
    /// (including overwritten ones it will hear about as a lag).
    pub fn len(&self) -> usize {
        (self.shared.lock().tail - self.next) as usize
    }

    /// Whether this receiver has read every value sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().senders == 0
    }

    /// A new receiver on the same channel, starting at the values sent
    /// from now on (not at this one's position).
    pub fn resubscribe(&self) -> Receiver<T> {
        let mut state = self.shared.lock();
        state.receivers += 1;
        let next = state.tail;
        drop(state);
        Receiver {
            shared: self.shared.clone(),
            next,
        }
    }

    /// How many senders there are.
    pub fn sender_strong_count(&self) -> usize {
        self.shared.lock().senders
    }

    /// How many weak senders there are.
    pub fn sender_weak_count(&self) -> usize {
        self.shared.lock().weak_senders
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut dropped = Vec::new();
        let mut state = self.shared.lock();
        // Release the values this receiver will never read.
        let oldest = state.tail.saturating_sub(self.shared.capacity());
        for pos in self.next.max(oldest)..state.tail {
            let slot = &mut state.ring[(pos & self.shared.mask) as usize];
            if slot.pos == pos && slot.rem > 0 {
                slot.rem -= 1;
                if slot.rem == 0 {
                    dropped.extend(slot.value.take());
                }
            }
        }
        state.receivers -= 1;
        let last = state.receivers == 0;
        drop(state);
        drop(dropped);
        if last {
            self.shared.no_receivers.notify_waiters();
        }
    }
}

/// With the lock held: the next value for the receiver at `*next`, a lag,
/// the end, or `None` (wait). The last reader of a slot moves the value
/// out instead of cloning it. (A free function so that callers can hold
/// the lock, borrowed from the receiver's `Arc`, while `next` changes.)
fn take<T: Clone>(next: &mut u64, mask: u64, state: &mut State<T>) -> Option<Result<T, RecvError>> {
    let oldest = state.tail.saturating_sub(mask + 1);
    if *next < oldest {
        let missed = oldest - *next;
        *next = oldest;
        return Some(Err(RecvError::Lagged(missed)));
    }
    if *next == state.tail {
        return (state.senders == 0).then_some(Err(RecvError::Closed));
    }
    let slot = &mut state.ring[(*next & mask) as usize];
    *next += 1;
    slot.rem -= 1;
    let value = if slot.rem == 0 {
        slot.value.take()
    } else {
        slot.value.clone()
    };
    value.map(Ok)
}

/// The future of [`Receiver::recv`].
struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    /// Our key in `waiters`, while we wait.
    waiter: Option<usize>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(coop::poll_proceed(cx));
        let this = self.get_mut();
        let rx = &mut *this.rx;
        let mut state = rx.shared.lock();
        let mut old: Option<Waker> = None;
        let out = take(&mut rx.next, rx.shared.mask, &mut state);
        if out.is_some() {
            if let Some(key) = this.waiter.take() {
                old = state.waiters.remove(key).1;
            }
        } else {
            match this.waiter {
                // Notified (unlinked) or not: queue again with this waker.
                Some(key) if state.waiters.notified(key).is_some() => {
                    old = state.waiters.remove(key).1;
                    this.waiter = Some(state.waiters.push_back(cx.waker().clone()));
                }
                Some(key) => old = state.waiters.set_waker(key, cx.waker()),
                None => this.waiter = Some(state.waiters.push_back(cx.waker().clone())),
            }
        }
        drop(state);
        drop(old);
        match out {
            Some(out) => Poll::Ready(out),
            None => {
                coop::refund();
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for Recv<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.waiter.take() {
            let old = self.rx.shared.lock().waiters.remove(key).1;
            drop(old);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}
