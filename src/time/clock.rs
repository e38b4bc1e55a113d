//! The runtime's clock: the system's monotonic clock, or a paused one that
//! tests move by hand: [`pause`], [`resume`], [`advance`], and
//! `Builder::start_paused`, with tokio's names.
//!
//! Owned by the runtime's core (one clock per runtime). Read by
//! [`Instant::now`](super::Instant::now) (through the thread's current
//! runtime; outside one, the system clock) and by the loop, which reads it
//! after each wait to fire timers and, while it is paused and the loop has
//! nothing else to do, moves it to the next timer (`Core::turn`).
//!
//! | state     | `now()`                    | entered by | left by |
//! |-----------|----------------------------|------------|---------|
//! | `Real`    | the system clock           | a new runtime | `pause` |
//! | `Paused`  | `at`, fixed                | `pause`, `start_paused(true)` | `resume`; `advance` and the loop's skip ahead move `at` forward |
//! | `Resumed` | `base` + system time since `since` | `resume` | `pause` |
//!
//! The clock never goes back: `pause` freezes the current reading,
//! `resume` carries on from the frozen one.
//!
//! Production note: tokio has the same clock behind its `test-util`
//! feature, and also stops its auto-advance while a `spawn_blocking` job
//! runs; ember does the same.

// Without `time`, only the loop reads the clock (it is never paused).
#![cfg_attr(not(feature = "time"), allow(dead_code))]

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(feature = "time")]
use std::time::Duration;

use crate::sys::clock::monotonic_ns;

/// Whether any runtime's clock in this process has ever been paused.
/// Until one is, every clock reads the system's, and [`now`] skips the
/// look-up of the current runtime: one relaxed load instead of a
/// thread-local access and a borrow, on every `Instant::now()` of a program
/// that never pauses time. A thread pauses only its own runtime's clock,
/// after setting this on that same thread, so it sees its own store.
static EVER_PAUSED: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Real,
    Paused { at: u64 },
    Resumed { base: u64, since: u64 },
}

/// One runtime's clock (see the module docs).
#[derive(Debug)]
pub(crate) struct Clock {
    state: Cell<State>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Clock {
        let state = match paused {
            true => {
                EVER_PAUSED.store(true, Ordering::Relaxed);
                State::Paused { at: monotonic_ns() }
            }
            false => State::Real,
        };
        Clock {
            state: Cell::new(state),
        }
    }

    /// The clock's reading, in nanoseconds (`CLOCK_MONOTONIC`'s unless it
    /// was ever paused).
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match self.state.get() {
            State::Real => monotonic_ns(),
            State::Paused { at } => at,
            State::Resumed { base, since } => base + monotonic_ns().saturating_sub(since),
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        matches!(self.state.get(), State::Paused { .. })
    }

    /// Moves a paused clock forward to `to` (never back); the loop's skip
    /// ahead to its next timer. Does nothing to a running clock.
    pub(crate) fn skip_to(&self, to: u64) {
        if let State::Paused { at } = self.state.get() {
            self.state.set(State::Paused { at: at.max(to) });
        }
    }

    #[cfg(feature = "time")]
    fn pause(&self) -> Result<(), &'static str> {
        if self.is_paused() {
            return Err("`ember::time::pause` called while the clock is already paused");
        }
        EVER_PAUSED.store(true, Ordering::Relaxed);
        self.state.set(State::Paused { at: self.now() });
        Ok(())
    }

    #[cfg(feature = "time")]
    fn resume(&self) -> Result<(), &'static str> {
        let State::Paused { at } = self.state.get() else {
            return Err("`ember::time::resume` called while the clock is not paused");
        };
        self.state.set(State::Resumed {
            base: at,
            since: monotonic_ns(),
        });
        Ok(())
    }

    #[cfg(feature = "time")]
    fn advance(&self, by: Duration) -> Result<u64, &'static str> {
        let State::Paused { at } = self.state.get() else {
            return Err("`ember::time::advance` called while the clock is not paused: call `ember::time::pause()` first");
        };
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let at = at.saturating_add(by);
        self.state.set(State::Paused { at });
        Ok(at)
    }
}

/// The current runtime's clock reading, or the system's outside a runtime.
#[inline]
pub(crate) fn now() -> u64 {
    if !EVER_PAUSED.load(Ordering::Relaxed) {
        return monotonic_ns();
    }
    crate::runtime::context::clock_now().unwrap_or_else(monotonic_ns)
}

