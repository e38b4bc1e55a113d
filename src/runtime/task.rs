//! The task cell: one spawned future, its output, and the state machine that
//! decides who may touch them.
//!
//! Created by `Core::spawn`; run by the executor through [`Schedulable`];
//! read by the `JoinHandle` through [`JoinTarget`]. One allocation (`Rc`)
//! holds the header, the future and, later, its output; the same `Rc` is
//! seen under both traits.
//!
//! # States
//!
//! The `stage` holds `Running(future)`, then `Finished(output)`, then
//! `Consumed`. Flags in `Header::state` say who may borrow it:
//!
//! | flag      | set by                                   | cleared by         | meaning |
//! |-----------|------------------------------------------|--------------------|---------|
//! | RUNNING   | executor, around a poll or a cancel      | executor, after it | `stage` is borrowed: nobody else touches it |
//! | COMPLETE  | executor, once the future is gone        | never              | `stage` holds the output (or `Consumed`) |
//! | ABORT     | `JoinHandle::abort`, unless COMPLETE     | never              | drop the future instead of polling it |
//! | DETACHED  | `JoinHandle` drop                        | never              | nobody will read the output: drop it on completion |
//!
//! A `JoinHandle` reads `stage` only when COMPLETE is set, and the executor
//! sets COMPLETE only after its last borrow ends, so the `RefCell` around
//! `stage` is never contended; it stays as a cheap assertion of that.
//!
//! `Waker`s do not point here: they carry the task's slot and id (see
//! `waker.rs`), so this cell can stay `!Send` while wakers are `Send + Sync`.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::join::JoinError;
use super::waker::WakeHandle;
use crate::reactor::Reactor;

pub(crate) const RUNNING: u8 = 1 << 0;
pub(crate) const COMPLETE: u8 = 1 << 1;
pub(crate) const ABORT: u8 = 1 << 2;
pub(crate) const DETACHED: u8 = 1 << 3;

/// The part of a task that does not depend on its future's type.
pub(crate) struct Header {
    state: Cell<u8>,
    /// Woken when the task completes.
    join_waker: Cell<Option<Waker>>,
    /// The task's own waker handle (for `unschedule` and its entry).
    pub(crate) handle: Arc<WakeHandle>,
    /// The same handle as a `Waker`, made once so a poll clones nothing.
    pub(crate) waker: Waker,
    /// Where the task was spawned, for `EMBER_TRACE`.
    pub(crate) spawned_at: &'static Location<'static>,
}

impl Header {
    pub(crate) fn new(handle: Arc<WakeHandle>, spawned_at: &'static Location<'static>) -> Header {
        Header {
            state: Cell::new(0),
            join_waker: Cell::new(None),
            waker: Waker::from(handle.clone()),
            handle,
            spawned_at,
        }
    }

    pub(crate) fn is(&self, flag: u8) -> bool {
        self.state.get() & flag != 0
    }

    pub(crate) fn set(&self, flag: u8) {
        self.state.set(self.state.get() | flag);
    }

    fn unset(&self, flag: u8) {
        self.state.set(self.state.get() & !flag);
    }

    pub(crate) fn id(&self) -> u64 {
        self.handle.id()
    }

    /// Stores the waker of whoever awaits the `JoinHandle`.
    pub(crate) fn set_join_waker(&self, waker: &Waker) {
        match self.join_waker.take() {
            Some(w) if w.will_wake(waker) => self.join_waker.set(Some(w)),
            _ => self.join_waker.set(Some(waker.clone())),
        }
    }

    pub(crate) fn take_join_waker(&self) -> Option<Waker> {
        self.join_waker.take()
    }
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// A spawned future and its output.
pub(crate) struct Task<F: Future> {
    header: Header,
    stage: RefCell<Stage<F>>,
}

/// Any task, seen through its header: what an `AbortHandle` keeps.
pub(crate) trait HasHeader {
    fn header(&self) -> &Header;
}

/// What the executor needs of a task, whatever its future's type.
pub(crate) trait Schedulable: HasHeader {
    /// Polls the future (or drops it, if an abort is pending), after
    /// clearing the task's `scheduled` flag and announcing it to `reactor`
    /// (`Reactor::set_current`), with a fresh cooperative budget
    /// (`coop::start_poll`). `true` when the task has just completed.
    fn run(&self, reactor: &Reactor) -> bool;
    /// Drops the future without polling it (abort, shutdown). `true` if
    /// there was a future to drop.
    fn cancel(&self) -> bool;
    /// Drops the output, for a detached task.
    fn drop_output(&self);
}

/// What a `JoinHandle<T>` needs of its task (an upcast to [`HasHeader`]
/// makes its `AbortHandle`).
pub(crate) trait JoinTarget<T>: HasHeader {
    fn take_output(&self) -> Option<Result<T, JoinError>>;
}

impl<F: Future> Task<F> {
    pub(crate) fn new(future: F, header: Header) -> Task<F> {
        Task {
            header,
            stage: RefCell::new(Stage::Running(future)),
        }
    }

