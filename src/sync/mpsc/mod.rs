//! Multi-producer, single-consumer channels: [`channel`] (bounded) and
//! [`unbounded_channel`].
//!
//! Messages arrive in the order they were sent (per sender; between senders,
//! in the order their sends took effect). Senders are `Clone`, and `Send` +
//! `Sync` when `T: Send`, so tasks and plain threads can all feed one
//! receiver. The receiver is a [`futures_core::Stream`] too.
//!
//! | operation | bounded ([`Sender`]) | unbounded ([`UnboundedSender`]) |
//! |-----------|----------------------|---------------------------------|
//! | send      | `send(v).await` waits for room; `try_send(v)` never waits; `blocking_send(v)` on a plain thread | `send(v)` never waits |
//! | receiver gone | the send fails and gives `v` back in the error | same |
//! | receive   | `recv().await`, `try_recv()`, `blocking_recv()`, `Stream` | same |
//! | end       | `recv()` gives `None` once every sender is dropped (or `close` was called) and the queue is empty | same |
//!
//! ```
//! use ember::sync::mpsc;
//!
//! ember::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(16);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         ember::spawn(async move {
//!             tx.send(id).await.expect("receiver alive");
//!         });
//!     }
//!     drop(tx); // otherwise `recv` would wait for it forever
//!     let mut got = Vec::new();
//!     while let Some(id) = rx.recv().await {
//!         got.push(id);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```
//!
//! # Cost
//! On the loop's thread a send and a receive make no syscall: two
//! uncontended lock operations and, if the receiver waits, one push on the
//! run queue (see the [module docs](super)). A bounded channel allocates its
//! `VecDeque` once; after that no message allocates.
//!
//! Slots can be reserved before the message exists: `reserve` (and
//! `reserve_owned`, `reserve_many`, their `try_` forms) wait in the same
//! FIFO queue as `send` and return permits that send without waiting
//! (`permit.rs`). Weak senders (`downgrade`) do not keep the channel open
//! (`weak.rs`).
//!
//! # Production notes
//! `try_send` and `try_reserve*` report `Full` when senders are already
//! queued even if a slot was just freed for one of them: waiting senders
//! come first (tokio's semaphore behaves the same).

mod bounded;
mod chan;
mod error;
mod permit;
mod unbounded;
mod weak;

pub use bounded::{Receiver, SendFuture, Sender};
pub use chan::Recv;
pub use error::{SendError, TryRecvError, TrySendError};
pub use permit::{OwnedPermit, Permit, PermitIterator};
pub use unbounded::{UnboundedReceiver, UnboundedSender};
pub use weak::{WeakSender, WeakUnboundedSender};

/// Creates a bounded channel holding at most `capacity` messages: when it
/// is full, `send(..).await` waits until the receiver takes one.
///
/// # Panics
/// If `capacity` is 0 (a rendezvous channel is not supported: use 1).
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "mpsc::channel needs a capacity of at least 1 (got 0)"
    );
    bounded::new(capacity)
}

/// Creates an unbounded channel: `send` never waits, and the queue grows as
/// needed.
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    unbounded::new()
}
