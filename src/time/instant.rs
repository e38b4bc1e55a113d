//! `Instant`: a point on the runtime's clock, which tests can stop.
//!
//! Called by user code and by every timer (`Sleep`'s deadline, the store's
//! arithmetic). Relies on `clock.rs` for the current time: the real
//! monotonic clock, or the runtime's paused one ([`pause`](super::pause)).
//!
//! An `Instant` is a `u64` of nanoseconds on `CLOCK_MONOTONIC`, the clock
//! `std::time::Instant` reads on Linux, so the store files a deadline with
//! integer arithmetic and no `timespec` subtraction (see `sys/clock.rs`).
//!
//! Conversions with `std::time::Instant` go through one pair of readings
//! taken once per process: the std reading `s` was taken between two
//! readings of ours, `lo` and `hi`, so its own nanosecond count lies in
//! `[lo, hi]` (a few tens of nanoseconds apart). [`Instant::from_std`]
//! counts from `hi` and [`Instant::into_std`] from `lo`: both round toward
//! *later*, so a deadline converted either way never fires early, and is
//! late by at most `hi - lo`.
//!
//! Production note: tokio's `Instant` wraps a `std::time::Instant`, so its
//! conversions are exact, and its timer driver converts each deadline to
//! milliseconds since the driver started (a `timespec` subtraction).

// Without `time` the type is private: the store and `net`'s pauses use
// part of it.
#![cfg_attr(not(feature = "time"), allow(dead_code))]

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::OnceLock;
use std::time::Duration;

use crate::sys::clock::monotonic_ns;

/// A measurement of the runtime's monotonic clock, as in tokio.
///
/// Like [`std::time::Instant`], but read through the runtime: while the
/// runtime's clock is paused ([`pause`](super::pause),
/// [`Builder::start_paused`](crate::runtime::Builder::start_paused)),
/// [`Instant::now`] returns the paused time, which moves only by
/// [`advance`](super::advance) or when the runtime skips ahead to its next
/// timer. Outside a runtime, or while the clock runs, it is the system's
/// monotonic clock, with nanosecond resolution.
///
/// ```
/// use std::time::Duration;
/// use ember::time::Instant;
///
/// ember::block_on(async {
///     let start = Instant::now();
///     ember::time::sleep(Duration::from_millis(1)).await;
///     assert!(start.elapsed() >= Duration::from_millis(1));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// Nanoseconds on `CLOCK_MONOTONIC` (or on the paused clock).
    ns: u64,
}

/// `d` in nanoseconds, if that fits in a `u64` (584 years).
#[inline]
fn nanos(d: Duration) -> Option<u64> {
    d.as_secs()
        .checked_mul(1_000_000_000)?
        .checked_add(u64::from(d.subsec_nanos()))
}

impl Instant {
    /// The runtime's clock now (see the type's docs).
    #[inline]
    pub fn now() -> Instant {
        Instant {
            ns: super::clock::now(),
        }
    }

    pub(crate) const fn from_ns(ns: u64) -> Instant {
        Instant { ns }
    }

    pub(crate) const fn as_ns(self) -> u64 {
        self.ns
    }

    /// The same point in time as a std `Instant` (within tens of
    /// nanoseconds, rounded toward later: see the module docs).
    pub fn from_std(std: std::time::Instant) -> Instant {
        let a = anchor();
        let ns = match std.checked_duration_since(a.std) {
            Some(after) => a.hi.saturating_add(nanos(after).unwrap_or(u64::MAX)),
            None => a.hi.saturating_sub(nanos(a.std - std).unwrap_or(u64::MAX)),
        };
        Instant { ns }
    }

    /// The same point in time as a std `Instant` (within tens of
    /// nanoseconds, rounded toward later). For an instant of a paused
    /// clock, the std instant with the same reading.
    pub fn into_std(self) -> std::time::Instant {
        let a = anchor();
        if self.ns >= a.lo {
            let after = Duration::from_nanos(self.ns - a.lo);
            a.std.checked_add(after).unwrap_or(a.std)
        } else {
            let before = Duration::from_nanos(a.lo - self.ns);
            a.std.checked_sub(before).unwrap_or(a.std)
        }
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.ns.checked_sub(earlier.ns).map(Duration::from_nanos)
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.ns.saturating_sub(earlier.ns))
    }

    /// The time since `self`, on the runtime's clock.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` past the clock's range (584 years of
    /// uptime).
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        let ns = self.ns.checked_add(nanos(duration)?)?;
        Some(Instant { ns })
    }

    /// `self - duration`, or `None` before the clock's start (boot).
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        let ns = self.ns.checked_sub(nanos(duration)?)?;
        Some(Instant { ns })
    }

    /// `self + duration`, capped at the clock's range.
    #[inline]
    pub(crate) fn saturating_add(self, duration: Duration) -> Instant {
        let ns = self.ns.saturating_add(nanos(duration).unwrap_or(u64::MAX));
        Instant { ns }
    }
}

/// A std reading and two of ours around it (see the module docs).
struct Anchor {
    std: std::time::Instant,
    lo: u64,
    hi: u64,
}

fn anchor() -> &'static Anchor {
    static ANCHOR: OnceLock<Anchor> = OnceLock::new();
    ANCHOR.get_or_init(|| {
        let lo = monotonic_ns();
        let std = std::time::Instant::now();
        let hi = monotonic_ns();
        Anchor { std, lo, hi }
    })
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// Past the clock's range (584 years of uptime), as std's does.
    fn add(self, duration: Duration) -> Instant {
        self.checked_add(duration)
            .expect("overflow when adding a duration to an instant")
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// Before the clock's start (boot), as std's does.
    fn sub(self, duration: Duration) -> Instant {
        self.checked_sub(duration)
            .expect("overflow when subtracting a duration from an instant")
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, duration: Duration) {
        *self = *self - duration;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Zero if `earlier` is later, as std's does.
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Instant")
            .field(&Duration::from_nanos(self.ns))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_reads_the_clock_std_reads() {
        let before = std::time::Instant::now();
        let ours = Instant::now();
        let after = std::time::Instant::now();
        assert!(Instant::from_std(before) <= ours + Duration::from_micros(1));
        assert!(ours <= Instant::from_std(after));
    }

    #[test]
    fn conversions_round_toward_later_by_a_few_nanoseconds_at_most() {
        let s = std::time::Instant::now() + Duration::from_secs(5);
        let there = Instant::from_std(s);
        let back = there.into_std();
        assert!(back >= s, "never earlier");
        assert!(back - s < Duration::from_millis(1), "{:?}", back - s);
        let past = std::time::Instant::now() - Duration::from_millis(1);
        assert!(Instant::from_std(past).into_std() >= past);
    }

    #[test]
    fn arithmetic_saturates_or_checks_like_std() {
        let t = Instant::from_ns(1_000);
        assert_eq!(t + Duration::from_nanos(5), Instant::from_ns(1_005));
        assert_eq!(t - Duration::from_nanos(5), Instant::from_ns(995));
        assert_eq!(t - Instant::from_ns(2_000), Duration::ZERO);
        assert_eq!(t.checked_sub(Duration::from_secs(1)), None);
        assert_eq!(t.checked_add(Duration::MAX), None);
        assert_eq!(t.saturating_add(Duration::MAX), Instant::from_ns(u64::MAX));
        assert_eq!(
            Instant::from_ns(3_000).duration_since(t),
            Duration::from_nanos(2_000)
        );
    }
}
