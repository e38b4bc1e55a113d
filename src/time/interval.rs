//! `Interval`: ticks at a fixed period, and what to do about missed ticks.
//!
//! Called by user code that does periodic work (`tick().await` in a loop, or
//! as a `Stream`). Built on one [`Sleep`] that is reset after each tick, so
//! an interval holds at most one entry in the timer store.
//!
//! Key invariant: a tick is never returned before its scheduled instant; the
//! instant returned is the scheduled one, not the (slightly later) moment
//! the tick was noticed.
//!
//! A tick is *missed* when, by the time it is noticed, the next one is due
//! too (the task was busy for longer than a period). What happens then is
//! the [`MissedTickBehavior`]; the default is `Burst`, as in tokio. Each
//! tick returned takes a unit of the task's cooperative budget (through
//! the `Sleep`, see `runtime/coop.rs`), so a burst of missed ticks still
//! lets the other tasks run.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use super::sleep::{far_deadline, sleep_until, Sleep};
use super::Instant;

/// Ticks every `period`, the first tick at once.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// use ember::time::Instant;
/// ember::block_on(async {
///     let start = Instant::now();
///     let mut every = ember::time::interval(Duration::from_millis(2));
///     every.tick().await; // at once
///     every.tick().await; // 2 ms after the first
///     every.tick().await; // 4 ms after the first
///     assert!(start.elapsed() >= Duration::from_millis(4));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "`ember::time::interval` called with a zero period: an interval needs a \
         period of at least one nanosecond"
    );
    Interval {
        delay: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks are missed (the task was busy for
/// longer than a period, so the next tick is already due when one is
/// noticed).
///
/// For a period of 10 ms started at 0, and a task that is busy from 5 ms to
/// 37 ms, the ticks return at these times (the scheduled instants they
/// report in brackets):
///
/// | behaviour | ticks after the stall |
/// |-----------|------------------------|
/// | `Burst` | 37 \[10\], 37 \[20\], 37 \[30\], 40 \[40\], 50 \[50\] ... |
/// | `Delay` | 37 \[10\], 47 \[47\], 57 \[57\] ... |
/// | `Skip`  | 37 \[10\], 40 \[40\], 50 \[50\] ... |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Catch up: return the missed ticks one after the other, at once, then
    /// keep the original schedule. The number of ticks matches the time
    /// elapsed. The default, as in tokio.
    #[default]
    Burst,
    /// Start again from now: the next tick is one period after the late
    /// one was noticed. Ticks stay at least a period apart.
    Delay,
    /// Drop the missed ticks: the next tick is the next one on the
    /// original schedule that is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// The tick after the one `scheduled` for that instant, noticed `now`.
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        let on_schedule = far_deadline(scheduled, period);
        if now < on_schedule {
            return on_schedule; // nothing missed
        }
        match self {
            MissedTickBehavior::Burst => on_schedule,
            MissedTickBehavior::Delay => far_deadline(now, period),
            MissedTickBehavior::Skip => {
                // How far `now` is into the current period. A tick was
                // missed, so `period <= now - scheduled`, which fits in u64
                // nanoseconds for any machine up less than 584 years.
                let into = (now - scheduled).as_nanos() % period.as_nanos();
                far_deadline(now, period - Duration::from_nanos(into as u64))
            }
        }
    }
}

/// Ticks at a fixed period: from [`interval`] or [`interval_at`].
///
/// Await [`tick`](Self::tick), or use it as a
/// [`Stream`](futures_core::Stream) of the ticks' scheduled instants (it
/// never ends). Holds at most one timer; dropping it cancels it.
#[derive(Debug)]
pub struct Interval {
    /// Due at the next tick's scheduled instant.
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    ///
    /// # Cancel safety
    /// Cancel safe: if it is dropped before it completes, no tick is lost;
    /// the next call returns the same tick.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready` with its scheduled instant, or
    /// `Pending` (and `cx` is woken when it is due).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(Pin::new(&mut self.delay).poll(cx));
        let scheduled = self.delay.deadline();
        let next = self
            .missed_tick_behavior
            .next(scheduled, Instant::now(), self.period);
        Pin::new(&mut self.delay).reset(next);
        Poll::Ready(scheduled)
    }

    /// Makes the next tick one period from now.
    pub fn reset(&mut self) {
        self.reset_at(far_deadline(Instant::now(), self.period));
    }

    /// Makes the next tick due at once.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Makes the next tick due at `deadline`; the ones after follow every
    /// period from there.
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.delay).reset(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What it does when ticks are missed.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Chooses what it does when ticks are missed (default:
    /// [`MissedTickBehavior::Burst`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ember::time::{interval, MissedTickBehavior};
    ///
    /// let mut heartbeat = interval(Duration::from_secs(1));
    /// heartbeat.set_missed_tick_behavior(MissedTickBehavior::Skip);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;

    /// The next tick's scheduled instant; never `None`.
    ///
    /// # Cancel safety
    /// Cancel safe, like [`Interval::tick`].
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}
