//! Time: [`sleep()`], [`timeout()`] and [`interval()`], driven by the runtime's
//! timer store, precise to tens of microseconds.
//!
//! Needs the `time` feature (in the default `full`). Without it this module
//! is private: the timer store stays, since the loop asks it for the wait's
//! timeout whatever the features, and so does `Sleep` if `net` is on (its
//! listeners pause after running out of fds, and a Unix connect retries).
//!
//! ```
//! use std::time::Duration;
//! use ember::time::{interval, sleep, timeout};
//!
//! ember::block_on(async {
//!     sleep(Duration::from_micros(200)).await;
//!
//!     let r = timeout(Duration::from_millis(1), sleep(Duration::from_secs(1))).await;
//!     assert!(r.is_err(), "gave up after 1 ms");
//!
//!     let mut ticks = interval(Duration::from_millis(1));
//!     for _ in 0..3 {
//!         ticks.tick().await;
//!     }
//! });
//! ```
//!
//! # Testing with a paused clock
//! As in tokio, [`pause`] (or `Builder::start_paused(true)`) stops the
//! runtime's clock: [`Instant::now`] stands still, [`advance`] moves it,
//! and when the runtime has nothing else to do it skips ahead to the next
//! timer, so a test of an hour-long timeout takes milliseconds. I/O keeps
//! working meanwhile.
//!
//! # How it works
//! Called by user code; relies on the runtime's core, which owns the timer
//! store and the clock and fires the expired timers after every wait
//! (`Core::turn`).
//!
//! | file | holds |
//! | --- | --- |
//! | `store.rs` | the timer store: entries, the two tiers, and the wait's timeout |
//! | `cell.rs` | `TimerCell`: the store as the core and every armed `Sleep` share it |
//! | `cancelled.rs` | the thread's last cancelled timer, for the next `Sleep` to take |
//! | `wheel.rs` | the far tier: a hierarchical timing wheel, O(1) arm and cancel |
//! | `near.rs` | the precise tier: the timers due soon, by exact deadline |
//! | `instant.rs` | [`Instant`]: nanoseconds on the monotonic clock |
//! | `clock.rs` | the runtime's clock, [`pause`], [`resume`], [`advance`] |
//! | `sleep.rs` | [`Sleep`], [`sleep`], [`sleep_until`] |
//! | `timeout.rs` | [`Timeout`], [`Elapsed`], [`timeout`], [`timeout_at`] |
//! | `interval.rs` | [`Interval`], [`MissedTickBehavior`], [`interval`], [`interval_at`] |
//!
//! Every timer of a runtime lives in one store (`store.rs`) owned by the
//! runtime's core, in two tiers: a hierarchical timing wheel (`wheel.rs`)
//! where arming and cancelling cost O(1) and allocate nothing, and a small
//! heap of the timers due within the next few milliseconds (`near.rs`),
//! ordered by exact deadline, from which timers fire. A [`Sleep`] arms its
//! entry the first time it is polled and is not yet due, and lets it go
//! when dropped, with no syscall (the next `Sleep` of its task usually
//! takes it as it is); its polls read no clock (the store knows the instant
//! the loop last looked), nor does a [`timeout`] of 100 ms or more. [`Timeout`] is a future plus a
//! `Sleep`; [`Interval`] is one `Sleep` reset after each tick. See
//! `docs/architecture.md` ("Timers") for the tiers and why.
//!
//! When the loop has nothing to run it blocks in `epoll_pwait2` (Linux
//! 5.11+), whose timeout is a `timespec`, until the earliest deadline, so a
//! 50 µs sleep ends after about 50–150 µs instead of a whole millisecond.
//! Two kernel allowances would make it later, and the loop removes both:
//! the thread's timer slack (50 µs by default; the loop thread sets it to
//! 1 ns, see `sys/thread.rs`) and 0.1% of the timeout (waits longer than
//! 10 ms are cut short and resumed, see `Timers::wait_timeout`). On older
//! kernels, which answer `ENOSYS`, it falls back to `epoll_wait` with the
//! timeout rounded *up* to whole milliseconds. Either way a timer never
//! fires early: a wait that ends early (a signal, `EINTR`, a cut, or a
//! wheel slot to move down) fires nothing that is not due, and a `Sleep`
//! completes only when a clock reading has reached its deadline.
//!
//! Production note: tokio keeps timers in a hierarchical timing wheel
//! (O(1) insert and cancel) of millisecond resolution and waits with
//! `epoll_wait`, so its sleeps end up to about 1 ms late. async-io keeps a
//! `BTreeMap` of deadlines and, through `polling`, arms a timerfd before
//! each wait (one more syscall per wait, but no timer slack). ember's wheel
//! has tokio's shape, and its precise tier keeps nanosecond deadlines for
//! `epoll_pwait2` to wait for.

#[cfg(any(feature = "time", feature = "net"))]
pub(crate) mod cancelled;
mod cell;
mod clock;
mod instant;
#[cfg(feature = "time")]
mod interval;
mod near;
#[cfg(any(feature = "time", feature = "net"))]
mod sleep;
mod store;
#[cfg(feature = "time")]
mod timeout;
mod wheel;

pub(crate) use clock::Clock;
#[cfg(feature = "time")]
pub use clock::{advance, pause, resume};
#[cfg(feature = "time")]
pub use instant::Instant;
#[cfg(not(feature = "time"))]
pub(crate) use instant::Instant;
#[cfg(feature = "time")]
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
#[cfg(feature = "time")]
pub use sleep::{sleep, sleep_until, Sleep};
// `net`'s pauses (after running out of fds, between Unix connect retries).
#[cfg(all(feature = "net", not(feature = "time")))]
pub(crate) use sleep::{sleep, sleep_until, Sleep};
#[cfg(feature = "time")]
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

pub(crate) use cell::TimerCell;

/// Removes the thread's last cancelled timer if it is `cell`'s (see
/// `cancelled.rs`): the loop calls this before it looks at its timers.
#[inline]
pub(crate) fn flush_cancelled(cell: &std::rc::Rc<TimerCell>) {
    #[cfg(any(feature = "time", feature = "net"))]
    cancelled::flush(cell);
    #[cfg(not(any(feature = "time", feature = "net")))]
    let _ = cell;
}
#[cfg(any(feature = "time", feature = "net"))]
pub(crate) use store::When;
pub(crate) use store::{Expired, Timers};
