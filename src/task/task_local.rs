//! Task-local values: `task_local!`, [`LocalKey`] and the future that
//! carries a value across its polls, [`TaskLocalFuture`].
//!
//! A task-local is a thread-local slot that holds a value only while a
//! particular future is being polled: [`LocalKey::scope`] wraps a future so
//! that, around each of its polls, the value is moved into the slot, and
//! moved back out into the wrapper afterwards. So two tasks that each run
//! inside their own `scope` of the same key never see each other's value,
//! although they share the thread. Nothing is allocated; each poll costs
//! two swaps of the value with the thread-local.
//!
//! The swap back happens in a guard's `Drop`, so a panic in the polled
//! future still restores the slot. A scope cannot be entered while the slot
//! is borrowed by [`LocalKey::with`] (the value would move under the
//! borrow): that is a misuse, and it panics with a message that says so.
//!
//! Production note: tokio's task-locals work the same way (a thread-local
//! swapped around each poll); ember keeps tokio's names and signatures.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// Declares task-local keys: `ember::task_local! { static NAME: Type; }`.
/// Each key is a [`LocalKey`], given a value for the length of a future by
/// [`LocalKey::scope`] or of a closure by [`LocalKey::sync_scope`].
///
/// ```
/// ember::task_local! {
///     static REQUEST_ID: u64;
/// }
///
/// ember::block_on(async {
///     let a = ember::spawn(REQUEST_ID.scope(1, async { REQUEST_ID.get() }));
///     let b = ember::spawn(REQUEST_ID.scope(2, async {
///         ember::task::yield_now().await;
///         REQUEST_ID.get()
///     }));
///     assert_eq!((a.await.unwrap(), b.await.unwrap()), (1, 2));
///     assert!(REQUEST_ID.try_with(|_| ()).is_err(), "no value outside a scope");
/// });
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static SLOT: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(&SLOT)
        };
    };
}

/// A key for a task-local value, declared with [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    slot: &'static std::thread::LocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(slot: &'static std::thread::LocalKey<RefCell<Option<T>>>) -> LocalKey<T> {
        LocalKey { slot }
    }

    /// Wraps `future` so that, whenever it is polled, this key holds
    /// `value`. The value is dropped when the wrapper is (after the future,
    /// which is dropped inside the scope).
    ///
    /// # Cancel safety
    /// Dropping the wrapper drops the future (inside the scope) and the
    /// value; what that loses is what dropping the future loses.
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with this key holding `value`, then drops the value.
    ///
    /// # Panics
    /// If called inside [`with`](Self::with) on the same key.
    #[track_caller]
    pub fn sync_scope<F: FnOnce() -> R, R>(&'static self, value: T, f: F) -> R {
        let mut value = Some(value);
        let out = {
            let _scope = Scope::enter(self, &mut value);
            f()
        };
        drop(value);
        out
    }

    /// Calls `f` with a reference to the value.
    ///
    /// # Panics
    /// Outside a scope of this key; see [`try_with`](Self::try_with).
    #[track_caller]
    pub fn with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(AccessError(())) => panic!(
                "a task-local was read outside its scope: wrap the future in \
                 `KEY.scope(value, future)` (or the code in `KEY.sync_scope`)"
            ),
        }
    }

    /// Calls `f` with a reference to the value, or fails if this key has no
    /// value here (outside a scope).
    pub fn try_with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> Result<R, AccessError> {
        self.slot
            .try_with(|slot| match slot.try_borrow() {
                Ok(value) => value.as_ref().map(f).ok_or(AccessError(())),
                Err(_) => Err(AccessError(())),
            })
            .unwrap_or(Err(AccessError(())))
    }

    /// A copy of the value.
    ///
    /// # Panics
    /// Outside a scope of this key.
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    /// A copy of the value, or an error outside a scope.
    pub fn try_get(&'static self) -> Result<T, AccessError>
    where
        T: Clone,
    {
        self.try_with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

/// A task-local key was read where it holds no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set")
    }
}

impl std::error::Error for AccessError {}

/// Moves a value into the key's slot, and back out when dropped (also
/// while unwinding).
struct Scope<'a, T: 'static> {
    key: &'static LocalKey<T>,
    value: &'a mut Option<T>,
}

impl<'a, T: 'static> Scope<'a, T> {
    #[track_caller]
    fn enter(key: &'static LocalKey<T>, value: &'a mut Option<T>) -> Scope<'a, T> {
        match Scope::try_enter(key, value) {
            Some(scope) => scope,
            None => panic!(
                "a task-local scope was entered while the same key was borrowed by `with` \
                 (poll or run the scoped code outside the `with` closure), or while the \
                 thread is ending"
            ),
        }
    }

    fn try_enter(key: &'static LocalKey<T>, value: &'a mut Option<T>) -> Option<Scope<'a, T>> {
        let swapped = key.slot.try_with(|slot| match slot.try_borrow_mut() {
            Ok(mut held) => {
                std::mem::swap(&mut *held, value);
                true
            }
            Err(_) => false,
        });
        match swapped {
            Ok(true) => Some(Scope { key, value }),
            _ => None,
        }
    }
}

impl<T: 'static> Drop for Scope<'_, T> {
    fn drop(&mut self) {
        // The slot was ours while the scope ran; a `with` borrow cannot
        // outlive the closure it was made for, so the slot is free again.
        let _ = self.key.slot.try_with(|slot| {
            if let Ok(mut held) = slot.try_borrow_mut() {
                std::mem::swap(&mut *held, self.value);
            }
        });
    }
}

pin_project! {
    /// The future of [`LocalKey::scope`]: `future`, polled with the key
    /// holding the value.
    ///
    /// # Cancel safety
    /// As cancel safe as the future it wraps.
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        value: Option<T>,
        #[pin]
        future: Option<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.future.is_some() {
                // The future's destructor may read the key too.
                let key = *this.key;
                let mut future = this.future;
                // Never a panic in a destructor: if the slot is not free,
                // the future is dropped outside its scope.
                let _scope = Scope::try_enter(key, this.value);
                future.set(None);
            }
        }
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let key = *this.key;
        let mut future_slot = this.future;
        let _scope = Scope::enter(key, this.value);
        let Some(future) = future_slot.as_mut().as_pin_mut() else {
            panic!("`TaskLocalFuture` polled after it completed");
        };
        let poll = future.poll(cx);
        if poll.is_ready() {
            // Dropped inside the scope, like the rest of its life.
            future_slot.set(None);
        }
        poll
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture").finish_non_exhaustive()
    }
}
