//! `Sleep`: a future that completes at a deadline.
//!
//! Registers with the runtime's timer store on its first `Pending` poll (so
//! a `Sleep` created and dropped unpolled, or one whose deadline had passed
//! by the loop's last look, costs nothing), usually by taking the timer its
//! task cancelled last (`cancelled.rs`), and lets its entry go on drop, to
//! the same place. Relies on the loop to bound its wait by the earliest
//! deadline and to fire expired timers.
//!
//! Key invariant: a `Sleep` completes only once a clock reading at or after
//! its deadline exists: the loop's (its timer fired, or the store's time
//! has passed the deadline) or, outside a runtime, its own. So it cannot
//! complete early whatever the loop does. Polls read no clock: the store's
//! time is the loop's last reading, and it is never ahead of the clock.
//! A `Sleep` may complete a poll later than it could: completing takes a
//! unit of the task's cooperative budget (`runtime/coop.rs`), and a task
//! that has spent its budget is woken and polled again first.
//!
//! A timeout's `Sleep` ([`Sleep::after`]) has no deadline until it is
//! armed: a duration from then, made exact by the loop (`Timers::observe`).
//!
//! | state    | `timer`                          | to the next state |
//! |----------|----------------------------------|-------------------|
//! | unarmed  | `None`                           | first poll before the deadline arms it, in the last cancelled timer's entry or a new one (armed); after it, completes |
//! | armed    | `Some`, in the store's wheel or precise tier | the loop fires it, or a poll finds the store's time past the deadline (fired); `reset` moves it |
//! | fired    | `Some`, in no tier               | a poll completes; `reset` re-arms it (armed) |
//! | any      |                                  | drop hands the entry to the thread's last cancelled timer, which removes it unless the next `Sleep` takes it |

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::cancelled::{self, Armed};
#[cfg(feature = "time")]
use super::store::LAZY_MIN;
use super::{Instant, TimerCell, When};
use crate::runtime::context::ArmTimer;
use crate::runtime::coop;

/// Waits until `duration` has elapsed.
///
/// `sleep(Duration::ZERO)` never waits: it completes at its first poll, or
/// (when other timers are armed, as with tokio) at the loop's next look,
/// which does not block. A duration too long to represent (such as
/// `Duration::MAX`) sleeps until about 30 years from now, which never
/// wakes the loop early.
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
/// use std::time::Duration;
/// use ember::time::Instant;
/// ember::block_on(async {
///     let start = Instant::now();
///     ember::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[inline]
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(far_deadline(Instant::now(), duration))
}

/// Waits until `deadline`. A deadline already passed when the loop last
/// looked at its timers completes at the first poll; one that passed since
/// completes at the loop's next look, which does not block.
///
/// # Cancel safety
/// Cancel safe: dropping the [`Sleep`] cancels its timer and loses nothing.
///
/// # Panics
/// The returned future panics if it is polled outside an ember runtime
/// (unless `deadline` has already passed).
///
/// ```
/// use std::time::Duration;
/// use ember::time::Instant;
/// ember::block_on(async {
///     let deadline = Instant::now() + Duration::from_micros(300);
///     ember::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[inline]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        when: Cell::new(When::At(deadline)),
        timer: None,
    }
}

/// `now + duration`, saturating at about 30 years from now (as tokio's
/// `far_future`), so that adding to a deadline never overflows.
#[inline]
pub(crate) fn far_deadline(now: Instant, duration: Duration) -> Instant {
    now.saturating_add(duration.min(FAR))
}

/// About 30 years: the longest wait (as tokio's `far_future`).
const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Future of [`sleep`] and [`sleep_until`]. It is `Unpin`.
///
/// It completes once the clock has reached its deadline: never before, and
/// on an idle loop within about a hundred microseconds after.
///
/// # Cancel safety
/// Cancel safe: dropping it cancels the timer (O(1), no syscall) and
/// loses nothing.
///
/// # Panics
/// If it is polled outside an ember runtime before its deadline: its timer
/// lives in the runtime whose loop polls it, and outside a runtime nothing
/// would ever wake it.
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    /// Its deadline, or (a `timeout`'s, see [`Sleep::after`]) how long
    /// after it is armed; made an instant when asked for (`deadline`).
    when: Cell<When>,
    /// The store and key, once armed.
    timer: Option<Armed>,
}