    /// Drops the future in place, then stores `output`. A panic from the
    /// future's destructor is caught and reported instead (unless `output`
    /// is already an error: the first error wins).
    fn finish(&self, stage: &mut Stage<F>, output: Result<F::Output, JoinError>) {
        let id = self.header.id();
        // Assigning drops the old value in place: the future never moves.
        // If its destructor panics, the assignment still completes.
        let dropped = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed));
        *stage = Stage::Finished(match dropped {
            Ok(()) => output,
            Err(payload) if output.is_ok() => {
                // The value the future returned gives way to the panic; its
                // destructor is user code, run here with nobody to tell.
                crate::contain::call("the drop of a task's output", move || drop(output));
                Err(JoinError::panic(id, payload))
            }
            Err(payload) => {
                crate::contain::call("the drop of a panic's payload", move || drop(payload));
                output
            }
        });
    }
}

impl<F: Future> HasHeader for Task<F> {
    fn header(&self) -> &Header {
        &self.header
    }
}

impl<F: Future> Schedulable for Task<F> {
    fn run(&self, reactor: &Reactor) -> bool {
        let h = &self.header;
        h.handle.unschedule();
        if h.is(COMPLETE | ABORT) {
            // A stale queue entry, or an abort to honour.
            return !h.is(COMPLETE) && self.cancel();
        }
        reactor.set_current(h.handle.task_entry(), &h.waker);
        h.set(RUNNING);
        let mut stage = self.stage.borrow_mut();
        let Stage::Running(future) = &mut *stage else {
            h.unset(RUNNING);
            return false;
        };
        // SAFETY: the future lives inside the task's `Rc` allocation, which
        // is never moved out of or unwrapped; the future leaves it only by
        // being dropped in place (`finish`). So it is pinned for its whole
        // life, as `Pin` requires.
        let future = unsafe { Pin::new_unchecked(future) };
        let mut cx = Context::from_waker(&h.waker);
        super::coop::start_poll();
        let polled = catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)));
        super::coop::end_poll();
        reactor.clear_current();
        let output = match polled {
            Ok(Poll::Pending) => {
                drop(stage);
                h.unset(RUNNING);
                // An abort that arrived during the poll is honoured now,
                // before the loop polls anything else.
                return h.is(ABORT) && self.cancel();
            }
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(JoinError::panic(h.id(), payload)),
        };
        self.finish(&mut stage, output);
        drop(stage);
        h.unset(RUNNING);
        h.set(COMPLETE);
        true
    }

    fn cancel(&self) -> bool {
        let h = &self.header;
        if h.is(COMPLETE | RUNNING) {
            return false;
        }
        h.set(RUNNING);
        let mut stage = self.stage.borrow_mut();
        let had_future = matches!(&*stage, Stage::Running(_));
        if had_future {
            self.finish(&mut stage, Err(JoinError::cancelled(h.id())));
        }
        drop(stage);
        h.unset(RUNNING);
        h.set(COMPLETE);
        had_future
    }

    fn drop_output(&self) {
        // Move the output out and drop it after the borrow ends: its
        // destructor is user code. Nobody awaits it, so a panic there has
        // nowhere to go; like a panic in `poll`, it must not take the
        // runtime down, so it is contained.
        let output = std::mem::replace(&mut *self.stage.borrow_mut(), Stage::Consumed);
        crate::contain::call("the drop of a detached task's output", move || drop(output));
    }
}

impl<F: Future> JoinTarget<F::Output> for Task<F> {
    fn take_output(&self) -> Option<Result<F::Output, JoinError>> {
        debug_assert!(self.header.is(COMPLETE) && !self.header.is(RUNNING));
        match std::mem::replace(&mut *self.stage.borrow_mut(), Stage::Consumed) {
            Stage::Finished(output) => Some(output),
            _ => None,
        }
    }
}

/// A panic payload, boxed as `catch_unwind` gives it.
pub(crate) type Payload = Box<dyn Any + Send + 'static>;
#[cfg(test)]
mod tests {
    use super::*;

    /// Spawning a million small tasks is mostly page faults, so the cell
    /// of a small task and its waker are kept to what glibc's 112- and
    /// 48-byte chunks hold (with the `Rc`'s and `Arc`'s two counts and
    /// malloc's 8-byte header).
    #[test]
    fn a_small_task_costs_two_small_allocations() {
        assert!(std::mem::size_of::<Task<std::future::Ready<()>>>() <= 88);
        assert!(std::mem::size_of::<WakeHandle>() <= 24);
        assert_eq!(std::mem::size_of::<JoinError>(), 16);
    }
}
