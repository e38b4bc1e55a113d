//! `SetOnce`: a value set once, synchronously, by anyone; tasks can wait
//! for it.
//!
//! Called by user code (a `static` readiness signal carrying a value).
//! Relies on `std::sync::OnceLock` for the value and on
//! [`Notify::notify_waiters`] to wake the waiting tasks: `wait` creates its
//! `Notified` before it checks the value, so a `set` in between is never
//! missed.
//!
//! `Send + Sync` when `T` is: `set` may come from any thread.
//!
//! | state | `get` | `set(v)` | `wait()` |
//! |-------|-------|----------|----------|
//! | empty | `None` | stores `v`, wakes every waiter | waits |
//! | set | `Some` | `Err(SetOnceError(v))` | completes at once |

use std::fmt;
use std::sync::OnceLock;

use super::notify::Notify;

/// A value set at most once; tasks may [`wait`](Self::wait) for it.
///
/// ```
/// use std::sync::Arc;
/// use ember::sync::SetOnce;
///
/// ember::block_on(async {
///     let ready = Arc::new(SetOnce::new());
///     let r = ready.clone();
///     std::thread::spawn(move || r.set(42).unwrap());
///     assert_eq!(*ready.wait().await, 42);
/// });
/// ```
pub struct SetOnce<T> {
    value: OnceLock<T>,
    set: Notify,
}

/// [`SetOnce::set`] found the value already set; `v` is returned.
#[derive(Debug, PartialEq, Eq)]
pub struct SetOnceError<T>(pub T);

impl<T> fmt::Display for SetOnceError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the SetOnce is already set")
    }
}

impl<T: fmt::Debug> std::error::Error for SetOnceError<T> {}

impl<T> SetOnce<T> {
    /// An empty `SetOnce`.
    pub fn new() -> SetOnce<T> {
        SetOnce::const_new()
    }

    /// An empty `SetOnce`, in a `const` context (a `static`).
    pub const fn const_new() -> SetOnce<T> {
        SetOnce {
            value: OnceLock::new(),
            set: Notify::new(),
        }
    }

    /// A `SetOnce` holding `value` if it is `Some`.
    pub fn new_with(value: Option<T>) -> SetOnce<T> {
        let s = SetOnce::new();
        if let Some(v) = value {
            let _ = s.value.set(v);
        }
        s
    }

    /// Whether the value is set.
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// The value, if it is set.
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// Sets the value and wakes every waiting task; fails, giving `value`
    /// back, if it was set already.
    pub fn set(&self, value: T) -> Result<(), SetOnceError<T>> {
        self.value.set(value).map_err(SetOnceError)?;
        self.set.notify_waiters();
        Ok(())
    }

    /// The value, consuming the `SetOnce`.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Waits until the value is set, and returns it.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn wait(&self) -> &T {
        loop {
            let notified = self.set.notified();
            if let Some(v) = self.value.get() {
                return v;
            }
            notified.await;
        }
    }
}

impl<T> Default for SetOnce<T> {
    fn default() -> SetOnce<T> {
        SetOnce::new()
    }
}

impl<T> From<T> for SetOnce<T> {
    fn from(value: T) -> SetOnce<T> {
        SetOnce::new_with(Some(value))
    }
}

impl<T: Clone> Clone for SetOnce<T> {
    fn clone(&self) -> SetOnce<T> {
        SetOnce::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for SetOnce<T> {
    fn eq(&self, other: &SetOnce<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for SetOnce<T> {}

impl<T: fmt::Debug> fmt::Debug for SetOnce<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetOnce")
            .field("value", &self.get())
            .finish()
    }
}
