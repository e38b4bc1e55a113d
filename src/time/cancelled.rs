//! The thread's last cancelled timer: a `Sleep` dropped while armed
//! leaves its entry here for the next one its task arms.
//!
//! Called by `Sleep` (on drop and when it arms) and by the loop (`flush`);
//! relies on `TimerCell` (`cell.rs`) and the store's `Timers::reuse`.
//!
//! The most common timer of a server is a read's idle timeout, in a loop:
//! each round the read completes, its task drops the `Timeout` (cancelling
//! the timer) and, in the same poll, arms the next one, a few microseconds
//! later. So a `Sleep` dropped while armed does not remove its entry: it
//! hands it over, still armed, to a thread-local slot ([`cancel`]). The
//! next `Sleep` the polled task arms takes it ([`reuse`]) and, if the store
//! can re-arm it where it is (`Timers::reuse`), arming costs no look-up of
//! the current runtime, no reference count, no list and no free list.
//! Otherwise the taken timer is removed and the `Sleep` arms as usual.
//!
//! Invariant: the entry in the slot is armed (or fired) in its store, and
//! held by nobody else; whoever takes it either re-arms it or removes it.
//! So it never fires from the slot: the loop empties the slot of its own
//! timer before it looks at its timers ([`flush`]). Whatever else finds the
//! slot full removes what it held: the next drop (which then waits there
//! itself), a `Sleep` that cannot re-arm it, the runtime's teardown, and
//! the thread's end.
//!
//! What it saves, per round of a timed echo: 16 instructions of the 180 a
//! timeout then cost, the cancel's look-up of its entry and the arm's of
//! the runtime (`bench/optimisations.md`, `c34d4c5`).

use std::cell::Cell;
use std::rc::Rc;
use std::task::Waker;

use super::cell::TimerCell;
use super::When;

/// An armed timer: its runtime's cell and its key in the store.
pub(crate) type Armed = (Rc<TimerCell>, u32);

/// The slot for the last cancelled timer; removes what it holds when the
/// thread ends.
struct Slot(Cell<Option<Armed>>);

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(armed) = self.0.take() {
            remove(armed);
        }
    }
}

thread_local! {
    static CANCELLED: Slot = const { Slot(Cell::new(None)) };
}

/// Removes a timer that nobody holds any more. Its waker, if it had one,
/// is dropped after the store is released.
pub(crate) fn remove((cell, key): Armed) {
    let waker = cell.store().remove(key);
    drop(waker);
}

/// Cancels the timer of a `Sleep` being dropped: it waits in the slot for
/// the next `Sleep` to arm, and whatever was there is removed.
///
/// While the thread ends, after its slot is gone, the timer is let go
/// armed instead (no look-up of the slot's state can keep it without
/// costing every cancel a copy): its runtime is being torn down with the
/// thread, and if it polls again, the timer wakes a task that is gone
/// (its id no longer matches) or, at worst, one that does not mind a
/// spurious wake.
#[inline]
pub(crate) fn cancel(armed: Armed) {
    if let Ok(Some(previous)) = CANCELLED.try_with(|slot| slot.0.replace(Some(armed))) {
        remove(previous);
    }
}

/// Takes the last cancelled timer for a `Sleep` due `when`, polled
/// now with `waker`, if its runtime is polling `waker`'s own task and the
/// store can re-arm it in place for that task; removes it otherwise.
#[inline]
pub(crate) fn reuse(when: When, waker: &Waker) -> Option<Armed> {
    let (cell, key) = CANCELLED.try_with(|slot| slot.0.take()).ok().flatten()?;
    if let Some(task) = cell.own_task(waker) {
        if cell.store().reuse(key, when, task) {
            return Some((cell, key));
        }
    }
    remove((cell, key));
    None
}

/// Removes the last cancelled timer if it is `cell`'s: the loop calls this
/// before it looks at its timers, so the timer neither fires nor keeps the
/// loop waiting for it.
#[inline]
pub(crate) fn flush(cell: &Rc<TimerCell>) {
    let taken = CANCELLED.try_with(|slot| {
        let armed = slot.0.take();
        match armed {
            Some((owner, key)) if Rc::ptr_eq(&owner, cell) => Some((owner, key)),
            other => {
                slot.0.set(other);
                None
            }
        }
    });
    if let Ok(Some(armed)) = taken {
        remove(armed);
    }
}
