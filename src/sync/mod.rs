//! Synchronisation between tasks, and between tasks and plain threads:
//! channels ([`oneshot`], [`mpsc`], [`watch`], [`broadcast`]), [`Notify`],
//! [`Semaphore`], the async locks [`Mutex`] and [`RwLock`], [`Barrier`],
//! [`OnceCell`] and [`SetOnce`]. Names, signatures and behaviour are
//! tokio's (`tokio::sync`), less the `Send` bounds one thread does not need.
//!
//! Needs the `sync` feature (in the default `full`).
//!
//! | type | `Send + Sync`? | state | waits in |
//! |------|----------------|-------|----------|
//! | `oneshot`, `mpsc` | halves: when `T: Send` | `std::sync::Mutex` | `WaitList` (bounded senders), a waker slot (receivers) |
//! | `Notify` | yes | `std::sync::Mutex` + a generation atomic | `WaitList` |
//! | `Semaphore` | yes | one atomic word; waiters behind a `Mutex` | `WaitList` (counted) |
//! | `watch` | halves: when `T: Send + Sync` | `std::sync::RwLock` + a version atomic | `Notify` |
//! | `broadcast` | halves: when `T: Send` | `std::sync::Mutex` (a ring) | `WaitList` |
//! | `Barrier` | yes | `std::sync::Mutex` | `Notify` |
//! | `OnceCell`, `SetOnce` | when `T: Send + Sync` | `std::sync::OnceLock` | `Semaphore`, `Notify` |
//! | `Mutex`, `RwLock` | `Send` only: loop-local | `Cell`/`RefCell` (`local_permits.rs`) | `WaitList` (counted) |
//!
//! One primitive per file (`mpsc/` is a directory: `chan.rs` the shared
//! state and receiving side, `bounded.rs`, `unbounded.rs`, `permit.rs`,
//! `weak.rs`, `error.rs`); with `wait_list.rs`, the FIFO of waiting futures
//! they share, `local_permits.rs`, the atomics-free semaphore under the
//! locks, and `park.rs`, the `blocking_*` methods for plain threads. Each
//! file's header argues its choice of synchronisation.
//!
//! Called by user code, from tasks or plain threads. Relies on nothing but
//! std, `Waker`s and the runtime's cooperative budget (`runtime/coop.rs`, a
//! thread-local counter): no reactor, no syscall of its own, no `unsafe`.
//!
//! # The cooperative budget
//! A receive that finds its message (`mpsc`, `oneshot`, `broadcast`), a
//! bounded send that goes through, and a `Notified`, an acquire or a lock
//! that completes each take one unit of the polling task's budget; when it
//! is spent they wake the task and return `Pending` once, so a task whose channel is always ready (a
//! producer on another thread that never falls behind) still lets the
//! others run. A poll that waits gives its unit back. On a plain thread
//! (`blocking_recv`, another executor) nothing is ever refused.
//!
//! # Why a send on the loop's thread costs no syscall
//! A primitive never wakes anyone itself while it holds its lock (or
//! `RefCell` borrow): it takes the waker out, releases the lock, then wakes
//! it through `contain::wake` (a user's waker that panics is contained).
//! ember's wakers choose their path (see `runtime/waker.rs`): on the loop's thread a wake
//! pushes the task on the run queue; only a wake from another thread goes
//! through the remote queue and may ring the eventfd. So a send and a
//! receive between two tasks cost an uncontended lock each (two atomic
//! operations, no futex call) and, when the receiver waits, one push on the
//! run queue. Nobody is woken when nobody waits: a waiter's waker is taken
//! out of the state when it is woken, so a second send finds none.
//!
//! # Production notes
//! - tokio's channels are lock-free linked blocks of slots with an atomic
//!   semaphore; a mutex around a `VecDeque` is simpler to read, and on one
//!   thread it is uncontended, which makes it cheap (see `bench/` for the
//!   measured cost per message beside tokio's).
//! - tokio charges receives and sends to the task's cooperative budget as
//!   ember does, but not `Notified`; ember charges it too, since a permit
//!   refilled from another thread is as always-ready as a channel.

mod barrier;
pub mod broadcast;
mod local_permits;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod park;
mod rwlock;
mod semaphore;
mod set_once;
mod wait_list;
pub mod watch;

pub mod mpsc;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify, OwnedNotified};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard,
    RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
pub use set_once::{SetOnce, SetOnceError};

/// Locks `m`, ignoring poisoning. Sound here because no primitive runs user
/// code while it holds its lock (values are dropped and wakers woken after
/// the guard is gone), so a panic cannot leave the state half-changed.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
