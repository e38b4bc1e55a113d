//! `OnceCell`: a value set once, by the first of possibly many tasks that
//! race to initialise it with an async function.
//!
//! Called by user code, often as a `static`. Relies on `std::sync::OnceLock`
//! for the value (so `get` is one atomic load and hands out `&T` without
//! `unsafe`) and on a one-permit [`Semaphore`] so that one initialiser runs
//! at a time; once the value is set the semaphore is closed, which wakes
//! every waiting initialiser to read the value.
//!
//! `Send + Sync` when `T` is (a `static` cell must be): both parts are
//! thread-safe already, and neither costs more than an atomic operation
//! on the paths that matter (`get`).
//!
//! | state | `value` | `init` semaphore |
//! |-------|---------|------------------|
//! | empty | unset | 1 permit |
//! | initialising | unset | 0 permits (the initialiser holds it); others queue |
//! | set | set | closed |
//!
//! An initialiser that fails, panics or is dropped gives its permit back:
//! the next waiter in line tries its own function.

use std::fmt;
use std::future::Future;
use std::sync::OnceLock;

use super::semaphore::Semaphore;

/// A value initialised at most once, by an async function.
///
/// ```
/// use ember::sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
///
/// ember::block_on(async {
///     let v = CONFIG.get_or_init(|| async { String::from("loaded") }).await;
///     assert_eq!(v, "loaded");
///     // Later calls return the same value without running the function.
///     let again = CONFIG.get_or_init(|| async { unreachable!() }).await;
///     assert_eq!(again, "loaded");
/// });
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    init: Semaphore,
}

/// Why [`OnceCell::set`] failed; the value is returned.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already had a value.
    AlreadyInitializedError(T),
    /// Another task is initialising the cell now.
    InitializingError(T),
}

impl<T> SetError<T> {
    /// Whether the cell already had a value.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether another task was initialising the cell.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("the cell is already set"),
            SetError::InitializingError(_) => f.write_str("the cell is being initialised"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

/// The invariant behind the `expect`s below.
const SET: &str = "ember::sync::OnceCell: its semaphore is closed only once the value is set";

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell::const_new()
    }

    /// An empty cell, in a `const` context (a `static`).
    pub const fn const_new() -> OnceCell<T> {
        OnceCell {
            value: OnceLock::new(),
            init: Semaphore::const_new(1),
        }
    }

    /// A cell holding `value` if it is `Some`.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        let cell = OnceCell::new();
        if let Some(v) = value {
            let _ = cell.value.set(v);
            cell.init.close();
        }
        cell
    }

    /// Whether the cell has its value.
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// The value, if it is set.
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The value, mutably, if it is set.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// Sets the value if the cell is empty and nobody is initialising it.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        let Ok(permit) = self.init.try_acquire() else {
            return Err(if self.initialized() {
                SetError::AlreadyInitializedError(value)
            } else {
                SetError::InitializingError(value)
            });
        };
        if let Err(value) = self.value.set(value) {
            return Err(SetError::AlreadyInitializedError(value));
        }
        self.init.close();
        drop(permit);
        Ok(())
    }

    /// The value, running `f` to make it if the cell is empty. If several
    /// tasks call this at once, one runs its `f` and the others wait for
    /// its value.
    ///
    /// # Cancel safety
    /// Cancel safe: dropped while `f`'s future runs, that future is dropped
    /// and the next waiting task runs its own `f`.
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) })
            .await
        {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_init`](Self::get_or_init), with an `f` that may fail:
    /// its error is returned and the cell stays empty (the next waiting
    /// task tries its own `f`).
    ///
    /// # Cancel safety
    /// As [`get_or_init`](Self::get_or_init).
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        match self.init.acquire().await {
            // Closed: the value is set.
            Err(_) => Ok(self.get().expect(SET)),
            Ok(permit) => {
                if let Some(v) = self.get() {
                    return Ok(v);
                }
                let value = f().await?;
                let _ = self.value.set(value);
                self.init.close();
                drop(permit);
                Ok(self.get().expect(SET))
            }
        }
    }

    /// The value, consuming the cell.
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        std::mem::take(self).into_inner()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}