/// Runs `f` on the current runtime's clock; panics (at the caller) with
/// `f`'s error, or outside a runtime.
#[cfg(feature = "time")]
#[track_caller]
fn with_runtime_clock<T>(what: &str, f: impl FnOnce(&Clock) -> Result<T, &'static str>) -> T {
    let core = crate::runtime::context::current();
    match core.map(|core| f(&core.clock)) {
        Some(Ok(value)) => value,
        Some(Err(why)) => panic!("{why}"),
        None => panic!(
            "`{what}` called outside an ember runtime: the clock it stops is the \
             runtime's; call it inside `ember::block_on` (or `Runtime::block_on`)"
        ),
    }
}

/// Pauses the current runtime's clock, as tokio's `time::pause`.
///
/// From now on [`Instant::now`](super::Instant::now) returns the same
/// instant, which moves only when [`advance`] is called or when the
/// runtime has nothing else to do: then it skips ahead to the next timer's
/// deadline at once, so a test that sleeps for an hour takes no time. The
/// runtime first checks, without blocking, that no I/O event or wake is
/// waiting, and it does not skip ahead while a
/// [`spawn_blocking`](crate::spawn_blocking) job runs. `std::time::Instant`
/// is not affected.
///
/// # Panics
/// Outside an ember runtime, or if the clock is already paused.
///
/// ```
/// use std::time::Duration;
/// use ember::time::{self, Instant};
///
/// ember::block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // returns at once
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// });
/// ```
#[cfg(feature = "time")]
#[track_caller]
pub fn pause() {
    with_runtime_clock("ember::time::pause", Clock::pause);
}

/// Resumes the current runtime's clock, as tokio's `time::resume`: it runs
/// again from the instant it was paused at (it does not jump back to the
/// system clock's reading).
///
/// # Panics
/// Outside an ember runtime, or if the clock is not paused.
#[cfg(feature = "time")]
#[track_caller]
pub fn resume() {
    with_runtime_clock("ember::time::resume", Clock::resume);
}

/// Moves the paused clock forward by `duration`, as tokio's
/// `time::advance`, then lets the timers it passed fire: it returns once
/// the runtime has looked at its timers at the new instant (their tasks
/// are woken; they may run after this returns, in any order).
///
/// # Panics
/// Outside an ember runtime, or if the clock is not paused.
///
/// # Cancel safety
/// The clock moves at the first poll; dropping the future after that
/// loses nothing but the wait for the runtime's look at its timers.
///
/// ```
/// use std::time::Duration;
/// use ember::time::{self, Instant};
///
/// ember::block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::advance(Duration::from_secs(5)).await;
///     assert_eq!(Instant::now() - start, Duration::from_secs(5));
/// });
/// ```
#[cfg(feature = "time")]
pub async fn advance(duration: Duration) {
    let until = with_runtime_clock("ember::time::advance", |clock| clock.advance(duration));
    super::sleep_until(super::Instant::from_ns(until)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_stands_still_and_resumes_where_it_stopped() {
        let clock = Clock::new(true);
        let at = clock.now();
        assert_eq!(clock.now(), at);
        clock.skip_to(at - 1);
        assert_eq!(clock.now(), at, "never back");
        clock.skip_to(at + 10);
        assert_eq!(clock.now(), at + 10);
        #[cfg(feature = "time")]
        {
            assert_eq!(clock.advance(Duration::from_nanos(5)), Ok(at + 15));
            assert!(clock.pause().is_err(), "already paused");
            clock.resume().expect("it was paused");
            let after = clock.now();
            assert!(after >= at + 15, "carries on from the paused reading");
            assert!(clock.resume().is_err(), "not paused");
            assert!(clock.advance(Duration::from_secs(1)).is_err());
            clock.pause().expect("it was running");
            assert!(clock.now() >= after);
        }
    }

    #[test]
    fn a_real_clock_is_the_system_clock() {
        let clock = Clock::new(false);
        let a = monotonic_ns();
        let b = clock.now();
        assert!(b >= a && b <= monotonic_ns());
        clock.skip_to(u64::MAX);
        assert!(clock.now() < u64::MAX, "only a paused clock skips");
    }
}
