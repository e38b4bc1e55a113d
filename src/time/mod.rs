//! Time: sleeps, driven by the runtime's timer store.
//!
//! The store (`store.rs`) keeps every armed timer by deadline; the loop
//! waits in `epoll_wait` no longer than the earliest one, then wakes the
//! expired ones. No syscall per timer, no timerfd.

mod sleep;
mod store;

pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Instant;

pub(crate) use store::Timers;
