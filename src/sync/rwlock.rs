//! `RwLock`: many readers or one writer, fair (write-preferring) as
//! tokio's: waiters are served in arrival order, so once a writer waits,
//! later readers wait behind it.
//!
//! Called by user code on the loop's thread. Relies on [`LocalPermits`]:
//! `max_readers` permits, a read takes one, a write takes all of them, and
//! the FIFO queue hands permits to its head first (a writer at the head
//! gathers them as the readers before it leave).
//!
//! # Why it is not `Sync`
//! As `Mutex` (see `mutex.rs`): a lock held across `.await` is a tool of
//! the loop's tasks, so its state is `Cell`s, not atomics. `Send` when `T`
//! is `Send + Sync` (the value sits in an `Arc`, so that owned readers can
//! share it; a write checks `Arc::get_mut`, one atomic operation).
//!
//! # How guards reach the value without `unsafe`
//! The value sits in an `Arc` inside a `RefCell<Option<..>>`. A borrowed
//! read guard holds a `Ref` (so `map` is `Ref::map`), a borrowed write
//! guard a `RefMut` to the value (`Arc::get_mut` succeeds: the permits
//! guarantee no reader holds a clone). An owned read guard holds a clone
//! of the `Arc`, so readers share the value without borrowing from the
//! lock; an owned write guard moves the `Arc` out and puts it back when it
//! drops.
//!
//! | state | permits free | value |
//! |-------|--------------|-------|
//! | unlocked | `max_readers` | in the cell, its `Arc` unshared |
//! | `k` readers | `max_readers - k` | in the cell; owned readers hold clones |
//! | a writer (borrowed) | 0 | in the cell, mutably borrowed |
//! | a writer (owned) | 0 | in the guard |

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::local_permits::LocalPermits;
use super::mutex::TryLockError;

/// The default and largest number of concurrent readers (tokio's figure).
const MAX_READS: u32 = u32::MAX >> 3;

/// Message of the `expect`s that the permits make unreachable.
const HELD: &str = "ember::sync::RwLock: the permits guarantee the value is there";

/// An async reader-writer lock for tasks on the loop's thread.
///
/// Any number of [`read`](Self::read) guards, or one
/// [`write`](Self::write) guard. Fair: the lock is granted in the order it
/// was asked for, so a waiting writer is never starved by readers that
/// keep arriving (they queue behind it).
///
/// `Send` when `T: Send + Sync`, **not `Sync`** (see `Mutex`).
///
/// ```
/// use ember::sync::RwLock;
///
/// ember::block_on(async {
///     let lock = RwLock::new(5);
///     {
///         let r1 = lock.read().await;
///         let r2 = lock.read().await;
///         assert_eq!(*r1 + *r2, 10);
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T> {
    permits: LocalPermits,
    max_readers: u32,
    /// `None` while an owned write guard holds the value.
    value: RefCell<Option<Arc<T>>>,
}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock::with_max_readers(value, MAX_READS)
    }

    /// A lock allowing at most `max_reads` readers at once.
    ///
    /// # Panics
    /// If `max_reads` is 0 or more than `u32::MAX >> 3`.
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        assert!(
            max_reads > 0 && max_reads <= MAX_READS,
            "RwLock::with_max_readers needs 1 ..= u32::MAX >> 3 readers"
        );
        RwLock {
            permits: LocalPermits::new(max_reads as usize),
            max_readers: max_reads,
            value: RefCell::new(Some(Arc::new(value))),
        }
    }

    /// Waits for a read lock.
    ///
    /// # Cancel safety
    /// Cancel safe, but the waiter loses its place in the queue; a lock
    /// it had just been granted goes back.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.permits.acquire(1).await;
        self.read_guard()
    }

    /// Takes a read lock if no writer holds or waits for the lock.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        if self.permits.try_acquire(1) {
            Ok(self.read_guard())
        } else {
            Err(super::mutex::try_lock_error())
        }
    }

    /// Waits for the write lock.
    ///
    /// # Cancel safety
    /// Cancel safe, but the waiter loses its place in the queue; read
    /// permits it had gathered go back.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.permits.acquire(self.max_readers as usize).await;
        self.write_guard()
    }

    /// Takes the write lock if nobody holds or waits for the lock.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        if self.permits.try_acquire(self.max_readers as usize) {
            Ok(self.write_guard())
        } else {
            Err(super::mutex::try_lock_error())
        }
    }

    /// [`read`](Self::read), with a guard that owns an `Arc` of the lock.
    ///
    /// # Cancel safety
    /// As [`read`](Self::read).
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.permits.acquire(1).await;
        self.owned_read_guard()
    }

    /// [`try_read`](Self::try_read), with an owned guard.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        if self.permits.try_acquire(1) {
            Ok(self.owned_read_guard())
        } else {
            Err(super::mutex::try_lock_error())
        }
    }

    /// [`write`](Self::write), with a guard that owns an `Arc` of the lock.
    ///
    /// # Cancel safety
    /// As [`write`](Self::write).
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.permits.acquire(self.max_readers as usize).await;
        self.owned_write_guard()
    }

    /// [`try_write`](Self::try_write), with an owned guard.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        if self.permits.try_acquire(self.max_readers as usize) {
            Ok(self.owned_write_guard())
        } else {
            Err(super::mutex::try_lock_error())
        }
    }

    /// The value, through `&mut self` (no lock needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value
            .get_mut()
            .as_mut()
            .and_then(Arc::get_mut)
            .expect(HELD)
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.value
            .into_inner()
            .and_then(|rc| Arc::try_unwrap(rc).ok())
            .expect(HELD)
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            value: Ref::map(self.value.borrow(), |v| &**v.as_ref().expect(HELD)),
            _unlock: Unlock(&self.permits, 1),
        }
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            value: RefMut::map(self.value.borrow_mut(), |v| {
                v.as_mut().and_then(Arc::get_mut).expect(HELD)
            }),
            lock: self,
            unlock: Unlock(&self.permits, self.max_readers as usize),
        }
    }

    fn owned_read_guard(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        let value = self.value.borrow().as_ref().expect(HELD).clone();
        OwnedRwLockReadGuard {
            value,
            _unlock: OwnedUnlock(self, 1),
        }
    }

    fn owned_write_guard(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        let value = self.value.borrow_mut().take();
        OwnedRwLockWriteGuard { value, lock: self }
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.value.try_borrow() {
            Ok(v) if self.permits.available() > 0 => d.field("data", &v.as_deref()),
            _ => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Gives `n` permits back when dropped; the last field of the guards, so
/// the value's borrow has ended when a waiter is woken.
struct Unlock<'a>(&'a LocalPermits, usize);

impl Drop for Unlock<'_> {
    fn drop(&mut self) {
        self.0.release(self.1);
    }
}

