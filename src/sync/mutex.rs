//! `Mutex`: an async lock whose guard may be held across an `.await`,
//! handed to waiting tasks in FIFO order.
//!
//! Called by user code on the loop's thread. Relies on [`LocalPermits`]
//! (one permit, a FIFO queue) and a `RefCell` for the value.
//!
//! # Why it is not `Sync`
//! A lock held across an `.await` is a loop-side tool: every task that
//! takes it runs on the loop's one thread (a plain thread wants
//! `std::sync::Mutex`). So ember's `Mutex` is `Send` (when `T` is) but not
//! `Sync`: it keeps its state in `Cell`s, and a lock and an unlock cost a
//! few plain loads and stores instead of tokio's atomic operations and its
//! waiter mutex. The price: it cannot be a `static`, nor shared with
//! `spawn_blocking` (use a `std::sync::Mutex` for that).
//!
//! # How the guard reaches the value without `unsafe`
//! The value sits in a `RefCell<Option<T>>`. A [`MutexGuard`] holds the
//! `RefCell`'s `RefMut` (so [`MutexGuard::map`] is `RefMut::map`); an
//! [`OwnedMutexGuard`] moves the value out of the cell and puts it back
//! when it drops (a guard that owns an `Arc` cannot borrow from it). The
//! permit guarantees only one guard exists at a time, so neither the
//! borrow nor the `Option` can fail.
//!
//! | state | `permits.free` | value |
//! |-------|----------------|-------|
//! | unlocked | 1 | in the cell |
//! | held by a `MutexGuard` | 0 | in the cell, mutably borrowed |
//! | held by an `OwnedMutexGuard` | 0 | in the guard (`None` in the cell) |
//! | handed to a waiter, not yet polled | 0 | in the cell |

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::local_permits::LocalPermits;

/// An async mutual-exclusion lock for tasks on the loop's thread.
///
/// [`lock`](Self::lock) waits for the lock; waiters get it in the order
/// they asked (each unlock hands it straight to the first waiter). The
/// guard may be held across `.await` points.
///
/// `Send` when `T: Send`, **not `Sync`**: share it between tasks with `Rc`
/// (or `Arc`, which [`lock_owned`](Self::lock_owned) takes, as tokio's
/// does; clippy's `arc_with_non_send_sync` then says, rightly, that no
/// other thread can use it). For a lock shared with plain threads or
/// `spawn_blocking`, use `std::sync::Mutex`.
///
/// ```
/// use std::rc::Rc;
/// use ember::sync::Mutex;
///
/// ember::block_on(async {
///     let count = Rc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let count = count.clone();
///             ember::spawn(async move {
///                 let mut n = count.lock().await;
///                 ember::task::yield_now().await; // held across an await
///                 *n += 1;
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(*count.lock().await, 10);
/// });
/// ```
pub struct Mutex<T> {
    permits: LocalPermits,
    /// `None` while an [`OwnedMutexGuard`] holds the value.
    value: RefCell<Option<T>>,
}

/// [`Mutex::try_lock`] found the lock held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held")
    }
}

impl std::error::Error for TryLockError {}

/// For `RwLock`'s `try_*`, which share the error type.
pub(super) fn try_lock_error() -> TryLockError {
    TryLockError(())
}