impl Sleep {
    /// A sleep of `duration` from the instant it is armed (its first poll
    /// that finds it pending) rather than from now, if that is [`LAZY_MIN`]
    /// or longer: what [`timeout`] builds, so that a timeout around every
    /// read costs no clock read of its own (see `Timers::observe` for why
    /// it is never early). Shorter ones are sleeps as any other.
    ///
    /// [`timeout`]: super::timeout
    #[cfg(feature = "time")]
    #[inline]
    pub(crate) fn after(duration: Duration) -> Sleep {
        if duration < LAZY_MIN {
            return sleep(duration);
        }
        let ns = u64::try_from(duration.min(FAR).as_nanos()).unwrap_or(u64::MAX);
        Sleep {
            when: Cell::new(When::After(ns)),
            timer: None,
        }
    }
}

#[cfg(feature = "time")]
impl Sleep {
    /// The instant it completes at.
    pub fn deadline(&self) -> Instant {
        self.instant()
    }

    /// Whether the deadline has passed (by the clock, read now).
    pub fn is_elapsed(&self) -> bool {
        self.has_passed()
    }

    /// Moves the deadline (earlier or later), even after the sleep has
    /// completed: a completed `Sleep` that is reset completes again, at the
    /// new deadline.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ember::time::Instant;
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
        this.when.set(When::At(deadline));
        if let Some((cell, key)) = &this.timer {
            cell.store().rearm(*key, deadline);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match &this.timer {
            None => this.arm(cx),
            Some(_) => this.poll_armed(cx),
        }
    }
}

impl Sleep {
    /// The first poll: completes if the deadline has passed, or else arms
    /// the timer in the current runtime's store.
    ///
    /// Whether the deadline has passed is judged by the store's time (the
    /// instant the loop last fired timers at), which costs no clock read
    /// and is never ahead of the clock: a sleep never completes early. A
    /// deadline that passed since that instant (a `sleep(Duration::ZERO)`,
    /// say) is armed instead, and the loop fires it at its next look
    /// without blocking: the task yields once, as with tokio's wheel.
    ///
    /// The store keeps the task itself, not a clone of its waker, when the
    /// waker is the polled task's own (the common case; see
    /// `Reactor::own_task`).
    #[inline]
    fn arm(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // The common timeout's path: the timer its task cancelled a moment
        // ago, re-armed where it is (see `cancelled.rs`).
        if let Some(armed) = cancelled::reuse(self.when.get(), cx.waker()) {
            // `self.timer` is `None` (`poll` matched it): replacing it
            // drops nothing, and forgetting the `None` spares the check
            // for a value to drop (3 instructions per timeout).
            std::mem::forget(self.timer.replace(armed));
            return Poll::Pending;
        }
        self.arm_new(cx)
    }

    /// [`arm`](Self::arm) with a new entry.
    #[inline(never)]
    fn arm_new(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match crate::runtime::context::arm_timer(self.when.get(), cx.waker()) {
            Some(ArmTimer::Armed(cell, key)) => {
                self.timer = Some((cell, key));
                Poll::Pending
            }
            Some(ArmTimer::Passed) => coop::poll_proceed(cx),
            Some(ArmTimer::Foreign(cell)) => self.arm_foreign(cell, cx),
            None => self.arm_outside_runtime(cx),
        }
    }

