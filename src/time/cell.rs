//! The timer store as a runtime shares it: [`TimerCell`].
//!
//! The runtime's core and every armed `Sleep` hold the cell through an
//! `Rc`: the store, and the reactor whose announcement of the task being
//! polled tells that task's own waker from any other (`Reactor::own_task`),
//! so that a timer can wake its task the way I/O does, by run-queue entry.
//! The thread's last cancelled timer (`cancelled.rs`) is one of these and a
//! key.

// Without `time` or `net` nothing arms a timer: only the loop uses the cell.
#![cfg_attr(not(any(feature = "time", feature = "net")), allow(dead_code))]

use std::cell::{RefCell, RefMut};
use std::rc::Rc;
use std::task::Waker;

use super::{Instant, Timers};
use crate::reactor::{Reactor, TaskRef};

/// A runtime's timer store and its reactor (see the module docs).
pub(crate) struct TimerCell {
    timers: RefCell<Timers>,
    reactor: Rc<Reactor>,
}

impl TimerCell {
    /// An empty store whose time starts at `now`, for the runtime of
    /// `reactor`.
    pub(crate) fn new(now: Instant, reactor: Rc<Reactor>) -> TimerCell {
        TimerCell {
            timers: RefCell::new(Timers::new(now)),
            reactor,
        }
    }

    /// The store, borrowed. Never held across user code (a waker's wake,
    /// clone or drop): the store hands wakers back instead.
    #[inline]
    pub(crate) fn store(&self) -> RefMut<'_, Timers> {
        self.timers.borrow_mut()
    }

    /// The store, for a look.
    #[cfg(test)]
    pub(crate) fn store_ref(&self) -> std::cell::Ref<'_, Timers> {
        self.timers.borrow()
    }

    /// The task `waker` is the own waker of, if this runtime is polling it
    /// now: what to store instead of a clone of the waker.
    #[inline]
    pub(crate) fn own_task(&self, waker: &Waker) -> Option<TaskRef> {
        self.reactor.own_task(waker)
    }
}
