//! `Sleep`: a future that completes at a deadline.
//!
//! Registers with the runtime's timer store on its first `Pending` poll (so
//! a `Sleep` created and dropped unpolled costs nothing), and removes its
//! entry on drop. Relies on the loop to bound its wait by the earliest
//! deadline and to wake expired timers.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::store::Timers;

/// Waits until `duration` has elapsed.
///
/// `sleep(Duration::ZERO)` completes at its first poll; a duration too long
/// to represent (such as `Duration::MAX`) sleeps until about 30 years from
/// now, which never wakes the loop early.
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
/// # Cancel safety
/// Cancel safe: dropping it cancels the timer (O(log n)) and loses nothing.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    /// The store and key, once armed.
    timer: Option<(Rc<RefCell<Timers>>, usize)>,
}

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
    /// completed: a completed `Sleep` that is reset completes again.
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
            return Poll::Ready(());
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
                let timers = crate::runtime::current_core("polling an ember `Sleep`")
                    .timers
                    .clone();
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