/// [`Unlock`] for the owned guards.
struct OwnedUnlock<T>(Arc<RwLock<T>>, usize);

impl<T> Drop for OwnedUnlock<T> {
    fn drop(&mut self) {
        self.0.permits.release(self.1);
    }
}

/// A read lock, held; dropping it gives it back.
#[must_use = "dropping the guard unlocks at once"]
pub struct RwLockReadGuard<'a, T> {
    value: Ref<'a, T>,
    _unlock: Unlock<'a>,
}

impl<'a, T> RwLockReadGuard<'a, T> {
    /// A read guard of a part of the value, holding the same lock.
    pub fn map<U, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        RwLockReadGuard {
            value: Ref::map(this.value, f),
            _unlock: this._unlock,
        }
    }

    /// [`map`](Self::map) to a part that may be missing; gives the guard
    /// back if `f` returns `None`.
    pub fn try_map<U, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let RwLockReadGuard { value, _unlock } = this;
        match Ref::filter_map(value, f) {
            Ok(value) => Ok(RwLockReadGuard { value, _unlock }),
            Err(value) => Err(RwLockReadGuard { value, _unlock }),
        }
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

/// The write lock, held; dropping it gives it back.
#[must_use = "dropping the guard unlocks at once"]
pub struct RwLockWriteGuard<'a, T> {
    value: RefMut<'a, T>,
    lock: &'a RwLock<T>,
    unlock: Unlock<'a>,
}

impl<'a, T> RwLockWriteGuard<'a, T> {
    /// A write guard of a part of the value, holding the same lock.
    pub fn map<U, F>(this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        RwLockMappedWriteGuard {
            value: RefMut::map(this.value, f),
            _unlock: this.unlock,
        }
    }

    /// [`map`](Self::map) to a part that may be missing; gives the guard
    /// back if `f` returns `None`.
    pub fn try_map<U, F>(this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let RwLockWriteGuard {
            value,
            lock,
            unlock,
        } = this;
        match RefMut::filter_map(value, f) {
            Ok(value) => Ok(RwLockMappedWriteGuard {
                value,
                _unlock: unlock,
            }),
            Err(value) => Err(RwLockWriteGuard {
                value,
                lock,
                unlock,
            }),
        }
    }

    /// Turns the write lock into a read lock without letting a writer in
    /// between; waiting readers may now proceed too.
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let RwLockWriteGuard {
            value,
            lock,
            mut unlock,
        } = this;
        drop(value);
        // Keep one permit; the read guard is built before anyone else runs.
        let read = lock.read_guard();
        unlock.1 -= 1;
        drop(unlock);
        read
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

/// A [`RwLockWriteGuard`] narrowed by [`RwLockWriteGuard::map`].
#[must_use = "dropping the guard unlocks at once"]
pub struct RwLockMappedWriteGuard<'a, U> {
    value: RefMut<'a, U>,
    _unlock: Unlock<'a>,
}

impl<U> Deref for RwLockMappedWriteGuard<'_, U> {
    type Target = U;
    fn deref(&self) -> &U {
        &self.value
    }
}

impl<U> DerefMut for RwLockMappedWriteGuard<'_, U> {
    fn deref_mut(&mut self) -> &mut U {
        &mut self.value
    }
}

impl<U: fmt::Debug> fmt::Debug for RwLockMappedWriteGuard<'_, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

/// A read lock held by a guard that owns an `Arc` of the lock.
#[must_use = "dropping the guard unlocks at once"]
pub struct OwnedRwLockReadGuard<T> {
    /// A clone of the lock's `Arc`: readers share the value.
    value: Arc<T>,
    _unlock: OwnedUnlock<T>,
}

impl<T> OwnedRwLockReadGuard<T> {
    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this._unlock.0
    }
}

impl<T> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}

/// The write lock held by a guard that owns an `Arc` of the lock.
#[must_use = "dropping the guard unlocks at once"]
pub struct OwnedRwLockWriteGuard<T> {
    /// The value, moved out of the lock until the guard drops.
    value: Option<Arc<T>>,
    lock: Arc<RwLock<T>>,
}

impl<T> OwnedRwLockWriteGuard<T> {
    /// The lock this guard holds.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_deref().expect(HELD)
    }
}

impl<T> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().and_then(Arc::get_mut).expect(HELD)
    }
}

impl<T> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        *self.lock.value.borrow_mut() = self.value.take();
        self.lock.permits.release(self.lock.max_readers as usize);
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