    /// [`arm`](Self::arm) with a waker that is not the polled task's own:
    /// the store keeps a clone of it.
    #[inline(never)]
    fn arm_foreign(&mut self, cell: Rc<TimerCell>, cx: &mut Context<'_>) -> Poll<()> {
        let waker = cx.waker().clone();
        let armed = cell.store().arm_waker(self.when.get(), waker, Instant::now);
        match armed {
            Ok(key) => {
                self.timer = Some((cell, key));
                Poll::Pending
            }
            Err(waker) => {
                drop(waker);
                coop::poll_proceed(cx) // passed by the store's time
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn arm_outside_runtime(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.has_passed() {
            return coop::poll_proceed(cx); // no runtime needed
        }
        panic!(
            "`Sleep` polled outside an ember runtime: await it inside \
             `ember::block_on` (or `Runtime::block_on`), or in a task spawned \
             there; the loop that polls a `Sleep` is the one that wakes it"
        );
    }

    /// Whether a poll now may complete it. Not a timeout's first poll
    /// ([`Sleep::after`]): it arms the timer a duration of at least
    /// [`LAZY_MIN`] after the store's time, so it is pending whatever the
    /// clock says.
    #[cfg(feature = "time")]
    #[inline]
    pub(crate) fn may_complete(&self) -> bool {
        self.timer.is_some() || matches!(self.when.get(), When::At(_))
    }

    /// The deadline (see [`fix_deadline`](Self::fix_deadline)).
    fn instant(&self) -> Instant {
        match self.when.get() {
            When::At(deadline) => deadline,
            When::After(ns) => self.fix_deadline(ns),
        }
    }

    /// Whether the deadline has passed, by the clock read now.
    fn has_passed(&self) -> bool {
        let deadline = self.instant();
        Instant::now() >= deadline
    }

    /// Makes a [`When::After`] an instant: `now + duration` if not armed
    /// yet, or else the store's deadline for it (see `Timers::deadline_of`).
    #[cold]
    fn fix_deadline(&self, ns: u64) -> Instant {
        let now = Instant::now();
        let deadline = match &self.timer {
            Some((cell, key)) => cell.store().deadline_of(*key, now),
            None => now.saturating_add(Duration::from_nanos(ns)),
        };
        self.when.set(When::At(deadline));
        deadline
    }

    /// A later poll: completes if the timer fired (the loop's clock reached
    /// the deadline) or the store's time, never ahead of the clock, has
    /// passed it; otherwise makes sure the store wakes this poll's task.
    #[inline(never)]
    fn poll_armed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some((cell, key)) = &self.timer else {
            unreachable!("called for an armed sleep")
        };
        if cell.store().is_due(*key) {
            // Completing costs a unit of the task's cooperative budget, so
            // a loop of expired timers (an `Interval` catching up) yields
            // too. A pending poll costs nothing.
            return coop::poll_proceed(cx);
        }
        let task = cell.own_task(cx.waker());
        let old = cell.store().set_waker(*key, cx.waker(), task);
        drop(old);
        Poll::Pending
    }
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep")
            .field("when", &self.when.get())
            .field("armed", &self.timer.is_some())
            .finish()
    }
}

impl Drop for Sleep {
    #[inline]
    fn drop(&mut self) {
        if let Some(armed) = self.timer.take() {
            // Left armed for the next `Sleep` of its task to take (see
            // `cancelled.rs`): the common timeout is followed by another.
            cancelled::cancel(armed);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The store seen from a running runtime: what `Sleep` leaves in it.

    use super::*;
    use std::future::poll_fn;

    /// How many entries the current runtime's store holds once the loop
    /// has looked at it: after the flush of the last cancelled timer that
    /// `Core::turn` starts with (see `cancelled.rs`).
    fn entries() -> usize {
        let core = crate::runtime::current_core("entries");
        cancelled::flush(&core.timers);
        let n = core.timers.store_ref().len();
        n
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
    fn a_sleep_whose_deadline_passed_before_the_loop_looked_never_enters_the_store() {
        crate::block_on(async {
            let before = Instant::now();
            // The loop looks (and reads the clock) when this one fires.
            sleep(Duration::from_micros(10)).await;
            let mut past = sleep_until(before);
            assert!(poll_once(&mut past).await.is_ready());
            assert_eq!(entries(), 0);
        });
    }

    #[test]
    fn a_zero_sleep_completes_at_once_or_at_the_loops_next_look() {
        crate::block_on(async {
            // With other timers armed, its deadline (now) is after the
            // loop's last look: it is armed, and due at the loop's next
            // look, which does not block. (With none, the store reads the
            // clock when it is armed, and it completes at once.)
            let mut other = sleep(Duration::from_secs(60));
            assert!(poll_once(&mut other).await.is_pending());
            let mut s = sleep(Duration::ZERO);
            let first = poll_once(&mut s).await;
            if first.is_pending() {
                (&mut s).await;
            }
            drop(s);
            assert_eq!(entries(), 1, "only the other one");
        });
    }

    #[test]
    fn a_sleep_polled_after_its_deadline_but_before_the_loop_looked_completes() {
        crate::block_on(async {
            let mut s = sleep(Duration::from_micros(50));
            assert!(poll_once(&mut s).await.is_pending());
            std::thread::sleep(Duration::from_micros(100));
            // Not fired yet (the loop has not looked); yet a later wake of
            // this task (another sleep's) finds it due.
            sleep(Duration::from_micros(200)).await;
            assert!(poll_once(&mut s).await.is_ready());
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
