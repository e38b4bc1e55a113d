//! The thread's current runtime: set by `block_on` (and by the runtime's
//! teardown), read by `spawn`, by I/O constructors and by local wakes.
//!
//! Relies on one rule: `CURRENT` is borrowed mutably only inside [`enter`],
//! [`swap`] and their guards' drops, through `replace`, so that no user code
//! ever runs while it is borrowed mutably; every other access is a short
//! shared borrow.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::core::Core;
use super::waker::{Entry, Shared};

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Restores "no runtime" on drop, panicking or not.
pub(crate) struct EnterGuard(());

/// Makes `core` the thread's runtime.
///
/// # Panics
/// If a runtime is already running on this thread.
pub(crate) fn enter(core: &Rc<Core>) -> EnterGuard {
    CURRENT.with(|c| {
        if c.borrow().is_some() {
            panic!(
                "`block_on` called while an ember runtime is already running on this thread: \
                 inside async code, `.await` the future (or `ember::spawn` it) instead"
            );
        }
        c.replace(Some(core.clone()));
    });
    EnterGuard(())
}

/// Makes `core` the thread's runtime until the guard drops, then restores
/// whatever was current before (possibly another runtime). Used by a
/// runtime's teardown, which may run inside another runtime's task: the
/// destructors it runs must spawn into, and register with, the dying
/// runtime, not the one around it.
pub(crate) fn swap(core: &Rc<Core>) -> SwapGuard {
    let previous = CURRENT.with(|c| c.replace(Some(core.clone())));
    SwapGuard { previous }
}

/// Restores the previous runtime on drop.
pub(crate) struct SwapGuard {
    previous: Option<Rc<Core>>,
}

impl Drop for SwapGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let dying = CURRENT.try_with(|c| c.replace(previous)).ok().flatten();
        drop(dying);
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // `replace` releases the borrow before the old value drops.
        let old = CURRENT.try_with(|c| c.replace(None)).ok().flatten();
        drop(old);
    }
}

/// The current runtime, if any.
pub(crate) fn current() -> Option<Rc<Core>> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// Pushes `entry` on the run queue if the current runtime is the one
/// `shared` belongs to; `false` otherwise (the caller takes the remote path).
pub(crate) fn schedule_local(shared: &Arc<Shared>, entry: Entry, front: bool) -> bool {
    CURRENT
        .try_with(|c| match &*c.borrow() {
            Some(core) if Arc::ptr_eq(core.shared(), shared) => {
                core.push(entry, front);
                true
            }
            _ => false,
        })
        .unwrap_or(false)
}
