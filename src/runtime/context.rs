//! The thread's current runtime: set by `block_on` (and by the runtime's
//! teardown), read by `spawn`, by I/O constructors and by local wakes.
//!
//! Relies on one rule: `CURRENT` is borrowed mutably only inside [`enter`],
//! [`swap`] and their guards' drops, through `replace`, so that no user code
//! ever runs while it is borrowed mutably; every other access is a short
//! shared borrow.
//!
//! # When the thread ends
//! `CURRENT` is a thread-local, destroyed with the thread, and a `Runtime`
//! kept in a thread-local of the user's may be dropped after it (the order
//! is the reverse of first use). Every access but [`enter`]'s therefore
//! uses `try_with` and reads a destroyed `CURRENT` as "no runtime": the
//! teardown then runs with no current runtime (a destructor that spawns
//! panics, and the panic is contained like any other in a destructor)
//! instead of aborting the process.

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
/// If a runtime is already running on this thread, or if the thread is
/// ending (its thread-locals are being destroyed).
///
/// Both panics point at the caller of `block_on` (`#[track_caller]` all
/// the way, and no panic inside a closure).
#[track_caller]
pub(crate) fn enter(core: &Rc<Core>) -> EnterGuard {
    let entered = CURRENT.try_with(|c| {
        if c.borrow().is_some() {
            return false;
        }
        c.replace(Some(core.clone()));
        true
    });
    match entered {
        Ok(true) => EnterGuard(()),
        Ok(false) => panic!(
            "`block_on` called while an ember runtime is already running on this thread: \
             inside async code, `.await` the future (or `ember::spawn` it) instead"
        ),
        Err(_) => panic!(
            "`block_on` called while its thread is ending (from a thread-local's destructor, \
             after ember's own was destroyed): run the future before the thread ends"
        ),
    }
}

/// Makes `core` the thread's runtime until the guard drops, then restores
/// whatever was current before (possibly another runtime). Used by a
/// runtime's teardown, which may run inside another runtime's task: the
/// destructors it runs must spawn into, and register with, the dying
/// runtime, not the one around it.
///
/// If the thread is ending and `CURRENT` is already destroyed, does
/// nothing: the teardown runs with no current runtime.
pub(crate) fn swap(core: &Rc<Core>) -> SwapGuard {
    let previous = CURRENT
        .try_with(|c| c.replace(Some(core.clone())))
        .ok()
        .flatten();
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

/// The current runtime's clock reading, or `None` outside a runtime (or
/// while the thread ends). One thread-local read and a shared borrow on
/// top of the clock itself: what `time::Instant::now()` costs.
#[inline]
pub(crate) fn clock_now() -> Option<u64> {
    CURRENT
        .try_with(|c| c.borrow().as_ref().map(|core| core.clock.now()))
        .ok()
        .flatten()
}

/// What [`arm_timer`] answers, besides "no runtime".
#[cfg(any(feature = "time", feature = "net"))]
pub(crate) enum ArmTimer {
    /// Armed: the store, and the entry's key.
    Armed(Rc<crate::time::TimerCell>, u32),
    /// The deadline has passed by the store's time: nothing was stored.
    Passed,
    /// `waker` is not the polled task's own: the caller clones it (with
    /// no borrow held: a clone is user code) and arms with the clone.
    Foreign(Rc<crate::time::TimerCell>),
}

/// Arms a timer due `when` in the current runtime's store, for the
/// task whose own waker `waker` is (see `Reactor::own_task`); `None`
/// outside a runtime. One thread-local access for the whole of it.
#[cfg(any(feature = "time", feature = "net"))]
#[inline]
pub(crate) fn arm_timer(when: crate::time::When, waker: &std::task::Waker) -> Option<ArmTimer> {
    CURRENT
        .try_with(|c| {
            let current = c.borrow();
            let core = current.as_ref()?;
            let Some(task) = core.reactor.own_task(waker) else {
                return Some(ArmTimer::Foreign(core.timers.clone()));
            };
            let now = || crate::time::Instant::from_ns(core.clock.now());
            let key = core.timers.store().arm_task(when, task, now);
            Some(match key {
                Some(key) => ArmTimer::Armed(core.timers.clone(), key),
                None => ArmTimer::Passed,
            })
        })
        .ok()
        .flatten()
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