/// Message of the `expect`s that the permit makes unreachable.
const HELD: &str = "ember::sync::Mutex: the value is in the cell while the permit is held";

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex::const_new(value)
    }

    /// [`new`](Self::new) in a `const` context.
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex {
            permits: LocalPermits::new(1),
            value: RefCell::new(Some(value)),
        }
    }

    /// Waits for the lock.
    ///
    /// Completing takes a unit of the task's cooperative budget.
    ///
    /// # Cancel safety
    /// Cancel safe, but the waiter loses its place in the queue. If the
    /// lock had just been handed to it, it goes to the next waiter.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.permits.acquire(1).await;
        self.guard()
    }

    /// Takes the lock if it is free and nobody waits for it; never waits.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        if self.permits.try_acquire(1) {
            Ok(self.guard())
        } else {
            Err(TryLockError(()))
        }
    }

    /// [`lock`](Self::lock), with a guard that owns an `Arc` of the mutex
    /// (to move into a task).
    ///
    /// # Cancel safety
    /// As [`lock`](Self::lock).
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.permits.acquire(1).await;
        self.owned_guard()
    }

    /// [`try_lock`](Self::try_lock), with an owned guard.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        if self.permits.try_acquire(1) {
            Ok(self.owned_guard())
        } else {
            Err(TryLockError(()))
        }
    }

    /// The value, through `&mut self` (no lock needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut().as_mut().expect(HELD)
    }

    /// The value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.value.into_inner().expect(HELD)
    }

    /// Builds the guard once the permit is ours.
    fn guard(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            value: RefMut::map(self.value.borrow_mut(), |v| v.as_mut().expect(HELD)),
            unlock: Unlock(&self.permits),
            mutex: self,
        }
    }

    fn owned_guard(self: Arc<Self>) -> OwnedMutexGuard<T> {
        let value = self.value.borrow_mut().take();
        OwnedMutexGuard { value, mutex: self }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.value.try_borrow() {
            Ok(v) if self.permits.available() == 1 => d.field("data", &v),
            _ => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Gives the permit back when dropped: the last field of the guards, so
/// the value's borrow has ended when the next holder is woken.
struct Unlock<'a>(&'a LocalPermits);

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        self.0.release(1);
    }
}

/// The lock, held; dropping it unlocks (handing the lock to the first
/// waiter, if any).
#[must_use = "dropping the guard unlocks at once"]
pub struct MutexGuard<'a, T> {
    // Field order matters: `value`'s borrow ends before `unlock` runs.
    value: RefMut<'a, T>,
    mutex: &'a Mutex<T>,
    unlock: Unlock<'a>,
}

impl<'a, T> MutexGuard<'a, T> {
    /// A guard of a part of the value (a field, an element), holding the
    /// same lock.
    pub fn map<U, F>(this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        MappedMutexGuard {
            value: RefMut::map(this.value, f),
            _unlock: this.unlock,
        }
    }

    /// [`map`](Self::map) to a part that may be missing; gives the guard
    /// back if `f` returns `None`.
    pub fn try_map<U, F>(this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let MutexGuard {
            value,
            mutex,
            unlock,
        } = this;
        match RefMut::filter_map(value, f) {
            Ok(value) => Ok(MappedMutexGuard {
                value,
                _unlock: unlock,
            }),
            Err(value) => Err(MutexGuard {
                value,
                mutex,
                unlock,
            }),
        }
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

/// A [`MutexGuard`] narrowed by [`MutexGuard::map`] to a part of the value.
#[must_use = "dropping the guard unlocks at once"]
pub struct MappedMutexGuard<'a, U> {
    value: RefMut<'a, U>,
    _unlock: Unlock<'a>,
}

impl<U> Deref for MappedMutexGuard<'_, U> {
    type Target = U;
    fn deref(&self) -> &U {
        &self.value
    }
}

impl<U> DerefMut for MappedMutexGuard<'_, U> {
    fn deref_mut(&mut self) -> &mut U {
        &mut self.value
    }
}

impl<U: fmt::Debug> fmt::Debug for MappedMutexGuard<'_, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

/// The lock, held by a guard that owns an `Arc` of the mutex; dropping it
/// (also when its task is aborted) unlocks.
#[must_use = "dropping the guard unlocks at once"]
pub struct OwnedMutexGuard<T> {
    /// The value, moved out of the mutex until the guard drops.
    value: Option<T>,
    mutex: Arc<Mutex<T>>,
}

impl<T> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.mutex
    }
}

impl<T> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect(HELD)
    }
}

impl<T> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect(HELD)
    }
}

impl<T> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        *self.mutex.value.borrow_mut() = self.value.take();
        self.mutex.permits.release(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
