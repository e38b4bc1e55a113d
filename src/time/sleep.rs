//! `Sleep`: a future that completes at a deadline.
//!
//! Registers with the runtime's timer store on its first `Pending` poll (so
//! a `Sleep` created and dropped unpolled, or one whose deadline has already
//! passed, costs nothing), and removes its entry on drop. Relies on the loop
//! to bound its wait by the earliest deadline and to wake expired timers.
//!
//! Key invariant: a `Sleep` completes only when the clock says its deadline
//! has passed, never because its timer fired (a fired timer just means "poll
//! me again"), so it cannot complete early whatever the loop does. It may
//! complete a poll later than it could: completing takes a unit of the
//! task's cooperative budget (`runtime/coop.rs`), and a task that has spent
//! its budget is woken and polled again first.
//!
//! | state    | `timer`                     | to the next state |
//! |----------|-----------------------------|-------------------|
//! | unarmed  | `None`                      | first `Pending` poll inserts (armed) |
//! | armed    | `Some`, in the heap         | the loop fires it (fired); `reset` moves it |
//! | fired    | `Some`, out of the heap     | `reset` or an early poll re-arms it (armed) |
//! | any      |                             | drop removes the entry |

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::store::Timers;
use crate::runtime::coop;

/// Waits until `duration` has elapsed.
///
/// `sleep(Duration::ZERO)` completes at its first poll; a duration too long
/// to represent (such as `Duration::MAX`) sleeps until about 30 years from
/// now, which never wakes the loop early.
///
/// # Cancel safety
/// Cancel safe: dropping the [`Sleep`] cancels its timer and loses nothing.
///
/// # Panics
/// The returned future panics if it is polled outside an ember runtime
/// (unless its deadline has already passed: then it is ready, and needs
/// no runtime).
///
/// ```
/// use std::time::{Duration, Instant};
/// ember::block_on(async {
///     let start = Instant::now();
///     ember::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(far_deadline(Instant::now(), duration))
}

/// Waits until `deadline`. A deadline in the past completes at the first
/// poll.
///
/// # Cancel safety
/// Cancel safe: dropping the [`Sleep`] cancels its timer and loses nothing.
///
/// # Panics
/// The returned future panics if it is polled outside an ember runtime
/// (unless `deadline` has already passed).
///
/// ```
/// use std::time::{Duration, Instant};
/// ember::block_on(async {
///     let deadline = Instant::now() + Duration::from_micros(300);
///     ember::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// `now + duration`, saturating at about 30 years from now.
pub(crate) fn far_deadline(now: Instant, duration: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);
    now.checked_add(duration.min(FAR)).unwrap_or(now + FAR)
}

/// Future of [`sleep`] and [`sleep_until`]. It is `Unpin`.
///
/// It completes once the clock has reached its deadline: never before, and
/// on an idle loop within about a hundred microseconds after.
///
/// # Cancel safety
/// Cancel safe: dropping it cancels the timer (O(log n), no syscall) and
/// loses nothing.
///
/// # Panics
/// If it is polled outside an ember runtime before its deadline: its timer
/// lives in the runtime whose loop polls it, and outside a runtime nothing
/// would ever wake it.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// The store and key, once armed.
    timer: Option<(Rc<RefCell<Timers>>, usize)>,
}

#[cfg(feature = "time")]
impl Sleep {
    /// The instant it completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (earlier or later), even after the sleep has
    /// completed: a completed `Sleep` that is reset completes again, at the
    /// new deadline.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// ember::block_on(async {
    ///     let mut s = ember::time::sleep(Duration::from_millis(1));
    ///     (&mut s).await;
    ///     let again = Instant::now() + Duration::from_millis(2);
    ///     std::pin::Pin::new(&mut s).reset(again);
    ///     (&mut s).await;
    ///     assert!(Instant::now() >= again);
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        if let Some((timers, key)) = &this.timer {
            timers.borrow_mut().rearm(*key, deadline);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            // Completing costs a unit of the task's cooperative budget, so
            // a loop of expired timers (an `Interval` catching up) yields
            // too. A pending poll costs nothing.
            return coop::poll_proceed(cx);
        }
        match &this.timer {
            Some((timers, key)) => {
                let mut store = timers.borrow_mut();
                if store.has_fired(*key) {
                    // Fired, yet the clock says it is early: impossible with a
                    // monotonic clock, but re-arming is the safe answer.
                    store.rearm(*key, this.deadline);
                }
                let old = store.set_waker(*key, cx.waker());
                drop(store);
                drop(old);
            }
            None => {
                let Some(core) = crate::runtime::context::current() else {
                    panic!(
                        "`Sleep` polled outside an ember runtime: await it inside \
                         `ember::block_on` (or `Runtime::block_on`), or in a task spawned \
                         there; the loop that polls a `Sleep` is the one that wakes it"
                    );
                };
                let timers = core.timers.clone();
                let key = timers
                    .borrow_mut()
                    .insert(this.deadline, cx.waker().clone());
                this.timer = Some((timers, key));
            }
        }
        Poll::Pending
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("armed", &self.timer.is_some())
            .finish()
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((timers, key)) = self.timer.take() {
            let waker = timers.borrow_mut().remove(key);
            drop(waker);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The store seen from a running runtime: what `Sleep` leaves in it.

    use super::*;
    use std::future::poll_fn;

    /// How many entries the current runtime's store holds.
    fn entries() -> usize {
        crate::runtime::current_core("entries")
            .timers
            .borrow()
            .len()
    }

    /// Polls `s` once, with the calling task's waker.
    async fn poll_once(s: &mut Sleep) -> Poll<()> {
        poll_fn(|cx| Poll::Ready(Pin::new(&mut *s).poll(cx))).await
    }

    #[test]
    fn a_hundred_thousand_armed_and_dropped_sleeps_leave_nothing_in_the_store() {
        crate::block_on(async {
            let mut sleeps: Vec<Sleep> = (0..100_000u64)
                .map(|i| sleep(Duration::from_secs(60) + Duration::from_nanos(i)))
                .collect();
            for s in &mut sleeps {
                assert!(poll_once(s).await.is_pending());
            }
            assert_eq!(entries(), 100_000);
            drop(sleeps);
            assert_eq!(entries(), 0);
        });
    }

    #[test]
    fn a_sleep_that_completes_at_its_first_poll_never_enters_the_store() {
        crate::block_on(async {
            let mut s = sleep(Duration::ZERO);
            assert!(poll_once(&mut s).await.is_ready());
            let mut past = sleep_until(Instant::now() - Duration::from_millis(1));
            assert!(poll_once(&mut past).await.is_ready());
            assert_eq!(entries(), 0);
        });
    }

    #[test]
    fn a_fired_and_completed_sleep_keeps_its_entry_until_dropped() {
        crate::block_on(async {
            let mut s = sleep(Duration::from_micros(100));
            (&mut s).await;
            assert_eq!(entries(), 1, "kept, so that `reset` can re-arm it");
            drop(s);
            assert_eq!(entries(), 0);
        });
    }

    #[test]
    fn far_deadlines_saturate_instead_of_overflowing() {
        let now = Instant::now();
        let far = far_deadline(now, Duration::MAX);
        assert!(far > now + Duration::from_secs(86_400 * 365 * 29));
        assert_eq!(far_deadline(now, Duration::ZERO), now);
    }
}
